import Checkpoint
import Foundation
import Host

/// The result of a training run, written by `--summary FILE` as JSON. Field names are stable:
/// scripts, `lockstep scale` and the benchmark harness read them.
public struct RunSummary: Codable, Equatable, Sendable {
    public var lockstepVersion: String
    public var configHash: String
    public var model: String
    public var parameters: Int
    public var world: Int
    public var nodes: Int
    public var batchPerRank: Int
    public var accumulate: Int
    public var globalBatch: Int
    public var steps: Int
    /// Epochs started (a partial last epoch counts).
    public var epochs: Int
    public var samplesPerS: Double
    /// For a language model: samples/s × the context, and the last evaluation's loss per token
    /// in nats and bits; nil for image models.
    public var tokensPerS: Double?
    public var valLoss: Double?
    public var valBitsPerToken: Double?
    /// The model FLOPs of one optimizer step over the global batch (see
    /// `TrainableModel.modelFlopsPerExample`).
    public var modelFlopsPerStep: Double
    /// One core's peak fp32 FMA rate (`lockstep bench peak`), whether it was measured for this
    /// run or cached, and the model FLOPs utilisation: model FLOPs per second over the timed
    /// steps ÷ (world × peak). Nil when the CPU has no AVX2 with FMA.
    public var peakGflopsPerCore: Double?
    public var peakSource: String?
    public var mfu: Double?
    /// The parameter count, as `parameters` (the name nanoGPT's users look for).
    public var params: Int
    public var stepMsMedian: Double
    /// Mean training loss over the last logging interval.
    public var finalLoss: Double
    public var testAccuracy: Double
    public var testLoss: Double
    public var wallS: Double
    /// Seconds from the first step to the end of training (evaluation included, set-up not).
    public var trainS: Double
    /// Seconds from the first step until test accuracy first reached train.target_accuracy.
    public var timeToTargetS: Double?
    /// Rank 0's peak resident set, and the largest over the ranks.
    public var peakRssMb: Double
    public var peakRssMbMax: Double
    public var algorithm: String
    public var compression: String
    /// Deterministic mode's integers ("int32" or "int64"); nil in the default mode.
    public var fixedPoint: String?
    /// With train.balance: each rank's mean share of a step's global batch; nil otherwise.
    public var batchShareMean: [Double]?
    public var progress: String
    public var bucketMb: Double
    public var buckets: Int
    /// Per step: how long the gradient communication ran, and how long the step waited for it
    /// after every rank had finished backward.
    public var commMsTotal: Double
    public var commMsExposed: Double
    /// Per step: how long this rank waited for slower ranks to finish computing. Measured on
    /// the node-shared path, whose ranks publish when they finish; nil where an MPI wait
    /// cannot tell a slower rank from a slower transfer, and both count as exposed.
    public var peerWaitMs: Double?
    /// 1 - exposed / total: the share of communication hidden behind backward.
    public var overlapFraction: Double
    /// Per-step phase means (ms) on rank 0, for the scaling report's breakdown.
    public var phaseMs: [String: Double]
    public var lossHistory: [LossPoint]
    public var evalHistory: [EvalPoint]
    public var skippedSteps: Int
    public var stoppedBy: String
    public var checkpoint: CheckpointStats?
    public var slurmJobId: String?
    public var nodeList: String?
    public var hostname: String
    /// OpenBLAS's kernel family (openblas_get_corename), e.g. "cooperlake".
    public var blasKernel: String?
    /// Which library ran each GEMM shape (`GEMMPlanReport`): per shape the provider and the
    /// times it was chosen from (empty when one provider was pinned), how the plan came to be
    /// ("measured", "cached" or "pinned"), and the planner's start-up seconds.
    public var gemmPlan: [GEMMPlanEntry]?
    public var gemmPlanSource: String?
    public var gemmPlanS: Double?

    public struct LossPoint: Codable, Equatable, Sendable {
        public var step: Int
        public var loss: Double
    }

    public struct EvalPoint: Codable, Equatable, Sendable {
        public var step: Int
        public var accuracy: Double
        public var loss: Double
        public var elapsedS: Double
    }

    enum CodingKeys: String, CodingKey {
        case lockstepVersion = "lockstep_version", configHash = "config_hash", model, parameters, world, nodes
        case batchPerRank = "batch_per_rank", accumulate, globalBatch = "global_batch", steps, epochs
        case samplesPerS = "samples_per_s", tokensPerS = "tokens_per_s", valLoss = "val_loss"
        case valBitsPerToken = "val_bits_per_token", modelFlopsPerStep = "model_flops_per_step", params
        case peakGflopsPerCore = "peak_gflops_per_core", peakSource = "peak_source", mfu
        case stepMsMedian = "step_ms_median", finalLoss = "final_loss"
        case testAccuracy = "test_accuracy", testLoss = "test_loss", wallS = "wall_s", trainS = "train_s"
        case timeToTargetS = "time_to_target_s", peakRssMb = "peak_rss_mb", peakRssMbMax = "peak_rss_mb_max"
        case algorithm, compression, fixedPoint = "fixed_point", batchShareMean = "batch_share_mean", progress, bucketMb = "bucket_mb", buckets
        case commMsTotal = "comm_ms_total", commMsExposed = "comm_ms_exposed", peerWaitMs = "peer_wait_ms"
        case overlapFraction = "overlap_fraction"
        case phaseMs = "phase_ms", lossHistory = "loss_history", evalHistory = "eval_history"
        case skippedSteps = "skipped_steps", stoppedBy = "stopped_by", checkpoint
        case slurmJobId = "slurm_job_id", nodeList = "node_list", hostname, blasKernel = "blas_kernel"
        case gemmPlan = "gemm_plan", gemmPlanSource = "gemm_plan_source", gemmPlanS = "gemm_plan_s"
    }

    /// The summary as pretty JSON with sorted keys.
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        // Encoding plain values cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }
}

extension RunSummary {
    /// What the run reached and how fast, for the line that ends it: test accuracy and
    /// samples/s, or for a language model the validation loss and tokens/s.
    public var outcomeText: String {
        if let tokensPerS {
            let loss = valLoss.map { "val loss \(NumberText.fixed($0, 4)) (\(NumberText.fixed(valBitsPerToken ?? .nan, 4)) bits/token)" }
            return (loss.map { $0 + ", " } ?? "") + "\(NumberText.grouped(tokensPerS)) tokens/s"
        }
        return "test accuracy \(NumberText.fixed(testAccuracy * 100, 2))%, \(NumberText.grouped(samplesPerS)) samples/s"
    }

    /// The first steps of a run of `steps` steps that samples_per_s leaves out, since they
    /// touch cold memory: 3 of a run longer than 20 steps, none of a shorter one.
    public static func warmupSteps(steps: Int) -> Int { steps > 20 ? 3 : 0 }
}


extension RunSummary.EvalPoint {
    enum CodingKeys: String, CodingKey {
        case step, accuracy, loss, elapsedS = "elapsed_s"
    }
}
