import Tensor

/// max(x, 0) elementwise, for a ReLU that does not follow a Linear or Conv2d (those fuse it).
public final class ReLU: Layer {
    public let name: String
    private let features: Int

    public init(name: String, features: Int) {
        self.name = name
        self.features = features
    }

    public func forward(_ x: Tensor, into y: Tensor, batch: Int) {
        relu(x, into: y, count: batch * features)
    }

    public func backward(input x: Tensor, output y: Tensor, outputGradient dy: Tensor, inputGradient dx: Tensor?, batch: Int,
                         observer: GradientObserver) {
        guard let dx else { return }
        reluBackward(dy, output: y, into: dx, count: batch * features)
    }
}
