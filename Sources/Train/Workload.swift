import Data
import NN
import RunConfig

/// A run's model and the examples it trains on, as the config names them: the model is built
/// in the buffers the gradient sync strategy chooses, and the examples once the global batch
/// is known.
typealias Workload = (ParameterMemory) throws -> (model: TrainableModel, examples: (_ globalBatch: Int) -> ExampleSource)

enum Workloads {
    /// The workload of `settings` at world size `world`, reading its data first.
    static func make(_ settings: TrainingConfig, world: Int, rank: Int) throws -> Workload {
        let (train, test) = try TrainingData.load(settings)
        let maxBatch = StepPlan.maxMicroBatch(settings.train, world: world)
        return { memory in
            let model = try Sequential(spec: settings.model, maxBatch: maxBatch, memory: memory)
            let sampler = DistributedSampler(datasetCount: train.count, world: world, rank: rank, shuffle: settings.train.shuffle,
                                             seed: settings.train.seed, dropLast: false)
            return (model, { globalBatch in
                ImageExamples(model: model, train: train, test: test, sampler: sampler, globalBatch: globalBatch)
            })
        }
    }
}

/// The training and test sets a config names.
public enum TrainingData {
    public static func load(_ settings: TrainingConfig) throws(DataError) -> (train: LabeledImages, test: LabeledImages) {
        let d = settings.data
        switch d.dataset {
        case .fashionMNIST:
            let sets = try FashionMNIST.load(directory: d.path)
            guard sets.train.imageShape == settings.model.inputShape else {
                throw DataError("\(d.path): images are \(sets.train.imageShape), model.input is \(settings.model.inputShape)")
            }
            return sets
        case .synthetic:
            let all = SyntheticImages.make(count: d.trainCount + d.testCount, classes: d.classes,
                                           imageShape: settings.model.inputShape, noise: d.noise, seed: d.seed)
            return all.split(at: d.trainCount)
        }
    }
}
