import Tensor

/// A GPT-2-style language model in nanoGPT's layout: token and position embeddings, `layers`
/// pre-LayerNorm transformer blocks, a final LayerNorm, and an output head tied to the token
/// embedding. Linear and LayerNorm layers have biases; the MLP is 4C wide with tanh GELU.
///
/// Its parameters live in one `ParameterStore`, sliced and named exactly as nanoGPT's
/// `named_parameters()`: `transformer.wte.weight` [V, C], `transformer.wpe.weight` [T, C], the
/// blocks' `transformer.h.{i}.…` (see `TransformerBlock`), `transformer.ln_f.weight` and
/// `.bias`; weights are [out, in]. The head has no slice of its own: it reads wte, and its
/// gradient and the embedding's accumulate into wte's one gradient.
///
/// Every buffer is preallocated for `maxBatch` sequences of T tokens, of which the first `batch`
/// are live. A step is `tokens, targets ← data; forward; lossAndGradient; backward`, with no
/// allocation.
public final class GPT {
    public let config: GPTConfig
    public let maxBatch: Int
    public let parameters: ParameterStore
    /// (maxBatch, T) token ids in `0..<V`; the data pipeline writes them.
    public let tokens: UnsafeMutableBufferPointer<Int32>
    /// (maxBatch, T) next-token ids in `0..<V`; the data pipeline writes them.
    public let targets: UnsafeMutableBufferPointer<Int32>
    /// (maxBatch, T, V).
    public let logits: Tensor
    /// (maxBatch, T, V): the loss's gradient with respect to the logits.
    public let logitsGradient: Tensor

    let blocks: [TransformerBlock]
    /// The residual stream, L + 1 buffers of (maxBatch·T, C): the embeddings, then each block's output.
    let residuals: [Tensor]
    let lnF: LayerNorm
    /// wte [V, C] and wpe [T, C] and their gradients.
    let tokenTable: Matrix, positionTable: Matrix
    private let tokenGradient: Matrix, positionGradient: Matrix
    /// (maxBatch·T, C): the residual stream's gradient, from the head down to the embeddings.
    private let residualGradient: Tensor
    private let scratch: BlockScratch

    /// nanoGPT's parameter names and shapes for `config`, in layout order.
    public static func parameterShapes(_ config: GPTConfig) -> [(name: String, shape: [Int])] {
        let c = config.embed
        var shapes: [(name: String, shape: [Int])] = [("transformer.wte.weight", [config.vocab, c]),
                                                       ("transformer.wpe.weight", [config.context, c])]
        for i in 0..<config.layers {
            shapes += TransformerBlock.parameterShapes(embed: c).map { ("transformer.h.\(i).\($0.suffix)", $0.shape) }
        }
        return shapes + [("transformer.ln_f.weight", [c]), ("transformer.ln_f.bias", [c])]
    }

    /// Builds the model, its flat buffers from `memory`; the parameters are zero until `initialize(seed:)`.
    /// - Throws: what `memory` throws.
    public init(config: GPTConfig, maxBatch: Int, memory: ParameterMemory = ParameterStore.privateMemory) throws {
        precondition(maxBatch > 0 && config.vocab > 0 && config.context > 0 && config.layers >= 0 && config.heads > 0
                     && config.embed > 0 && config.embed % config.heads == 0, "GPT: \(config) with maxBatch \(maxBatch)")
        self.config = config
        self.maxBatch = maxBatch
        let parameters = try ParameterStore(named: Self.parameterShapes(config), allocate: memory)
        self.parameters = parameters
        let rows = maxBatch * config.context, c = config.embed
        tokens = .allocate(capacity: rows)
        tokens.initialize(repeating: 0)
        targets = .allocate(capacity: rows)
        targets.initialize(repeating: 0)
        logits = Tensor(zeros: [maxBatch, config.context, config.vocab])
        logitsGradient = Tensor(zeros: logits.shape)
        let attention = config.attention
        blocks = (0..<config.layers).map { TransformerBlock(parameters, first: 2 + 12 * $0, attention: attention, maxBatch: maxBatch) }
        residuals = (0...config.layers).map { _ in Tensor(zeros: [rows, c]) }
        lnF = LayerNorm(parameters, index: 2 + 12 * config.layers, maxRows: rows)
        tokenTable = Matrix(parameters.value(0), rows: config.vocab, cols: c)
        positionTable = Matrix(parameters.value(1), rows: config.context, cols: c)
        tokenGradient = Matrix(parameters.gradient(0), rows: config.vocab, cols: c)
        positionGradient = Matrix(parameters.gradient(1), rows: config.context, cols: c)
        residualGradient = Tensor(zeros: [rows, c])
        scratch = BlockScratch(attention: attention, maxBatch: maxBatch)
    }

    deinit {
        tokens.deallocate()
        targets.deallocate()
    }

