import Tensor

/// A 2-D convolution by im2col and one GEMM over the whole batch, optionally followed by a
/// fused ReLU.
///
/// - `weight`: [out, in, k, k], kaiming-uniform with a = √5: U(-1/√(in·k·k), 1/√(in·k·k)).
/// - `bias`: [out], with the same bound.
/// - x: (B, in, H, W) → y: (B, out, OH, OW).
///
/// The GEMM runs with the batch folded into its N dimension (N = B·OH·OW), which keeps
/// OpenBLAS on its large-matrix kernels; its channel-major result is transposed into
/// (B, out, OH, OW) in the same pass that adds the bias and applies the ReLU.
public final class Conv2d: Layer {
    public let name: String
    public let geometry: ConvGeometry
    public let outChannels: Int
    public let relu: Bool

    private var weight: Tensor!, weightGrad: Tensor!, bias: Tensor!, biasGrad: Tensor!
    private var weightIndex = 0
    /// (in·k·k, B·OH·OW): the unfolded input, kept from forward for the weight gradient, then
    /// reused for the input gradient's columns.
    private var columns: Tensor!
    /// (out, B·OH·OW): the channel-major output, and in backward the channel-major gradient.
    private var channelMajor: Tensor!

    public init(name: String, geometry: ConvGeometry, outChannels: Int, relu: Bool) {
        self.name = name
        self.geometry = geometry
        self.outChannels = outChannels
        self.relu = relu
    }

    public var parameterRequests: [ParameterRequest] {
        let k = geometry.kernel
        return [ParameterRequest(suffix: "weight", shape: [outChannels, geometry.channels, k, k], fanIn: geometry.patchSize),
                ParameterRequest(suffix: "bias", shape: [outChannels], fanIn: geometry.patchSize)]
    }

    public func bind(_ store: ParameterStore, first: Int) {
        weightIndex = first
        weight = store.value(first)
        weightGrad = store.gradient(first)
        bias = store.value(first + 1)
        biasGrad = store.gradient(first + 1)
    }

    public func allocate(maxBatch: Int) {
        columns = Tensor(zeros: [geometry.patchSize, maxBatch * geometry.outputPlane])
        channelMajor = Tensor(zeros: [outChannels, maxBatch * geometry.outputPlane])
    }

    public func forward(_ x: Tensor, into y: Tensor, batch: Int) {
        let n = batch * geometry.outputPlane
        im2col(x, batch: batch, geometry: geometry, into: columns)
        // (out, in·k·k) · (in·k·k, B·OH·OW) -> (out, B·OH·OW)
        gemm(Matrix(weight, rows: outChannels, cols: geometry.patchSize), .none,
             Matrix(columns, rows: geometry.patchSize, cols: n), .none,
             into: Matrix(channelMajor, rows: outChannels, cols: n))
        channelMajorToBatchMajor(channelMajor, channels: outChannels, batch: batch, plane: geometry.outputPlane,
                                 bias: bias, relu: relu, into: y)
    }

    public func backward(input x: Tensor, output y: Tensor, outputGradient dy: Tensor, inputGradient dx: Tensor?, batch: Int,
                         observer: GradientObserver) {
        let n = batch * geometry.outputPlane
        // dy (B, out, OH, OW) -> (out, B·OH·OW), masked by the ReLU, with the bias gradient on the way.
        batchMajorToChannelMajor(dy, output: y, channels: outChannels, batch: batch, plane: geometry.outputPlane,
                                 relu: relu, into: channelMajor, biasGrad: biasGrad)
        observer.gradientReady(parameter: weightIndex + 1, rows: 0..<outChannels)
        let g = Matrix(channelMajor, rows: outChannels, cols: n)
        let cols = Matrix(columns, rows: geometry.patchSize, cols: n)
        let dW = Matrix(weightGrad, rows: outChannels, cols: geometry.patchSize)
        for rows in observer.rowBlocks(ofParameter: weightIndex) {
            // dW[rows, :] += g[rows, :] · colsᵀ
            gemm(g.rows(rows), .none, cols, .transposed, into: dW.rows(rows), beta: 1)
            observer.gradientReady(parameter: weightIndex, rows: rows)
        }
        if let dx {
            // dcols = Wᵀ · g: (in·k·k, out)·(out, B·OH·OW), folded back into dx.
            gemm(Matrix(weight, rows: outChannels, cols: geometry.patchSize), .transposed, g, .none, into: cols)
            col2im(columns, batch: batch, geometry: geometry, into: dx)
        }
    }
}
