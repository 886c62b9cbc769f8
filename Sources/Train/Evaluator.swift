import Comm
import Foundation
import NN
import RunConfig

/// Evaluation across the world, each example counted exactly once (unlike a padded
/// DistributedSampler, which would count some examples twice and skew the metrics):
///
/// 1. The evaluation set is cut into blocks of `model.maxBatch` consecutive examples (the last
///    may be shorter); rank r evaluates blocks r, r + world, r + 2·world, …, each as one batch.
/// 2. Each block's loss sum and count of right predictions go into the block's own slot of a
///    vector that is zero elsewhere, and one all-reduce sums the vectors. Each slot has one
///    non-zero term, so the sum is exact in any order.
/// 3. Every rank adds the slots up in block order.
///
/// A block's batch and its rows are the same at any world size, so with one block size (in
/// deterministic mode, train.chunk) the metrics are the same bits at any world size.
/// It decides when it runs: every train.eval_every steps, at each epoch's end and at the last step.
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
    /// The evaluation set's blocks, each evaluated as one batch.
    private let blocks: [Range<Int>]

    init(model: TrainableModel, source: ExampleSource, comm: Communicator, settings: TrainingConfig.TrainSettings) {
        self.model = model
        self.source = source
        self.comm = comm
        every = settings.evalEvery
        let count = source.evaluationCount, size = max(model.maxBatch, 1)
        blocks = stride(from: 0, to: count, by: size).map { $0..<min($0 + size, count) }
    }

    /// Whether to evaluate after step `step` (1-based).
    func isDue(step: Int, epochEnds: Bool, last: Bool) -> Bool {
        (every > 0 && step % every == 0) || epochEnds || last
    }

    func evaluate() throws(CommError) -> Result {
        // Slots 2b and 2b + 1: block b's right predictions and loss sum.
        var slots = [Double](repeating: 0, count: 2 * blocks.count)
        for b in stride(from: comm.rank, to: blocks.count, by: comm.size) {
            source.loadEvaluation(ArraySlice(blocks[b]))
            let sums = model.evaluate(batch: blocks[b].count)
            slots[2 * b] = Double(sums.correct)
            slots[2 * b + 1] = sums.loss
        }
        try slots.withUnsafeMutableBufferPointer { (s) throws(CommError) in try comm.allReduce(s, .sum) }
        var correct = 0.0, lossSum = 0.0
        for b in blocks.indices {
            correct += slots[2 * b]
            lossSum += slots[2 * b + 1]
        }
        let predictions = Double(source.evaluationCount * model.predictionsPerExample)
        return Result(loss: lossSum / max(predictions, 1), accuracy: correct / max(predictions, 1))
    }
}