    /// nanoGPT's initialisation, drawn slice by slice in layout order from a generator seeded
    /// with `seed`: weights and both embeddings N(0, 0.02²), the residual projections
    /// (`attn.c_proj.weight`, `mlp.c_proj.weight`) N(0, (0.02/√(2L))²), biases 0, LayerNorm
    /// weights 1.
    public func initialize(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let projectionStd = 0.02 / Float(2 * config.layers).squareRoot()
        for (index, slice) in parameters.slices.enumerated() {
            let values = parameters.view(parameters.values, index).buffer
            if slice.name.hasSuffix(".bias") {
                values.update(repeating: 0)
            } else if slice.shape.count == 1 {
                values.update(repeating: 1)
            } else {
                rng.fillNormal(values, mean: 0, std: slice.name.hasSuffix("c_proj.weight") ? projectionStd : 0.02)
            }
        }
    }

    private func checkBatch(_ batch: Int, _ caller: String) {
        precondition(batch > 0 && batch <= maxBatch, "GPT.\(caller): batch \(batch) outside 1...\(maxBatch)")
    }

    /// Checks here, where release builds keep preconditions (the Tensor kernels drop theirs),
    /// that the ids in `range` are tokens: an id out of range would read outside wte.
    func checkIds(_ ids: UnsafeMutableBufferPointer<Int32>, _ range: Range<Int>, _ what: String) {
        let vocab = Int32(config.vocab)
        precondition(ids[range].allSatisfy { $0 >= 0 && $0 < vocab }, "GPT: \(what) outside 0..<\(vocab)")
    }

    func stream(_ i: Int, rows: Int) -> Matrix { Matrix(residuals[i], rows: rows, cols: config.embed) }

    /// Runs the first `batch` sequences of `tokens` through the model into `logits`.
    public func forward(batch: Int) {
        checkBatch(batch, "forward")
        let n = batch * config.context
        checkIds(tokens, 0..<n, "a token")
        embeddingForward(tokens: UnsafeBufferPointer(tokens), tokenTable: tokenTable, positionTable: positionTable,
                         sequences: batch, context: config.context, into: residuals[0])   // (n, C)
        for (i, block) in blocks.enumerated() {
            block.forward(stream(i, rows: n), into: stream(i + 1, rows: n), batch: batch)
        }
        lnF.forward(stream(config.layers, rows: n))
        // logits = ln_f(x)·wteᵀ: (n, C)·(C, V)
        gemm(lnF.output(rows: n), .none, tokenTable, .transposed, into: Matrix(logits, rows: n, cols: config.vocab))
    }

    /// The summed next-token cross-entropy of the first `batch` sequences' logits against
    /// `targets` (over batch·T positions), and, in `logitsGradient`,
    /// `gradientScale · (softmax - onehot)`. A mean over a global batch of G sequences is
    /// `1/(G·T)`.
    public func lossAndGradient(batch: Int, gradientScale: Float) -> Double {
        checkBatch(batch, "lossAndGradient")
        let n = batch * config.context
        checkIds(targets, 0..<n, "a target")
        return softmaxCrossEntropy(logits: Matrix(logits, rows: n, cols: config.vocab), labels: UnsafeBufferPointer(targets),
                                   gradient: Matrix(logitsGradient, rows: n, cols: config.vocab), gradientScale: gradientScale)
    }

    /// The summed cross-entropy of the first `batch` sequences, without a gradient (for evaluation).
    public func loss(batch: Int) -> Double {
        checkBatch(batch, "loss")
        checkIds(targets, 0..<batch * config.context, "a target")
        return softmaxCrossEntropy(logits: Matrix(logits, rows: batch * config.context, cols: config.vocab),
                                   labels: UnsafeBufferPointer(targets), gradient: nil, gradientScale: 0)
    }

    /// Propagates `logitsGradient` back to the embeddings, accumulating into
    /// `parameters.gradients` and telling `observer` as each block of them becomes final: ln_f,
    /// then the blocks from the last down (each from mlp.c_proj back to ln_1, a bias before its
    /// weight), then wpe, and wte last, after the embedding's backward adds to what the head put there.
    public func backward(batch: Int, observer: GradientObserver) {
        checkBatch(batch, "backward")
        let n = batch * config.context, c = config.embed
        let dLogits = Matrix(logitsGradient, rows: n, cols: config.vocab)
        let dNorm = Matrix(scratch.narrow, rows: n, cols: c), dResidual = Matrix(residualGradient, rows: n, cols: c)
        // The head: dwte += dlogitsᵀ·ln_f(x): (V, n)·(n, C); d ln_f(x) = dlogits·wte: (n, V)·(V, C).
        gemm(dLogits, .transposed, lnF.output(rows: n), .none, into: tokenGradient, beta: 1)
        gemm(dLogits, .none, tokenTable, .none, into: dNorm)
        residualGradient.view(at: 0, shape: [n * c]).fill(0)
        lnF.backward(dNorm, input: stream(config.layers, rows: n), inputGradient: dResidual, observer: observer)
        for i in stride(from: config.layers - 1, through: 0, by: -1) {
            blocks[i].backward(input: stream(i, rows: n), residualGradient: dResidual, scratch: scratch, batch: batch,
                               observer: observer)
        }
        embeddingBackward(residualGradient, tokens: UnsafeBufferPointer(tokens), sequences: batch, context: config.context,
                          tokenGradient: tokenGradient, positionGradient: positionGradient)
        observer.reportWhole(parameter: 1)
        observer.reportWhole(parameter: 0)
    }
}
