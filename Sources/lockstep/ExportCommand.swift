import ArgumentParser
import Checkpoint
import Foundation
import Host
import Interop
import RunConfig

/// `lockstep export`: a checkpoint's model for another framework (`ModelExport`, Docs/interop.md).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's model for PyTorch, Keras, JAX or numpy: weights and a self-contained model.py.",
        discussion: """
            torch: model.safetensors (a state_dict) and an nn.Module; keras: channels-last weights and a keras.Model; jax: a \
            pytree of parameters (Flax's convention) and a pure jax.numpy forward; numpy: the parameters in PyTorch's layouts \
            and a numpy forward; the GPT exports to each. With --reference, reference.safetensors holds \
            Lockstep's own outputs to check a framework against: the logits of the first --examples evaluation images, or \
            for a GPT the greedy continuation of --prompt.
            """)

    @Option(help: "A checkpoint file, or a checkpoint folder (its 'latest').")
    var checkpoint: String

    @Option(help: "torch, keras, jax or numpy.")
    var format: String

    @Option(help: "The folder to write (made if missing).")
    var out: String

    @Flag(help: "Also write reference.safetensors: Lockstep's own outputs to check the export against.")
    var reference = false

    @Option(help: "With --reference: the evaluation images whose logits it holds.")
    var examples = 256

    @Option(help: "With --reference, for a GPT: the prompt, as UTF-8 bytes.")
    var prompt = "In the beginning"

    @Option(help: "With --reference, for a GPT: the tokens of greedy continuation.")
    var tokens = 50

    func run() throws {
        guard let format = ExportFormat(rawValue: format) else {
            throw UsageError("--format must be one of \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(self.format)\"")
        }
        guard examples > 0, tokens > 0, !prompt.isEmpty else { throw UsageError("--examples and --tokens must be positive and --prompt not empty") }
        let loaded = try LoadedCheckpoint.load(CheckpointFolder.resolve(checkpoint))
        let model = try ExportedModel(checkpoint: loaded)
        let files = try ModelExport.write(model, format: format, to: out)
        var referenceNote = ""
        if reference {
            let settings = try TrainingConfig(Config.parse(model.configText, source: "\(loaded.path) (its config)"))
            let tensors: [(name: String, shape: [Int], values: TensorFileWriter.Values)]
            switch model.architecture {
            case let .sequential(spec, _):
                tensors = try ExportReference.sequential(model, spec: spec, config: settings, examples: examples)
                referenceNote = ", reference.safetensors (Lockstep's logits of \(tensors[0].shape[0]) evaluation images)"
            case let .gpt(config):
                let ids = Array(prompt.utf8).map(Int32.init)
                if let bad = ids.first(where: { Int($0) >= config.vocab }) {
                    throw UsageError("--prompt has the byte \(bad), outside the model's vocabulary of \(config.vocab)")
                }
                tensors = try ExportReference.gpt(model, config: config, prompt: ids, tokens: tokens)
                referenceNote = ", reference.safetensors (Lockstep's greedy continuation: \(tokens) tokens)"
            }
            try TensorFileWriter.write(tensors, metadata: ["lockstep.origin": model.origin], to: "\(out)/reference.safetensors")
        }
        Console.line("wrote \(out): \(files.map { $0.split(separator: "/").last.map(String.init) ?? $0 }.joined(separator: ", "))\(referenceNote); \(model.name) for \(format.rawValue)")
    }
}
