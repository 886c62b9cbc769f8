import ArgumentParser
import Bench
import Checkpoint
import Foundation
import Host
import Reports
import RunConfig
import Tensor
import Train

@main
struct LockstepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockstep",
        abstract: "Data-parallel training on CPUs over MPI.",
        version: Lockstep.version,
        subcommands: [TrainCommand.self, GenerateCommand.self, BenchCommand.self, CheckpointCommand.self, ScaleCommand.self,
                      ReportCommand.self, CostModelCommand.self, ExportCommand.self])

    /// Runs the CLI: parse errors exit with 2, like config errors; help and version with 0.
    static func main() {
        ProcessorCheck.requireKernelFeatures()
        ProcessorCheck.restartWithBetterBLASKernel()
        TensorStorage.onOutOfMemory { bytes in Failure.exit(OutOfMemory(bytes: bytes)) }
        if let unknown = UnknownCommand.find(in: Array(CommandLine.arguments.dropFirst()), root: Self.self) {
            Failure.reportUsage(unknown.message, hint: unknown.hint)
            Foundation.exit(ExitCode.usage)
        }
        let command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            Failure.reportParseError(fullMessage(for: error))
            Foundation.exit(ExitCode.usage)
        }
        do {
            var runnable = command
            try runnable.run()
            World.finish()
        } catch {
            // `--help` is parsed as the help command, whose run() throws the help request.
            if exitCode(for: error) == .success { exit(withError: error) }
            Failure.exit(error)
        }
    }
}
