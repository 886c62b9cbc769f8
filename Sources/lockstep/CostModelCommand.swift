import ArgumentParser
import Bench
import Checkpoint
import Foundation
import Host
import Reports
import RunConfig
import Train

/// `lockstep cost-model`: fits the α–β–γ all-reduce cost model on benchmark files and prints
/// the parameters and how well they reproduce every measured point.
struct CostModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost-model",
        abstract: "Fit the all-reduce cost model (α, β, γ) on `lockstep bench allreduce --json` files and show its error.",
        discussion: "See Docs/cost-model.md. To project a training run with the model, give the same --bench to lockstep scale or lockstep report.")

    @OptionGroup(title: "Cost model")
    var projection: ProjectionOptions

    @Option(help: "Write the fit as JSON to this file.")
    var json: String?

    @Flag(help: "Exit 1 unless every algorithm's fit is within the goal (15% over 64 KiB–64 MiB).")
    var check = false

    func run() throws {
        try projection.validated()
        guard !projection.bench.isEmpty else { throw UsageError("cost-model needs --bench FILE (from lockstep bench allreduce --json)") }
        guard let fit = try projection.fit(print: json == nil) else { return }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try write(encoder.encode(fit), to: json)
        }
        func pct(_ v: Double?) -> String { v.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
        func us(_ v: Double) -> String { String(format: "%.3g", v) }
        Console.line("γ = \(String(format: "%.3g", fit.gamma.at(1_048_576) * 1e9)) ns/byte: \(fit.gamma.source)")
        for p in fit.algorithms + [fit.joint, fit.textbook] {
            Console.line("\(p.name): max error \(pct(p.maxError)) (64 KiB–64 MiB: \(pct(p.maxErrorInGoal)), median \(pct(p.medianErrorInGoal))) over \(p.points) points"
                         + (p.holdOutMaxError.map { "; each size held out and predicted: max \(pct($0)), median \(pct(p.holdOutMedianError))" } ?? ""))
            if let intra = p.intra { Console.line("    intra-node α \(intra.alphaText), β \(intra.betaText)") }
            if let inter = p.inter { Console.line("    inter-node α \(inter.alphaText), β \(inter.betaText)") }
        }
        Console.line("")
        Console.line("algorithm      world        bytes   measured µs    model µs   error")
        for p in fit.points {
            Console.line(p.algorithm.padding(toLength: 15, withPad: " ", startingAt: 0) + String(p.world).padding(toLength: 6, withPad: " ", startingAt: 0)
                         + String(repeating: " ", count: max(0, 12 - String(p.bytes).count)) + String(p.bytes)
                         + String(repeating: " ", count: max(0, 14 - us(p.measuredUs).count)) + us(p.measuredUs)
                         + String(repeating: " ", count: max(0, 12 - us(p.modelUs).count)) + us(p.modelUs)
                         + String(format: "  %+6.1f%%", p.error * 100))
        }
        let worst = fit.algorithms.map { $0.maxErrorInGoal ?? .infinity }.max() ?? .infinity
        Console.line("")
        Console.line("goal: within \(Int(fit.goal.tolerance * 100))% over 64 KiB–64 MiB for every algorithm: \(fit.meetsGoal ? "met" : "NOT met") (largest \(pct(worst)))")
        if !fit.skipped.isEmpty { Console.line("not fitted: " + fit.skipped.joined(separator: "; ")) }
        if check && !fit.meetsGoal {
            throw TrainingError("cost-model --check: the largest fit error over 64 KiB–64 MiB is \(pct(worst)), above the \(Int(fit.goal.tolerance * 100))% goal")
        }
    }
}
