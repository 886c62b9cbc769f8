/// The owner of one contiguous, zero-initialised, 64-byte aligned block of Floats.
///
/// Several `Tensor` views may share one storage: a model's parameters are one storage with a
/// view per parameter. Storage is shared between threads only under an ownership protocol
/// kept by its user (for gradients: the reducer hands a bucket to the communication thread
/// and takes it back when the all-reduce completes), hence `@unchecked Sendable`.
public final class TensorStorage: @unchecked Sendable {
    /// The first element.
    public let base: UnsafeMutablePointer<Float>
    /// The number of Floats.
    public let count: Int

    /// Allocates `count` zeroed Floats.
    public init(count: Int) {
        precondition(count >= 0, "TensorStorage: negative count \(count)")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
        self.count = count
    }

    deinit { base.deallocate() }
}
