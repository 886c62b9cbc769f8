import Tensor

/// Provides a model's two flat buffers of `count` zeroed Floats each: the parameters and the
/// gradients. By default they are the process's own; the trainer may place them in memory
/// the ranks of a node share.
public typealias ParameterMemory = (_ count: Int) throws -> (values: TensorStorage, gradients: TensorStorage)

/// One named parameter tensor inside the flat buffers.
public struct ParameterSlice: Sendable, Equatable {
    /// e.g. "fc1.weight".
    public let name: String
    /// Weights are [out, in] (Linear) or [out, in, k, k] (Conv2d); biases are [out].
    public let shape: [Int]
    /// Element offset into `ParameterStore.values` and `.gradients`.
    public let offset: Int
    public let count: Int

    /// The leading dimension: gradients are computed and reported in blocks of rows.
    public var rows: Int { shape.first ?? 1 }
    /// Elements per row.
    public var rowLength: Int { rows == 0 ? 0 : count / rows }
    /// This slice's elements in the flat buffer.
    public var range: Range<Int> { offset..<(offset + count) }
}

/// All parameters of a model in ONE flat Float buffer, the gradients in a second buffer of the
/// same layout, and the table of named slices that maps between them and the layers.
///
/// Layers hold views into these buffers. The reducer cuts `gradients` into buckets, the
/// optimizer updates `values` in one fused pass, and checkpoints write the table and the bytes.
public final class ParameterStore {
    /// The slices in layout order (the forward order of the layers).
    public let slices: [ParameterSlice]
    /// Every parameter, flat: (totalCount).
    public let values: Tensor
    /// Every gradient, flat, in the same layout: (totalCount).
    public let gradients: Tensor

    /// Lays out `shapes` back to back under their `names`, in buffers of this process's own.
    public convenience init(named shapes: [(name: String, shape: [Int])]) {
        self.init(named: shapes, allocate: { ParameterStore.privateMemory($0) })
    }

    /// Lays out `shapes` back to back under their `names`, in buffers of `allocate`'s.
    public init(named shapes: [(name: String, shape: [Int])], allocate: ParameterMemory) rethrows {
        var slices: [ParameterSlice] = []
        var offset = 0
        for (name, shape) in shapes {
            let n = Tensor.elementCount(shape)
            slices.append(ParameterSlice(name: name, shape: shape, offset: offset, count: n))
            offset += n
        }
        self.slices = slices
        let memory = try allocate(offset)
        precondition(memory.values.count >= offset && memory.gradients.count >= offset,
                     "ParameterStore: \(memory.values.count) values and \(memory.gradients.count) gradients for \(offset) parameters")
        values = Tensor(storage: memory.values, offset: 0, shape: [offset])
        gradients = Tensor(storage: memory.gradients, offset: 0, shape: [offset])
    }

    /// Zeroed buffers of this process's own.
    public static func privateMemory(_ count: Int) -> (values: TensorStorage, gradients: TensorStorage) {
        (TensorStorage(count: count), TensorStorage(count: count))
    }

    /// The number of scalar parameters.
    public var totalCount: Int { values.count }

    /// Parameter `index` as a tensor of its own shape.
    public func value(_ index: Int) -> Tensor { view(values, index) }
    /// The gradient of parameter `index` as a tensor of its own shape.
    public func gradient(_ index: Int) -> Tensor { view(gradients, index) }

    /// The index of the slice called `name`.
    public func index(named name: String) -> Int? { slices.firstIndex { $0.name == name } }

    /// The slice holding flat element `element`.
    public func slice(containing element: Int) -> ParameterSlice? {
        slices.first { $0.range.contains(element) }
    }

    /// Sets every gradient to zero.
    public func zeroGradients() { gradients.fill(0) }

    /// A buffer of the parameters' layout, e.g. for optimizer state.
    public func makeStateBuffer() -> Tensor { Tensor(zeros: [totalCount]) }

    /// `flat` (in this store's layout) restricted to slice `index`, in the slice's shape.
    public func view(_ flat: Tensor, _ index: Int) -> Tensor {
        let s = slices[index]
        return flat.view(at: s.offset, shape: s.shape)
    }
}
