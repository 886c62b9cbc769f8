import ArgumentParser
import Bench
import Checkpoint
import Comm
import CommMPI
import Foundation
import Host
import Reports
import RunConfig
import Train

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks.",
        subcommands: [AllReduceBenchCommand.self, StepBenchCommand.self, PeakBenchCommand.self, CompareBenchCommand.self])
}

struct AllReduceBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "All-reduce time and bus bandwidth per algorithm and size, nccl-tests style (run under mpirun).")

    @Option(help: "Sizes in bytes, with K/M suffixes, comma separated.")
    var sizes = "4K,64K,256K,1M,4M,16M,64M"

    @Option(help: "Algorithms, comma separated: auto, mpi, ring, rhd, hierarchical.")
    var algorithms = "mpi,ring,rhd,hierarchical,auto"

    @Option(help: "Timed calls per size (default: as the mpi4py peer, 5 to 200 by size).")
    var iterations: Int?

    @Option(help: "Ranks per emulated node for hierarchical (0: the real nodes).")
    var ranksPerNode = 0

    @Option(help: "none, fp16 or bf16.")
    var compression = "none"

    @Option(help: "Poll interval of the waits in µs (0: spin in MPI).")
    var pollUs = 0

    @Flag(help: "Also check each result against the serial sum.")
    var verify = false

    @Option(help: "Write the table as JSON to this file (rank 0).")
    var json: String?

    func run() throws {
        try World.start()  // first, so that only rank 0 reports a usage error
        let sizeList = try sizes.split(separator: ",").map { try parseSize(String($0)) }
        let algorithmList = try algorithms.split(separator: ",").map { name in
            guard let a = AllReduceAlgorithm(rawValue: String(name)) else {
                throw UsageError("--algorithms: unknown algorithm \(name) (use \(AllReduceAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return a
        }
        guard let compressionMode = Compression(rawValue: compression) else {
            throw UsageError("--compression: expected none, fp16 or bf16, got \(compression)")
        }
        if let iterations, iterations < 1 { throw UsageError("--iterations must be positive, got \(iterations)") }
        guard MPIRuntime.isInitialized else {
            throw UsageError("bench allreduce needs several ranks: run it under mpirun -np N (or srun --mpi=pmix)")
        }
        let rank = World.rank
        if rank == 0 { Console.line(AllReduceBenchmark.header) }
        let report = try AllReduceBenchmark.run(
            sizes: sizeList, algorithms: algorithmList, iterations: iterations, verify: verify,
            options: AllReduceOptions(compression: compressionMode, ranksPerNode: ranksPerNode, pollMicroseconds: pollUs),
            print: true)
        if rank == 0, let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try write(encoder.encode(report), to: json)
        }
        if verify, report.rows.contains(where: { $0.correct == false }) {
            throw TrainingError("bench allreduce --verify: some results differ from the serial sum (marked WRONG)")
        }
    }

    private func parseSize(_ text: String) throws -> Int {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let (digits, scale) = t.hasSuffix("K") ? (t.dropLast(), 1 << 10) : t.hasSuffix("M") ? (t.dropLast(), 1 << 20)
            : t.hasSuffix("B") ? (t.dropLast(), 1) : (Substring(t), 1)
        guard let n = Int(digits), n > 0 else { throw UsageError("--sizes: cannot read \(text) (e.g. 4K, 1M, 4096)") }
        return n * scale
    }
}

struct StepBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Time a training step against the sum of its GEMMs alone (one process, one OpenBLAS thread).")

    @OptionGroup var configOptions: ConfigOptions

    @Option(help: "Steps per round.")
    var steps = 30

    @Option(help: "Rounds; steps and GEMMs alternate, medians over rounds are reported.")
    var rounds = 5

    @Option(help: "Write the result as JSON to this file.")
    var json: String?

    func run() throws {
        guard steps > 0, rounds > 0 else { throw UsageError("--steps and --rounds must be positive") }
        let settings = try configOptions.load()
        let r = try StepBenchmark.run(settings: settings, steps: steps, rounds: rounds, peak: CorePeak.cachedOrMeasured(store: true)?.peak)
        Console.line("\(r.model), batch \(r.batch), one process, one OpenBLAS thread (\(r.openblas))")
        Console.line(r.gemmPlan)
        Console.line("  GEMM (m×n×k, op)        provider  calls        ms   GFLOP/s")
        for g in r.gemms {
            Console.line("  " + g.shape.padding(toLength: 24, withPad: " ", startingAt: 0)
                         + g.provider.padding(toLength: 8, withPad: " ", startingAt: 0)
                         + String(format: "%7d  %8.3f  %8.1f", g.calls, g.ms, g.gflops))
        }
        let rate = r.predictionsPerS == r.samplesPerS ? String(format: "%.0f samples/s", r.samplesPerS)
            : String(format: "%.0f samples/s, %.0f tokens/s", r.samplesPerS, r.predictionsPerS)
        Console.line(String(format: "step %.2f ms (median of %d rounds, min %.2f, max %.2f); GEMMs alone %.2f ms; ratio %.3f; ",
                            r.stepMsMedian, rounds, r.stepMsMin, r.stepMsMax, r.gemmFloorMs, r.ratio)
                     + rate + String(format: "; peak RSS %.0f MB", r.peakRssMb))
        if let peak = r.peakGflopsPerCore, let mfu = r.mfu, let floorMfu = r.gemmFloorMfu {
            Console.line(String(format: "MFU %.1f%% (%.3g model FLOPs per step against %.1f GFLOP/s per core); the GEMMs alone would give %.1f%%",
                                mfu * 100, r.modelFlopsPerStep, peak, floorMfu * 100))
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try write(encoder.encode(r), to: json)
        }
    }
}
