import ArgumentParser
import Checkpoint
import Foundation
import Host

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Inspect and verify checkpoints.",
        subcommands: [Inspect.self, Verify.self])

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a checkpoint's tensors, shapes, step, epoch and config.")

        @Argument(help: "A checkpoint file, or a checkpoint folder (its 'latest').")
        var path: String

        @Flag(help: "Print JSON, with each tensor's sum and first values.")
        var json = false

        func run() throws {
            let c = try LoadedCheckpoint.load(CheckpointFolder.resolve(path))
            let m = c.metadata
            if json {
                var tensors: [[String: Any]] = []
                for e in c.header.entries {
                    let values = c.tensor(e.name) ?? []
                    tensors.append(["name": e.name, "dtype": e.dtype, "shape": e.shape,
                                    "sum": values.reduce(0.0) { $0 + Double($1) }, "first": values.prefix(4).map(Double.init)])
                }
                let object: [String: Any] = ["path": c.path, "metadata": c.header.metadata, "tensors": tensors]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
                Console.line(String(decoding: data, as: UTF8.self))
                return
            }
            Console.line("\(c.path): Lockstep \(m.lockstepVersion) checkpoint, valid")
            Console.line("step \(m.step), epoch \(m.epoch + 1) (\(m.epochStep) steps in), world \(m.world), global batch \(m.globalBatch), optimizer \(m.optimizer) after \(m.optimizerSteps) steps")
            Console.line("tensors (\(c.header.entries.count), \(c.header.dataLength) bytes):")
            let width = c.header.entries.map(\.name.count).max() ?? 0
            for e in c.header.entries {
                Console.line("  \(e.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(e.dtype)  [\(e.shape.map(String.init).joined(separator: ", "))]")
            }
            Console.line("config (hash \(m.configHash.prefix(16))):")
            for line in m.config.split(separator: "\n") { Console.line("  \(line)") }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exit 0 if a checkpoint is valid; 1 with the reason if not.")

        @Argument(help: "A checkpoint file, or a checkpoint folder (its 'latest').")
        var path: String

        func run() throws {
            let c = try LoadedCheckpoint.load(CheckpointFolder.resolve(path))
            let digest = c.header.metadata[Checkpoint.ChecksumKey.data] ?? "?"
            Console.line("\(c.path): valid (step \(c.metadata.step), \(c.header.entries.count) tensors, SHA-256 \(digest.prefix(16))…)")
        }
    }
}
