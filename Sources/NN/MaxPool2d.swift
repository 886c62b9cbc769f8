import Tensor

/// 2-D max pooling. x: (C, B, H, W) → y: (C, B, OH, OW). No parameters. A max pooling that
/// follows a Conv2d (and its ReLU) runs inside that Conv2d instead; see `Conv2d`.
public final class MaxPool2d: Layer {
    public let name: String
    public let geometry: ConvGeometry
    /// Per output, the winning index within its input plane, kept from forward for backward.
    private var argmax = UnsafeMutableBufferPointer<Int32>(start: nil, count: 0)

    public init(name: String, geometry: ConvGeometry) {
        self.name = name
        self.geometry = geometry
    }

    deinit { argmax.deallocate() }

    public func allocate(maxBatch: Int) {
        argmax.deallocate()
        argmax = .allocate(capacity: maxBatch * geometry.channels * geometry.outputPlane)
        argmax.initialize(repeating: 0)
    }

    public func forward(_ x: Tensor, into y: Tensor, batch: Int) {
        forward(x, into: y, planes: 0..<batch * geometry.channels)
    }

    /// Pools the (H, W) planes `planes` of x into y, keeping their winners for `backward`: any
    /// run of whole planes, such as one channel's images of a convolution's group.
    public func forward(_ x: Tensor, into y: Tensor, planes: Range<Int>) {
        maxPoolForward(x, planes: planes, geometry: geometry, into: y, argmax: argmax)
    }

    public func backward(input x: Tensor, output y: Tensor, outputGradient dy: Tensor, inputGradient dx: Tensor?, batch: Int,
                         observer: GradientObserver) {
        guard let dx else { return }
        backward(dy, into: dx, planes: 0..<batch * geometry.channels)
    }

    /// Routes the gradient of the planes `planes` back to the winners `forward` kept; those
    /// planes of dx are overwritten.
    public func backward(_ dy: Tensor, into dx: Tensor, planes: Range<Int>) {
        maxPoolBackward(dy, argmax: UnsafeBufferPointer(argmax), planes: planes, geometry: geometry, into: dx)
    }
}
