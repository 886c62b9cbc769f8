import Comm
import Foundation
import NN
import RunConfig

/// Evaluation across the world, each example counted exactly once: rank r evaluates examples
/// r, r + world, r + 2·world, … with no padding (unlike a padded DistributedSampler, which
/// would count some examples twice and skew the metrics), then one all-reduce sums the loss
/// sums, the right predictions and the predictions. It decides when it runs: every
/// train.eval_every steps, at each epoch's end and at the last step.
final class Evaluator {
    /// The mean loss per prediction, and the share of predictions that were right.
    struct Result: Sendable, Equatable {
        var loss: Double
        var accuracy: Double

        /// The loss in bits: nats / ln 2.
        var bitsPerPrediction: Double { loss / log(2) }
    }

    private let model: TrainableModel
    private let source: ExampleSource
    private let comm: Communicator
    private let every: Int
    private let indices: [Int]

    init(model: TrainableModel, source: ExampleSource, comm: Communicator, settings: TrainingConfig.TrainSettings) {
        self.model = model
        self.source = source
        self.comm = comm
        every = settings.evalEvery
        indices = Array(stride(from: comm.rank, to: source.evaluationCount, by: comm.size))
    }

    /// Whether to evaluate after step `step` (1-based).
    func isDue(step: Int, epochEnds: Bool, last: Bool) -> Bool {
        (every > 0 && step % every == 0) || epochEnds || last
    }

    func evaluate() throws(CommError) -> Result {
        var correct = 0, lossSum = 0.0
        var start = 0
        while start < indices.count {
            let batch = min(model.maxBatch, indices.count - start)
            source.loadEvaluation(indices[start..<(start + batch)])
            let sums = model.evaluate(batch: batch)
            lossSum += sums.loss
            correct += sums.correct
            start += batch
        }
        var totals = [Double(correct), lossSum, Double(indices.count * model.predictionsPerExample)]
        try totals.withUnsafeMutableBufferPointer { (b) throws(CommError) in try comm.allReduce(b, .sum) }
        return Result(loss: totals[1] / max(totals[2], 1), accuracy: totals[0] / max(totals[2], 1))
    }
}
