import Checkpoint
import Comm
import Crypto
import Foundation
import Host
import Tensor

extension Trainer {
    /// The run's summary (see RunSummary), its throughput over the steps after warm-up.
    func summarize(stepTimes: StepTimes, losses: [MetricsLog.LossPoint], evaluations: [RunSummary.EvalPoint], finalLoss: Double,
                   trainSeconds: Double, timeToTarget: Double?, stoppedBy: StopReason) throws -> RunSummary {
        let steps = stepTimes.count
        // Throughput over the steps after warm-up (the first few touch cold memory).
        let timed = stepTimes.timed
        let samplesPerS = timed.seconds > 0 ? Double(timed.steps * plan.globalBatch) / timed.seconds : 0
        let language = model.predictionsPerExample > 1
        var rss = [ResourceUsage.peakResidentMB]
        try rss.withUnsafeMutableBufferPointer { (b) throws(CommError) in try comm.allReduce(b, .max) }
        let perStep = { (ns: UInt64) in steps > 0 ? Double(ns) / 1e6 / Double(steps) : 0 }
        let accounting = sync.accounting
        let commTotal = perStep(accounting.total), commExposed = perStep(accounting.exposed)
        var checkpointStats = checkpointer.stats
        if let r = resumedFrom {
            checkpointStats = checkpointStats ?? CheckpointStats(written: 0, snapshotMsMean: 0, writeMsMean: 0, bytes: 0)
            checkpointStats?.resumedFrom = r.path
            checkpointStats?.loadMs = r.seconds * 1000
        }
        let env = ProcessInfo.processInfo.environment
        let phases = Dictionary(uniqueKeysWithValues: recorder.totals.named.map { ($0.name, perStep($0.nanoseconds)) })
        return RunSummary(
            lockstepVersion: Lockstep.version, configHash: String(SHA256.hex(settings.config.canonicalText).prefix(16)),
            model: settings.modelName, parameters: model.parameters.totalCount, world: comm.size, nodes: comm.nodeCount,
            batchPerRank: settings.train.batch, accumulate: plan.accumulate, globalBatch: plan.globalBatch,
            steps: state.step, epochs: state.epoch + 1,
            samplesPerS: samplesPerS, tokensPerS: language ? samplesPerS * Double(model.predictionsPerExample) : nil,
            valLoss: language ? evaluations.last?.loss : nil,
            valBitsPerToken: language ? evaluations.last.map { $0.loss / log(2) } : nil,
            modelFlopsPerStep: model.modelFlopsPerExample * Double(plan.globalBatch),
            peakGflopsPerCore: options.corePeak?.peak.gflops, peakSource: options.corePeak?.source.rawValue,
            mfu: utilisation?.mfu(examplesPerSecond: samplesPerS), params: model.parameters.totalCount,
            stepMsMedian: stepTimes.medianMilliseconds, finalLoss: finalLoss,
            testAccuracy: evaluations.last?.accuracy ?? 0, testLoss: evaluations.last?.loss ?? 0, wallS: 0, trainS: trainSeconds,
            timeToTargetS: timeToTarget, peakRssMb: ResourceUsage.peakResidentMB, peakRssMbMax: rss[0], algorithm: sync.name,
            compression: settings.comm.allReduce.compression.rawValue,
            fixedPoint: plan.chunk != nil ? plan.fixedPoint.rawValue : nil,
            batchShareMean: plan.balancer?.meanShares, progress: settings.comm.progress.rawValue,
            bucketMb: settings.comm.bucketMB, buckets: sync.bucketNames.count,
            commMsTotal: commTotal, commMsExposed: commExposed, peerWaitMs: accounting.peerWait.map(perStep),
            overlapFraction: commTotal > 0 ? max(0, 1 - commExposed / commTotal) : 0, phaseMs: phases,
            lossHistory: losses.map { .init(step: $0.step, loss: $0.loss) }, evalHistory: evaluations,
            skippedSteps: state.skippedSteps, stoppedBy: stoppedBy.name, checkpoint: checkpointStats,
            slurmJobId: env["SLURM_JOB_ID"], nodeList: env["SLURM_JOB_NODELIST"], hostname: comm.processorName,
            blasKernel: BLASKernel.current, gemmPlan: gemmPlan.entries, gemmPlanSource: gemmPlan.source,
            gemmPlanS: gemmPlan.seconds)
    }
}
