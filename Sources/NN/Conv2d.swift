import Tensor

/// A 2-D convolution by im2col and GEMM, optionally followed by a fused ReLU.
///
/// - `weight`: [out, in, k, k], kaiming-uniform with a = √5: U(-1/√(in·k·k), 1/√(in·k·k)).
/// - `bias`: [out], with the same bound.
/// - x: (in, B, H, W) → y: (out, B, OH, OW): channel-major, as every (C, H, W) activation.
///
/// The batch is processed in groups of images whose unfolded patches (in·k·k × G·OH·OW) fill
/// a few MB, so that they stay in cache between im2col and the GEMM that reads them; each
/// group's GEMM writes its columns of y directly (no transpose), and backward unfolds each
/// group again rather than keeping every patch of the batch.
public final class Conv2d: Layer {
    public let name: String
    public let geometry: ConvGeometry
    public let outChannels: Int
    public let relu: Bool

    private var weight: Tensor!, weightGrad: Tensor!, bias: Tensor!, biasGrad: Tensor!
    private var weightIndex = 0
    /// Images per group, and one group's unfolded patches (in·k·k, group·OH·OW), reused for the
    /// input gradient's columns in backward.
    private var group = 1
    private var columns: Tensor!

    /// The unfolded patches of a group are about this many Floats (4 MB).
    static let groupElements = 1 << 20

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
        group = min(max(Conv2d.groupElements / (geometry.patchSize * geometry.outputPlane), 1), maxBatch)
        columns = Tensor(zeros: [geometry.patchSize, group * geometry.outputPlane])
    }

    public func forward(_ x: Tensor, into y: Tensor, batch: Int) {
        let plane = geometry.outputPlane, n = batch * plane
        let w = Matrix(weight, rows: outChannels, cols: geometry.patchSize)
        for first in stride(from: 0, to: batch, by: group) {
            let samples = first..<min(first + group, batch)
            im2col(x, batch: batch, samples: samples, geometry: geometry, into: columns)
            // (out, in·k·k) · (in·k·k, G·OH·OW) -> columns of y (out, B·OH·OW)
            let out = Matrix(y, start: first * plane, rows: outChannels, cols: samples.count * plane, ld: n)
            gemm(w, .none, Matrix(columns, rows: geometry.patchSize, cols: samples.count * plane), .none, into: out)
            addBiasPerRow(out, bias: bias, relu: relu)
        }
    }

    public func backward(input x: Tensor, output y: Tensor, outputGradient dy: Tensor, inputGradient dx: Tensor?, batch: Int,
                         observer: GradientObserver) {
        let plane = geometry.outputPlane, n = batch * plane
        // dy (out, B·OH·OW), masked by the ReLU in place, with the bias gradient on the way.
        reluBackwardWithRowSums(Matrix(dy, rows: outChannels, cols: n), output: Matrix(y, rows: outChannels, cols: n),
                                relu: relu, biasGrad: biasGrad)
        observer.gradientReady(parameter: weightIndex + 1, rows: 0..<outChannels)
        let w = Matrix(weight, rows: outChannels, cols: geometry.patchSize)
        let dW = Matrix(weightGrad, rows: outChannels, cols: geometry.patchSize)
        for first in stride(from: 0, to: batch, by: group) {
            let samples = first..<min(first + group, batch)
            let g = Matrix(dy, start: first * plane, rows: outChannels, cols: samples.count * plane, ld: n)
            let cols = Matrix(columns, rows: geometry.patchSize, cols: samples.count * plane)
            im2col(x, batch: batch, samples: samples, geometry: geometry, into: columns)
            // dW += g · colsᵀ
            gemm(g, .none, cols, .transposed, into: dW, beta: 1)
            if let dx {
                // dcols = Wᵀ · g: (in·k·k, out)·(out, G·OH·OW), folded back into dx.
                gemm(w, .transposed, g, .none, into: cols)
                col2im(columns, batch: batch, samples: samples, geometry: geometry, into: dx)
            }
        }
        // The weight gradient is final only after the last group: report every block now.
        for rows in observer.rowBlocks(ofParameter: weightIndex) {
            observer.gradientReady(parameter: weightIndex, rows: rows)
        }
    }
}
