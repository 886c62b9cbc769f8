/// A row-major Float32 tensor: a shape over a contiguous range of a `TensorStorage`.
///
/// A `Tensor` is a view with reference semantics, as in llm.c: copying the struct shares the
/// elements, and writes through any copy are seen by all. Views into one storage are how a
/// model's parameters and gradients live in single flat buffers.
public struct Tensor: @unchecked Sendable {
    /// The storage this view reads and writes.
    public let storage: TensorStorage
    /// The index of the first element in `storage`.
    public let offset: Int
    /// The dimensions, outermost first.
    public let shape: [Int]
    /// The number of elements, the product of `shape`.
    public let count: Int

    /// A new zero-filled tensor of the given shape.
    public init(zeros shape: [Int]) {
        let n = Tensor.elementCount(shape)
        self.init(storage: TensorStorage(count: n), offset: 0, shape: shape)
    }

    /// A new tensor holding `values` (row-major) in the given shape.
    public init(shape: [Int], values: [Float]) {
        let n = Tensor.elementCount(shape)
        precondition(values.count == n, "Tensor(shape: \(shape)): \(values.count) values given, \(n) needed")
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: n) }
    }

    /// A view of `Tensor.elementCount(shape)` elements of `storage` starting at `offset`.
    public init(storage: TensorStorage, offset: Int, shape: [Int]) {
        let n = Tensor.elementCount(shape)
        precondition(offset >= 0 && offset + n <= storage.count,
                     "Tensor view [\(offset), \(offset + n)) outside storage of \(storage.count) elements")
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.count = n
    }

    /// The product of the dimensions; every dimension must be non-negative.
    public static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "Tensor: negative dimension in shape \(shape)")
            n *= d
        }
        return n
    }

    /// A view of the same elements in another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(Tensor.elementCount(newShape) == count, "reshape \(shape) -> \(newShape): element counts differ")
        return Tensor(storage: storage, offset: offset, shape: newShape)
    }

    /// A view of `shape` starting `elementOffset` elements into this view.
    public func view(at elementOffset: Int, shape newShape: [Int]) -> Tensor {
        let n = Tensor.elementCount(newShape)
        precondition(elementOffset >= 0 && elementOffset + n <= count,
                     "view [\(elementOffset), \(elementOffset + n)) outside a tensor of \(count) elements")
        return Tensor(storage: storage, offset: offset + elementOffset, shape: newShape)
    }

    /// The first element. Valid while this tensor (or its storage) is alive.
    public var pointer: UnsafeMutablePointer<Float> { storage.base + offset }

    /// The elements as a buffer. Valid while this tensor (or its storage) is alive.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// Element `i` in row-major order.
    public subscript(i: Int) -> Float {
        get {
            precondition(i >= 0 && i < count, "Tensor index \(i) out of range 0..<\(count)")
            return pointer[i]
        }
        nonmutating set {
            precondition(i >= 0 && i < count, "Tensor index \(i) out of range 0..<\(count)")
            pointer[i] = newValue
        }
    }

    /// The elements, copied out in row-major order.
    public func toArray() -> [Float] { Array(buffer) }

    /// Overwrites the elements with `values`, which must have `count` elements.
    public func assign(_ values: [Float]) {
        precondition(values.count == count, "assign: \(values.count) values into \(count) elements")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// Overwrites the elements with those of `other`, which must have the same count.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "assign: \(other.count) elements into \(count)")
        pointer.update(from: other.pointer, count: count)
    }

    /// Sets every element to `value`.
    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }
}
