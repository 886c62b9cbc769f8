import Tensor

/// (C, B, H, W) → (B, C·H·W): from the channel-major layout of convolution activations to the
/// sample-major rows of a Linear layer, flattening each sample in (c, h, w) order as PyTorch
/// does. With one channel the two layouts coincide and the buffer is simply seen in the new
/// shape; otherwise forward and backward transpose.
public final class Flatten: Layer {
    public let name: String
    private let channels: Int
    private let plane: Int

    /// - Parameter inputShape: the per-sample input, e.g. [64, 7, 7] (or already flat).
    public init(name: String, inputShape: [Int]) {
        self.name = name
        channels = inputShape.count == 3 ? inputShape[0] : 1
        plane = inputShape.reduce(1, *) / channels
    }

    public var isReshape: Bool { channels == 1 }

    public func forward(_ x: Tensor, into y: Tensor, batch: Int) {
        if !isReshape { transposePlanes(x, channels: channels, batch: batch, plane: plane, into: y) }
    }

    public func backward(input x: Tensor, output y: Tensor, outputGradient dy: Tensor, inputGradient dx: Tensor?, batch: Int,
                         observer: GradientObserver) {
        guard let dx, !isReshape else { return }
        transposePlanes(dy, channels: channels, batch: batch, plane: plane, into: dx, reverse: true)
    }
}
