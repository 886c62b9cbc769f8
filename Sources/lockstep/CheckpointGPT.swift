import Checkpoint
import NN
import RunConfig

/// The GPT of a checkpoint, for `lockstep generate`: rebuilt from the config the checkpoint
/// records (its model.* keys) for one sequence, its parameters copied from the first tensors of
/// the data section.
struct CheckpointGPT {
    let model: GPT
    /// What the model was trained on: bytes ("text") or another tokenizer's ids ("tokens").
    let dataset: DataSettings.Dataset
    /// The file read, after resolving a folder to its `latest`.
    let path: String
    /// The optimizer steps the checkpoint was written after.
    let step: Int

    /// Reads and verifies `argument`, a checkpoint file or folder, and rebuilds its GPT.
    /// - Throws: `CheckpointError` for a file that cannot be read or is corrupt, a config that
    ///   cannot be read back, or a model that is not a GPT.
    static func load(_ argument: String) throws -> CheckpointGPT {
        let checkpoint = try LoadedCheckpoint.load(CheckpointFolder.resolve(argument))
        let path = checkpoint.path
        let read = Result { () throws(ConfigError) in
            try TrainingConfig(Config.parse(checkpoint.metadata.config, source: "\(path) (its config)"))
        }
        let settings: TrainingConfig
        switch read {
        case let .success(s): settings = s
        case let .failure(error): throw CheckpointError("\(path): the config it records cannot be read: \(error.description)")
        }
        guard case let .gpt(config) = settings.model else {
            throw CheckpointError("\(path): holds a model.type = \(settings.config["model.type"]) model (\(settings.modelName)), not a GPT; lockstep generate samples from GPT checkpoints")
        }
        let model = try GPT(config: config, maxBatch: 1)
        try checkpoint.copyParameters(into: model.parameters)
        return CheckpointGPT(model: model, dataset: settings.data.dataset, path: path, step: checkpoint.metadata.step)
    }
}
