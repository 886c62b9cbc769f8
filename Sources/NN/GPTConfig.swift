import Tensor

/// The shape of a `GPT`: nanoGPT's GPTConfig with biases, no dropout, and the output head tied
/// to the token embedding.
public struct GPTConfig: Equatable, Sendable {
    /// V, the number of token ids.
    public var vocab: Int
    /// T, the sequence length (and the rows of the position embedding).
    public var context: Int
    /// L, the number of transformer blocks.
    public var layers: Int
    public var heads: Int
    /// C, the model width; a multiple of `heads`.
    public var embed: Int

    public init(vocab: Int, context: Int, layers: Int, heads: Int, embed: Int) {
        self.vocab = vocab
        self.context = context
        self.layers = layers
        self.heads = heads
        self.embed = embed
    }

    /// nanoGPT's "baby GPT" (its shakespeare_char config) over bytes: 6 layers, 6 heads, width
    /// 384, context 256, vocabulary 256; 10.8M parameters.
    public static let baby = GPTConfig(vocab: 256, context: 256, layers: 6, heads: 6, embed: 384)

    /// The attention kernel of every block.
    public var attention: CausalSelfAttention { CausalSelfAttention(context: context, heads: heads, embed: embed) }

    /// Parameters per block: two LayerNorms (2C each), c_attn (3C² + 3C), attn.c_proj (C² + C),
    /// c_fc (4C² + 4C) and mlp.c_proj (4C² + C): 12C² + 13C.
    public var parametersPerBlock: Int { 12 * embed * embed + 13 * embed }

    /// Every parameter, the tied head counted once: V·C + T·C + L·(12C² + 13C) + 2C.
    public var parameterCount: Int { (vocab + context) * embed + layers * parametersPerBlock + 2 * embed }

    /// The GEMM FLOPs of one sequence's forward and backward pass, as `GPT` runs them.
    public var flopsPerSequence: GPTFlops {
        let linear = context * 2 * (layers * 12 * embed * embed + vocab * embed)
        return GPTFlops(linearForward: linear, linearBackward: 2 * linear,
                        attentionForward: layers * attention.forwardFlopsPerSequence,
                        attentionBackward: layers * attention.backwardFlopsPerSequence)
    }

    /// The usual model FLOPs per token for MFU (nanoGPT's `estimate_mfu`, PaLM's appendix B):
    /// 6 per weight of the linear maps and the head, 6·(12·L·C² + V·C), plus attention over the
    /// whole T × T square, 12·L·C·T. Embedding lookups, biases and LayerNorms are not counted.
    public var modelFlopsPerToken: Int { 6 * (layers * 12 * embed * embed + vocab * embed) + 12 * layers * embed * context }
}

/// The FLOPs (2 per multiply-add) of the GEMMs in one sequence's forward and backward pass.
public struct GPTFlops: Equatable, Sendable {
    /// The linear maps and the head: 2·T·(12·L·C² + V·C).
    public let linearForward: Int
    /// Their weight and input gradients: twice forward (every input gradient is needed, down to
    /// the embeddings).
    public let linearBackward: Int
    /// Q·Kᵀ and P·V over the causal tiles: L·4·C·A, with A the tiles' area of each T × T matrix
    /// (`CausalSelfAttention.scoreArea`; T² would be the whole square).
    public let attentionForward: Int
    /// dP, dV, dQ and dK over the same tiles: L·8·C·A.
    public let attentionBackward: Int

    public var forward: Int { linearForward + attentionForward }
    public var backward: Int { linearBackward + attentionBackward }
    public var total: Int { forward + backward }
}
