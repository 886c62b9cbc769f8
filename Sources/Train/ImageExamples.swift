import Data
import NN

/// Labelled images for a `Sequential` classifier. Each epoch's global order comes from the
/// `DistributedSampler` (PyTorch's: a seeded permutation, padded to a multiple of the world);
/// a step of global batch G consumes its positions [t·G, (t+1)·G), whatever the world size,
/// so that a run can stop at one world size and resume at another on the same order.
final class ImageExamples: ExampleSource {
    private let model: Sequential
    private let sampler: DistributedSampler
    private let training: BatchLoader
    private let test: BatchLoader
    private let globalBatch: Int
    /// The global order of `orderEpoch`, and the epoch it is of.
    private var order: [Int]
    private var orderEpoch: Int
    /// The indices of the batch being loaded, preallocated.
    private var indices: [Int]

    init(model: Sequential, train: LabeledImages, test: LabeledImages, sampler: DistributedSampler, globalBatch: Int) {
        self.model = model
        self.sampler = sampler
        self.globalBatch = globalBatch
        training = BatchLoader(data: train)
        self.test = BatchLoader(data: test)
        order = sampler.globalOrder(epoch: 0)
        orderEpoch = 0
        indices = [Int](repeating: 0, count: model.maxBatch)
    }

    var examplesPerEpoch: Int { sampler.totalSize }

    func loadTraining(_ state: TrainingState, positions: BatchPositions) {
        if orderEpoch != state.epoch {
            order = sampler.globalOrder(epoch: state.epoch)
            orderEpoch = state.epoch
        }
        let first = state.epochStep * globalBatch
        var count = 0
        for p in positions {
            indices[count] = order[first + p]
            count += 1
        }
        training.load(indices[0..<count], into: model.input, labels: model.labels)
    }

    var evaluationCount: Int { test.data.count }

    func loadEvaluation(_ examples: ArraySlice<Int>) {
        test.load(examples, into: model.input, labels: model.labels)
    }
}
