import Tensor

/// A 2-D convolution by im2col and GEMM, or by oneDNN's direct convolution
/// (`DirectConvolution`, when `algorithm` asks for it and oneDNN creates its primitives),
/// optionally followed by a fused ReLU and a fused max pooling.
///
/// - `weight`: [out, in, k, k], kaiming-uniform with a = √5: U(-1/√(in·k·k), 1/√(in·k·k)).
/// - `bias`: [out], with the same bound.
/// - x: (in, B, H, W) → y: (out, B, OH, OW): channel-major, as every (C, H, W) activation;
///   with `pool`, y is the pooled (out, B, PH, PW).
///
/// The batch is processed in groups of images whose unfolded patches (in·k·k × G·OH·OW) fill
/// about 1 MB, so that they stay in cache between im2col and the GEMM that reads them; each
/// group's GEMM writes its columns of the output directly (no transpose), and backward unfolds
/// each group again rather than keeping every patch of the batch.
///
/// With `pool`, the bias and the ReLU are applied after the pooling, to a quarter of the
/// values: adding a channel's bias and a ReLU are both monotone, so max(relu(v + b)) over a
/// window is relu(max(v) + b), and backward masks the pooled gradient and routes it to the
/// same winner (where rounding makes two different values equal once the bias is added, to the
/// larger one rather than the first). The full-size output lives only in a scratch buffer,
/// pooled group by group while it is in cache, and that buffer holds the full-size gradient in
/// backward.
///
/// On the oneDNN path the ReLU and the pooling run after the bias, as oneDNN's post-op and
/// pooling primitive; the same values up to rounding. A batch runs in parts of a power of two
/// images each (83: 64, 16, 2, 1), so that the primitives, made at `allocate` for every power
/// of two up to the largest batch, serve every batch size (as `train.balance` varies it).
/// Should oneDNN fail to create or run them, the layer convolves by im2col.
public final class Conv2d: Layer {
    public let name: String
    public let geometry: ConvGeometry
    public let outChannels: Int
    public let relu: Bool
    /// The max pooling over the (out, OH, OW) output, if fused.
    public var pool: ConvGeometry? { pooling?.geometry }
    private let pooling: MaxPool2d?
    public let algorithm: ConvAlgorithm
    /// The oneDNN convolutions of 1, 2, 4, … images; empty when oneDNN cannot create them all,
    /// or failed to run one.
    private var direct: [DirectConvolution] = []
    /// Whether the last forward ran through oneDNN, so that backward follows it.
    private var forwardWasDirect = false

    private var weight: Tensor!, weightGrad: Tensor!, bias: Tensor!, biasGrad: Tensor!
    private var weightIndex = 0
    /// Images per group, and one group's unfolded patches (in·k·k, group·OH·OW), reused for the
    /// input gradient's columns in backward.
    private var group = 1
    private var columns: Tensor!
    /// With `pool`: the unpooled output (out, B·OH·OW) in forward, its gradient in backward.
    private var unpooled: Tensor!

    /// What a group reads and writes between im2col and the GEMM (and the pooling) is about
    /// this many Floats (1 MB), so that it stays in a core's L2 cache (2 MB here) between them.
    static let groupElements = 1 << 18

    /// - Parameter pool: a max pooling of `outChannels` planes of OH × OW to run inside this layer.
    /// - Parameter algorithm: `.im2col`, or oneDNN's direct convolution where it works (`.auto` and `.onednn` alike).
    public init(name: String, geometry: ConvGeometry, outChannels: Int, relu: Bool, pool: ConvGeometry? = nil,
                algorithm: ConvAlgorithm = .im2col) {
        precondition(pool.map { $0.channels == outChannels && $0.height == geometry.outHeight && $0.width == geometry.outWidth } ?? true,
                     "Conv2d \(name): pooling \(String(describing: pool)) does not match the output (\(outChannels), \(geometry.outHeight), \(geometry.outWidth))")
        self.name = name
        self.geometry = geometry
        self.outChannels = outChannels
        self.relu = relu
        self.algorithm = algorithm
        pooling = pool.map { MaxPool2d(name: "\(name) pooling", geometry: $0) }
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
        // Per image: its unfolded patches, and with pooling its unpooled output too.
        let perImage = geometry.outputPlane * (geometry.patchSize + (pool == nil ? 0 : outChannels))
        group = min(max(Conv2d.groupElements / perImage, 1), maxBatch)
        columns = Tensor(zeros: [geometry.patchSize, group * geometry.outputPlane])
        if let pooling {
            unpooled = Tensor(zeros: [outChannels, maxBatch * geometry.outputPlane])
            pooling.allocate(maxBatch: maxBatch)
        }
        direct = []
        guard algorithm != .im2col else { return }
        var made: [DirectConvolution] = []
        for power in 0..<Int.bitWidth - maxBatch.leadingZeroBitCount {
            guard let conv = DirectConvolution(geometry: geometry, outChannels: outChannels, images: 1 << power, relu: relu,
                                               pool: pool) else { return }
            made.append(conv)
        }
        direct = made
    }

