import Tensor

/// The GPT as the trainer steps it: each example is a window of T tokens with T next-token
/// targets, and the loss sums over every position.
extension GPT: TrainableModel {
    public var predictionsPerExample: Int { config.context }

    public var modelFlopsPerExample: Double { Double(config.modelFlopsPerToken) * Double(config.context) }

    public func forward(batch: Int, gradientScale: Float) -> Double {
        forward(batch: batch)
        return lossAndGradient(batch: batch, gradientScale: gradientScale)
    }

    public func evaluate(batch: Int) -> (loss: Double, correct: Int) {
        forward(batch: batch)
        let n = batch * config.context
        return (loss(batch: batch), countArgmaxMatches(Matrix(logits, rows: n, cols: config.vocab), labels: UnsafeBufferPointer(targets)))
    }
}
