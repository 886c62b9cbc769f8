import Tensor

/// A parameter a layer asks for: its name suffix, shape, and fan-in for initialisation.
public struct ParameterRequest: Sendable {
    public let suffix: String
    public let shape: [Int]
    public let fanIn: Int
}

/// One step of a `Sequential` model: an explicit `forward` paired with a `backward`.
///
/// Buffers are the model's: a layer reads `x` (batch, inputShape…) and writes `y`
/// (batch, outputShape…), both preallocated for the largest batch, of which the first
/// `batch` samples are live. `backward` accumulates into the (zeroed) parameter gradients
/// and, when asked, writes the input gradient. Nothing allocates after `allocate(maxBatch:)`.
public protocol Layer: AnyObject {
    /// e.g. "fc1"; its parameters are named "fc1.weight" and "fc1.bias".
    var name: String { get }
    /// The parameters this layer needs, in layout order.
    var parameterRequests: [ParameterRequest] { get }
    /// Whether `y` is `x` itself in another shape, so that the model aliases their buffers.
    var isReshape: Bool { get }
    /// Takes views of this layer's parameters and gradients; `first` is the index of its first slice.
    func bind(_ store: ParameterStore, first: Int)
    /// Allocates scratch space for batches of up to `maxBatch` samples.
    func allocate(maxBatch: Int)
    func forward(_ x: Tensor, into y: Tensor, batch: Int)
    /// - Parameters:
    ///   - dy: the gradient of the loss with respect to `y`; a layer may overwrite it.
    ///   - dx: receives the gradient with respect to `x`, or nil when nobody needs it.
    ///   - observer: told as each block of this layer's parameter gradients becomes final.
    func backward(input x: Tensor, output y: Tensor, outputGradient dy: Tensor, inputGradient dx: Tensor?, batch: Int,
                  observer: GradientObserver)
}

extension Layer {
    public var parameterRequests: [ParameterRequest] { [] }
    public var isReshape: Bool { false }
    public func bind(_ store: ParameterStore, first: Int) {}
    public func allocate(maxBatch: Int) {}
}
