import Tensor

/// The keys and values of one sequence's positions 0..<count in every block of a `GPT`, which
/// its incremental forward (`GPT.forward(appending:to:)`) reads and appends to, so that a new
/// token costs one position's work instead of the whole sequence's.
///
/// Per block, two buffers of (heads, T, hs) (`CausalSelfAttention.cacheCount` elements):
/// 2·L·T·C Floats in all, allocated once.
public final class KVCache {
    /// T, the most positions it holds.
    public let context: Int
    /// The positions cached, 0...T.
    public internal(set) var count = 0
    /// Block i's keys and values, (heads, T, hs) each.
    let keys: [Tensor], values: [Tensor]

    /// An empty cache for models of `config`.
    public init(_ config: GPTConfig) {
        context = config.context
        let elements = config.attention.cacheCount
        keys = (0..<config.layers).map { _ in Tensor(zeros: [elements]) }
        values = (0..<config.layers).map { _ in Tensor(zeros: [elements]) }
    }

    /// Forgets every position: the next forward starts at position 0.
    public func clear() { count = 0 }
}
