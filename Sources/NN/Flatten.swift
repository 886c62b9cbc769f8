import Tensor

/// (B, d1, d2, …) → (B, d1·d2·…): the same buffer seen in a new shape, so nothing moves.
public final class Flatten: Layer {
    public let name: String

    public init(name: String) { self.name = name }

    public var isReshape: Bool { true }
    public func forward(_ x: Tensor, into y: Tensor, batch: Int) {}
    public func backward(input x: Tensor, output y: Tensor, outputGradient dy: Tensor, inputGradient dx: Tensor?, batch: Int,
                         observer: GradientObserver) {}
}
