import Data
import NN
import RunConfig

/// A run's model and the examples it trains on, as the config names them: the model is built
/// in the buffers the gradient sync strategy chooses, and the examples once the global batch
/// is known.
typealias Workload = (ParameterMemory) throws -> (model: TrainableModel, examples: (_ globalBatch: Int) -> ExampleSource)

enum Workloads {
    /// The workload of `settings` at world size `world`, reading its data first and checking
    /// that each rank's batch fits in its share of the training set.
    /// - Throws: `DataError` for data that cannot be read; `ConfigError` for a context longer
    ///   than the corpus, or a batch larger than the data.
    static func make(_ settings: TrainingConfig, world: Int, rank: Int) throws -> Workload {
        let maxBatch = StepPlan.maxMicroBatch(settings.train, world: world)
        switch settings.model {
        case let .sequential(spec): return try images(settings, spec: spec, maxBatch: maxBatch, world: world, rank: rank)
        case let .gpt(config): return try tokens(settings, config: config, maxBatch: maxBatch, world: world)
        }
    }

    private static func tokens(_ settings: TrainingConfig, config: GPTConfig, maxBatch: Int, world: Int) throws -> Workload {
        let corpus = try TrainingData.corpus(settings, config: config)
        try checkBatch(settings, examplesPerEpoch: corpus.train.count / config.context, world: world)
        let limit = settings.data.validationWindows
        return { memory in
            let model = try GPT(config: config, maxBatch: maxBatch, memory: memory)
            return (model, { _ in
                TokenExamples(model: model, corpus: corpus, seed: settings.train.seed, validationLimit: limit > 0 ? limit : nil)
            })
        }
    }

    private static func images(_ settings: TrainingConfig, spec: ModelSpec, maxBatch: Int, world: Int, rank: Int) throws -> Workload {
        let (train, test) = try TrainingData.load(settings, spec: spec)
        let sampler = DistributedSampler(datasetCount: train.count, world: world, rank: rank, shuffle: settings.train.shuffle,
                                         seed: settings.train.seed, dropLast: false)
        try checkBatch(settings, examplesPerEpoch: sampler.totalSize, world: world)
        return { memory in
            let model = try Sequential(spec: spec, maxBatch: maxBatch, memory: memory, conv: settings.tensor.conv)
            return (model, { globalBatch in
                ImageExamples(model: model, train: train, test: test, sampler: sampler, globalBatch: globalBatch)
            })
        }
    }

    /// Checks that a step's global batch, as the config asks for it, fits in an epoch of
    /// `examplesPerEpoch` (`Trainer.init` checks again once a resumed run has fixed it).
    static func checkBatch(_ settings: TrainingConfig, examplesPerEpoch: Int, world: Int) throws(ConfigError) {
        let perRank = settings.train.batch * settings.train.accumulate
        guard perRank * world > examplesPerEpoch else { return }
        throw ConfigError("\(settings.config.origin(of: "train.batch", "train.accumulate")): " + batchTooLarge(perRank: perRank, examplesPerEpoch: examplesPerEpoch, world: world))
    }

    /// The message for a batch per rank larger than the rank's share of an epoch.
    static func batchTooLarge(perRank: Int, examplesPerEpoch: Int, world: Int) -> String {
        "train.batch × accumulate = \(perRank) per rank exceeds the \(examplesPerEpoch / world) training samples each of \(world) ranks gets per epoch; lower train.batch or use fewer ranks"
    }
}

/// The data a config names.
enum TrainingData {
    /// The training and test images of a sequential model.
    static func load(_ settings: TrainingConfig, spec: ModelSpec) throws(DataError) -> (train: LabeledImages, test: LabeledImages) {
        let d = settings.data
        switch d.dataset {
        case .synthetic:
            let all = SyntheticImages.make(count: d.trainCount + d.testCount, classes: d.classes,
                                           imageShape: spec.inputShape, noise: d.noise, seed: d.seed)
            return all.split(at: d.trainCount)
        default:
            let sets = try FashionMNIST.load(directory: d.path)
            guard sets.train.imageShape == spec.inputShape else {
                throw DataError("\(d.path): images are \(sets.train.imageShape), model.input is \(spec.inputShape)")
            }
            return sets
        }
    }

    /// The token corpus of a GPT, mapped.
    /// - Throws: `DataError`, or `ConfigError` naming model.context when the data holds no window.
    static func corpus(_ settings: TrainingConfig, config: GPTConfig) throws -> TokenCorpus {
        let d = settings.data
        let format: TokenFormat = d.dataset == .text ? .text : (d.format == "auto" ? .tokens : TokenFormat(rawValue: d.format)!)
        let opened = Result { () throws(DataError) in
            d.validationPath.isEmpty
                ? try TokenCorpus(path: d.path, format: format, vocab: config.vocab, context: config.context,
                                  validationFraction: d.validationFraction)
                : try TokenCorpus(trainPath: d.path, validationPath: d.validationPath, format: format, vocab: config.vocab,
                                  context: config.context)
        }
        switch opened {
        case let .success(corpus): return corpus
        case let .failure(error) where error.isShorterThanAWindow:
            throw ConfigError("\(settings.config.origin(of: "model.context")): model.context = \(config.context) is longer than the data: \(error.description)")
        case let .failure(error): throw error
        }
    }
}