    /// Whether this layer runs through oneDNN: false for `.im2col`, or when oneDNN could not
    /// create its primitives or failed to run them.
    public var usesOneDNN: Bool { !direct.isEmpty }

    /// The oneDNN implementations this layer uses, e.g. "jit:avx512_core", or nil on im2col.
    public var oneDNNImplementation: String? { direct.last?.implementation }

    /// Runs `body` on each part of a batch, a power of two images, largest first; stops at the first false.
    private func forEachPart(_ batch: Int, _ body: (DirectConvolution, _ first: Int) -> Bool) -> Bool {
        var first = 0
        for power in stride(from: direct.count - 1, through: 0, by: -1) where batch & (1 << power) != 0 {
            guard body(direct[power], first) else { return false }
            first += 1 << power
        }
        return true
    }

    /// The planes of `samples` in a (out, B, ·, ·) activation: one run of planes per channel.
    private func planes(of samples: Range<Int>, batch: Int) -> some Sequence<Range<Int>> {
        (0..<outChannels).lazy.map { c in (c * batch + samples.lowerBound)..<(c * batch + samples.upperBound) }
    }

    public func forward(_ x: Tensor, into y: Tensor, batch: Int) {
        forwardWasDirect = usesOneDNN && forEachPart(batch) { conv, first in
            conv.forward(x, batch: batch, first: first, weight: weight, bias: bias, into: y)
        }
        if forwardWasDirect { return }
        direct = []
        forwardByIm2col(x, into: y, batch: batch)
    }

    private func forwardByIm2col(_ x: Tensor, into y: Tensor, batch: Int) {
        let plane = geometry.outputPlane, n = batch * plane
        let w = Matrix(weight, rows: outChannels, cols: geometry.patchSize)
        for first in stride(from: 0, to: batch, by: group) {
            let samples = first..<min(first + group, batch)
            im2col(x, batch: batch, samples: samples, geometry: geometry, into: columns)
            // (out, in·k·k) · (in·k·k, G·OH·OW) -> columns of the output (out, B·OH·OW)
            let out = Matrix(unpooled ?? y, start: first * plane, rows: outChannels, cols: samples.count * plane, ld: n)
            gemm(w, .none, Matrix(columns, rows: geometry.patchSize, cols: samples.count * plane), .none, into: out)
            if let pooling {
                for planes in planes(of: samples, batch: batch) { pooling.forward(unpooled, into: y, planes: planes) }
            } else {
                addBiasPerRow(out, bias: bias, relu: relu)
            }
        }
        if let pool {
            addBiasPerRow(Matrix(y, rows: outChannels, cols: batch * pool.outputPlane), bias: bias, relu: relu)
        }
    }

    public func backward(input x: Tensor, output y: Tensor, outputGradient dy: Tensor, inputGradient dx: Tensor?, batch: Int,
                         observer: GradientObserver) {
        // dy (out, B·(P)H·(P)W), masked by the ReLU in place, with the bias gradient on the way.
        let outputs = batch * (pool?.outputPlane ?? geometry.outputPlane)
        reluBackwardWithRowSums(Matrix(dy, rows: outChannels, cols: outputs), output: Matrix(y, rows: outChannels, cols: outputs),
                                relu: relu, biasGrad: biasGrad)
        observer.gradientReady(parameter: weightIndex + 1, rows: 0..<outChannels)
        if forwardWasDirect {
            // The parts' weight gradients are added once all have run, in a fixed order.
            if forEachPart(batch, { conv, first in
                conv.backward(dy, batch: batch, first: first, weight: weight, inputGradient: dx)
            }) {
                _ = forEachPart(batch) { conv, _ in
                    conv.addWeightGradient(into: weightGrad)
                    return true
                }
                observer.reportWhole(parameter: weightIndex)
                return
            }
            // oneDNN failed: the layer goes back to im2col, whose pooling needs its own forward.
            direct = []
            if pool != nil { forwardByIm2col(x, into: y, batch: batch) }
        }
        backwardByIm2col(input: x, outputGradient: dy, inputGradient: dx, batch: batch)
        // The weight gradient is final only after the last group: report every block now.
        observer.reportWhole(parameter: weightIndex)
    }

    /// The weight and input gradients by im2col, from dy already masked by the ReLU.
    private func backwardByIm2col(input x: Tensor, outputGradient dy: Tensor, inputGradient dx: Tensor?, batch: Int) {
        let plane = geometry.outputPlane, n = batch * plane
        let w = Matrix(weight, rows: outChannels, cols: geometry.patchSize)
        let dW = Matrix(weightGrad, rows: outChannels, cols: geometry.patchSize)
        for first in stride(from: 0, to: batch, by: group) {
            let samples = first..<min(first + group, batch)
            if let pooling {
                // The group's unpooled gradient, from the winners of its windows.
                for planes in planes(of: samples, batch: batch) { pooling.backward(dy, into: unpooled, planes: planes) }
            }
            let g = Matrix(unpooled ?? dy, start: first * plane, rows: outChannels, cols: samples.count * plane, ld: n)
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
    }
}
