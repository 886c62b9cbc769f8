import Foundation
import Host

/// What a scaling study holds fixed as the world grows.
public enum ScalingMode: String, Codable, Sendable, CaseIterable {
    /// The global batch is fixed: each rank's batch is global / world.
    case strong
    /// Each rank's batch is fixed: the global batch grows with the world.
    case weak
}

/// How each world size of a scaling study is launched: the per-rank batch, and the command
/// line that runs `lockstep train` under mpirun or srun.
public struct ScalingPlan: Sendable {
    public enum Launcher: String, Codable, Sendable, CaseIterable {
        case mpirun, srun
    }

    public struct Launch: Sendable, Equatable {
        public var world: Int
        public var batchPerRank: Int
        /// More ranks than cores (per node): they time-share cores.
        public var oversubscribed: Bool
        public var arguments: [String]
        public var summaryPath: String
        public var stdoutPath: String
        public var stderrPath: String
        public var timelinePath: String?
    }

    public var mode: ScalingMode
    public var launcher: Launcher
    /// World sizes, ascending, without repeats.
    public var ranks: [Int]
    /// Strong scaling's global batch (per optimizer step, accumulation included).
    public var globalBatch: Int?
    public var launches: [Launch]

    /// - Parameters:
    ///   - batch: train.batch of the config with the user's overrides (weak: every world's).
    ///   - accumulate: train.accumulate (micro-batches per step).
    ///   - globalBatch: strong scaling's global batch; nil: batch × accumulate × the smallest world.
    ///   - cores: cores per node, to decide binding or oversubscription.
    ///   - nodes: nodes the launcher spreads ranks over (1 under mpirun without a hostfile).
    /// - Throws: `ReportError` when a world size is not positive or the strong global batch does
    ///   not divide over a world.
    public init(mode: ScalingMode, launcher: Launcher, ranks: [Int], batch: Int, accumulate: Int, globalBatch: Int?,
                cores: Int, nodes: Int = 1, executable: String, config: String, overrides: [String],
                launcherArguments: [String], directory: String, timelines: Bool) throws(ReportError) {
        let ranks = Array(Set(ranks)).sorted()
        guard let smallest = ranks.first, smallest >= 1 else { throw ReportError.request("world sizes must be positive, e.g. 1,2,4,8") }
        self.mode = mode
        self.launcher = launcher
        self.ranks = ranks
        var launches: [Launch] = []
        let global = mode == .strong ? (globalBatch ?? batch * accumulate * smallest) : nil
        if let global {
            let bad = ranks.filter { global % ($0 * accumulate) != 0 }
            if !bad.isEmpty {
                let fits = ranks.filter { global % ($0 * accumulate) == 0 }
                throw ReportError.request("the global batch \(global) does not divide evenly over \(bad.map(String.init).joined(separator: ", ")) rank\(bad.count == 1 && bad[0] == 1 ? "" : "s")\(accumulate > 1 ? " × accumulate \(accumulate)" : ""); use worlds that divide it\(fits.isEmpty ? "" : " (of those given: \(fits.map(String.init).joined(separator: ", ")))"), or choose another global batch")
            }
        }
        self.globalBatch = global
        for world in ranks {
            let perRank = global.map { $0 / (world * accumulate) } ?? batch
            let perNode = (world + nodes - 1) / nodes
            let oversubscribed = perNode > cores
            let summary = "\(directory)/runs/\(world).json"
            let timeline = timelines ? "\(directory)/runs/\(world).trace.json" : nil
            var train = [executable, "train", "--config", config, "--summary", summary, "--quiet"]
            for o in overrides { train += ["--set", o] }
            if mode == .strong { train += ["--set", "train.batch=\(perRank)"] }
            if let timeline { train += ["--timeline", timeline] }
            let launch: [String] = switch launcher {
            case .mpirun:
                ["mpirun", "-np", String(world)] + (oversubscribed ? ["--oversubscribe"] : ["--bind-to", "core"]) + launcherArguments
            case .srun:
                // mpirun --oversubscribe tells Open MPI to yield the core while it waits; under srun it cannot
                // know, and ranks that spin while they wait starve the ranks sharing their core.
                (oversubscribed && ProcessInfo.processInfo.environment["OMPI_MCA_mpi_yield_when_idle"] == nil
                    ? ["env", "OMPI_MCA_mpi_yield_when_idle=1"] : [])
                    + ["srun", "-n", String(world), "--mpi=pmix"] + (oversubscribed ? ["--overcommit"] : ["--cpu-bind=cores"]) + launcherArguments
            }
            launches.append(Launch(world: world, batchPerRank: perRank, oversubscribed: oversubscribed, arguments: launch + train,
                                   summaryPath: summary, stdoutPath: "\(directory)/runs/\(world).out",
                                   stderrPath: "\(directory)/runs/\(world).err", timelinePath: timeline))
        }
        self.launches = launches
    }
}
