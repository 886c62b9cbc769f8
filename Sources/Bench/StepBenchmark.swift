import Comm
import Foundation
import Host
import RunConfig
import Tensor
import Train

/// How close a training step comes to its GEMM floor, on one process with one OpenBLAS thread,
/// each GEMM on the provider the run's plan gives it (tensor.gemm).
///
/// It times whole steps (data, forward, loss, backward, optimizer) with the trainer's own
/// step code, records the GEMM calls of one step, and times each of them alone on the same
/// operands: their sum is the floor that the rest of the step (elementwise kernels, im2col,
/// the optimizer, data) adds to. Rounds alternate steps and GEMMs so that a drift in the
/// machine's speed touches both; medians over rounds are reported.
public enum StepBenchmark {
    /// The GEMM calls of one step with one shape and provider: how many, their summed time
    /// alone on the provider the run's GEMM plan gives them, and their rate.
    public struct GEMMRow: Codable, Sendable {
        public var shape: String
        /// "openblas" or "onednn".
        public var provider: String
        public var calls: Int
        public var ms: Double
        public var gflops: Double
    }

    public struct Result: Codable, Sendable {
        public var model: String
        public var batch: Int
        public var stepMsMedian: Double
        public var stepMsMin: Double
        public var stepMsMax: Double
        public var gemmFloorMs: Double
        /// Step time / GEMM floor.
        public var ratio: Double
        public var samplesPerS: Double
        /// Predictions per second: tokens for a GPT, samples for an image model.
        public var predictionsPerS: Double
        public var peakRssMb: Double
        /// The model FLOPs of one step, one core's peak (GFLOP/s), and the MFU of the step and
        /// of its GEMMs alone (model FLOPs ÷ the floor's time): how far the rest of the step
        /// and the GEMM kernels each leave it from the peak. Nil without a peak.
        public var modelFlopsPerStep: Double
        public var peakGflopsPerCore: Double?
        public var mfu: Double?
        public var gemmFloorMfu: Double?
        public var openblas: String
        /// The run header's line on the GEMM plan, e.g. "GEMM plan: 6 shapes, 4 oneDNN, 2 OpenBLAS (cached, 3 ms)".
        public var gemmPlan: String
        public var gemms: [GEMMRow]

        enum CodingKeys: String, CodingKey {
            case model, batch, stepMsMedian = "step_ms_median", stepMsMin = "step_ms_min", stepMsMax = "step_ms_max"
            case gemmFloorMs = "gemm_floor_ms", ratio, samplesPerS = "samples_per_s", predictionsPerS = "predictions_per_s"
            case peakRssMb = "peak_rss_mb"
            case modelFlopsPerStep = "model_flops_per_step", peakGflopsPerCore = "peak_gflops_per_core", mfu
            case gemmFloorMfu = "gemm_floor_mfu"
            case openblas, gemmPlan = "gemm_plan", gemms
        }
    }

    /// - Parameter peak: one core's peak, for the MFU figures.
    public static func run(settings: TrainingConfig, steps: Int, rounds: Int, peak: CorePeak?) throws -> Result {
        var options = RunOptions()
        options.printProgress = false
        let trainer = try Trainer(settings: settings, comm: SingleProcessCommunicator(), options: options)
        _ = try trainer.timeSteps(5)
        let trace = GEMMTrace()
        GEMMTrace.active = trace
        _ = try trainer.timeSteps(1)
        GEMMTrace.active = nil

        var stepMedians: [Double] = [], floors: [Double] = []
        var callTimes = [[Double]](repeating: [], count: trace.calls.count)
        for _ in 0..<rounds {
            let times = try trainer.timeSteps(steps).map { Double($0) / 1e6 }
            stepMedians.append(Statistics.median(times))
            var floor = 0.0
            for (i, call) in trace.calls.enumerated() {
                call.replay()
                var alone: [Double] = []
                for _ in 0..<5 {
                    let start = MonotonicClock.nanoseconds()
                    call.replay()
                    alone.append(MonotonicClock.seconds(since: start) * 1000)
                }
                callTimes[i].append(Statistics.median(alone))
                floor += Statistics.median(alone)
            }
            floors.append(floor)
        }
        let step = Statistics.median(stepMedians), floor = Statistics.median(floors)
        // One row per shape and provider, in the order the step first calls it.
        var rows: [GEMMRow] = [], flops: [Double] = [], rowOfShape: [String: Int] = [:]
        for (i, call) in trace.calls.enumerated() {
            let key = "\(call.shape) \(call.provider.rawValue)"
            let row = rowOfShape[key] ?? {
                rows.append(GEMMRow(shape: call.shape, provider: call.provider.rawValue, calls: 0, ms: 0, gflops: 0))
                flops.append(0)
                rowOfShape[key] = rows.count - 1
                return rows.count - 1
            }()
            rows[row].calls += 1
            rows[row].ms += Statistics.median(callTimes[i])
            flops[row] += call.flops
        }
        for r in rows.indices { rows[r].gflops = flops[r] / (rows[r].ms / 1000) / 1e9 }
        let samplesPerS = Double(settings.train.batch) / (step / 1000)
        let modelFlops = trainer.model.modelFlopsPerExample * Double(settings.train.batch)
        let mfu = { (ms: Double) in peak.map { modelFlops / (ms / 1000) / ($0.gflops * 1e9) } }
        return Result(model: settings.modelName, batch: settings.train.batch, stepMsMedian: step,
                      stepMsMin: stepMedians.min() ?? 0, stepMsMax: stepMedians.max() ?? 0, gemmFloorMs: floor,
                      ratio: step / floor, samplesPerS: samplesPerS,
                      predictionsPerS: samplesPerS * Double(trainer.model.predictionsPerExample),
                      peakRssMb: ResourceUsage.peakResidentMB, modelFlopsPerStep: modelFlops, peakGflopsPerCore: peak?.gflops,
                      mfu: mfu(step), gemmFloorMfu: mfu(floor), openblas: BLASThreads.configuration, gemmPlan: trainer.gemmPlan.line,
                      gemms: rows)
    }
}
