/// The integers of deterministic mode's sums (train.fixed_point), and their headroom.
public enum FixedPointWidth: String, Sendable, CaseIterable {
    case int32, int64

    /// H: a block's values are quantized to at most 2^(W-2-H), so that a sum of 2^H chunk terms
    /// fits. Int32 keeps 24 significant bits for a block's largest value, as Float32 has; Int64
    /// keeps 42 and serves up to 2^20 chunks per step (1024 ranks × 1024 chunks).
    public var headroomBits: Int { self == .int32 ? 6 : 20 }
    /// The most chunks one step may sum.
    public var maxChunks: Int { 1 << headroomBits }
    public var bits: Int { self == .int32 ? 32 : 64 }

    /// train.fixed_point = "auto": Int32, which moves half the bytes, while a step's chunks fit
    /// its headroom; Int64 beyond. The number of chunks per step is the same at every world
    /// size for one global batch, and so is the choice.
    public static func auto(chunks: Int) -> FixedPointWidth { chunks <= int32.maxChunks ? .int32 : .int64 }
}
