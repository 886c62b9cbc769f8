import Comm
import Data
import NN
import Tensor

/// Test-set accuracy and loss across the world, each test sample counted exactly once.
///
/// Rank r evaluates samples r, r + world, r + 2·world, … with no padding (unlike a padded
/// DistributedSampler, which would count some samples twice and skew the metrics), then one
/// all-reduce sums the correct counts, the loss sums and the sample counts.
final class Evaluator {
    private let model: Sequential
    private let loader: BatchLoader
    private let comm: Communicator
    private let indices: [Int]
    private var predictions: UnsafeMutableBufferPointer<Int>

    init(model: Sequential, test: LabeledImages, comm: Communicator) {
        self.model = model
        self.comm = comm
        loader = BatchLoader(data: test, capacity: model.maxBatch)
        indices = Array(stride(from: comm.rank, to: test.count, by: comm.size))
        predictions = .allocate(capacity: model.maxBatch)
        predictions.initialize(repeating: 0)
    }

    deinit { predictions.deallocate() }

    /// - Returns: accuracy in 0…1 and the mean loss, over the whole test set.
    func evaluate() throws(CommError) -> (accuracy: Double, loss: Double) {
        var correct = 0, lossSum = 0.0
        var start = 0
        while start < indices.count {
            let batch = min(model.maxBatch, indices.count - start)
            loader.load(indices[start..<(start + batch)], into: model.input)
            model.forward(batch: batch)
            lossSum += CrossEntropy.loss(model, labels: loader.labelBuffer, batch: batch)
            argmaxRows(Matrix(model.logits, rows: batch, cols: model.classes), into: predictions)
            for i in 0..<batch where predictions[i] == Int(loader.labels[i]) { correct += 1 }
            start += batch
        }
        var totals = [Double(correct), lossSum, Double(indices.count)]
        try totals.withUnsafeMutableBufferPointer { (b) throws(CommError) in try comm.allReduce(b, .sum) }
        return (totals[0] / max(totals[2], 1), totals[1] / max(totals[2], 1))
    }
}
