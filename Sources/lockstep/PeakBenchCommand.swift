import ArgumentParser
import Foundation
import Host

/// `lockstep bench peak`: one core's fp32 FMA rate, the denominator of MFU, measured afresh and
/// cached for this machine's runs.
struct PeakBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak",
        abstract: "Measure one core's peak fp32 FMA rate (the MFU denominator) and cache it for this machine.",
        discussion: """
            Runs fused multiply-adds on the widest vectors the CPU has (AVX-512 or AVX2), held in \
            registers, on the calling core: a warm-up, then --rounds short rounds, the best of which \
            is the peak. Training and `bench step` read the cached figure; a run that finds none \
            measures it at start-up. Run it on an otherwise idle core (e.g. under taskset -c 1).
            """)

    @Option(help: "Timed rounds; the best is the peak.")
    var rounds = 9

    @Option(help: "Write the result as JSON to this file.")
    var json: String?

    func run() throws {
        guard rounds > 0 else { throw UsageError("--rounds must be positive, got \(rounds)") }
        guard let peak = CorePeak.measure(rounds: rounds) else {
            throw UsageError("bench peak: this CPU has neither AVX-512 nor AVX2 with FMA, so Lockstep reports no MFU on it")
        }
        let cache = MachineCache()
        let path = CorePeak.cachePath(cache)
        let stored = cache.write(peak, at: path)
        let rates = peak.roundGflops.map { NumberText.fixed($0, 1) }.joined(separator: ", ")
        Console.line("peak \(NumberText.fixed(peak.gflops, 1)) GFLOP/s per core (fp32 FMA, \(peak.vectorWidth) lanes; rounds: \(rates))")
        Console.line(stored ? "cached in \(path)" : "not cached: cannot write \(path)")
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try write(encoder.encode(peak), to: json)
        }
    }
}
