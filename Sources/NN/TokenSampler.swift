import Tensor

/// How the next token is chosen from its logits, as nanoGPT's `generate`: the largest
/// (temperature 0, greedy), or a draw from softmax(logits / temperature), over the `topK`
/// largest logits only when it is set, with one uniform from a generator seeded with `seed`
/// per token, so that a seed always gives the same tokens.
public struct TokenSampler {
    /// 0: greedy.
    public let temperature: Float
    /// nil: every token.
    public let topK: Int?
    private var generator: SeededGenerator
    /// (1, V): the unnormalised probabilities of the latest draw.
    private let weights: Matrix

    /// - Precondition: `temperature` is finite and ≥ 0; `topK` ≥ 1 (above V it keeps all V).
    public init(vocab: Int, temperature: Float, topK: Int? = nil, seed: UInt64) {
        precondition(temperature.isFinite && temperature >= 0 && (topK ?? 1) >= 1,
                     "TokenSampler: temperature \(temperature), top-k \(topK.map(String.init) ?? "none")")
        self.temperature = temperature
        self.topK = topK
        generator = SeededGenerator(seed: seed)
        weights = Matrix(Tensor(zeros: [vocab]), rows: 1, cols: vocab)
    }

    /// The next token for a (1, V) row of logits.
    public mutating func next(_ logits: Matrix) -> Int32 {
        precondition(logits.cols == weights.cols, "TokenSampler: \(logits.cols) logits for a vocabulary of \(weights.cols)")
        guard temperature > 0 else { return Int32(argmax(logits)) }
        var floor = -Float.infinity
        if let topK, topK < logits.cols { floor = kthLargest(logits, topK) }
        // A uniform in [0, 1) from the top 53 bits.
        let u = Double(generator.next() >> 11) * 0x1p-53
        return Int32(sampleSoftmax(logits, temperature: temperature, floor: floor, uniform: u, weights: weights))
    }
}
