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
        maxPoolForward(x, planes: 0..<batch * geometry.channels, geometry: geometry, into: y, argmax: argmax)
    }

    public func backward(input x: Tensor, output y: Tensor, outputGradient dy: Tensor, inputGradient dx: Tensor?, batch: Int,
                         observer: GradientObserver) {
        guard let dx else { return }
        maxPoolBackward(dy, argmax: UnsafeBufferPointer(argmax), planes: 0..<batch * geometry.channels, geometry: geometry,
                        into: dx)
    }
}
