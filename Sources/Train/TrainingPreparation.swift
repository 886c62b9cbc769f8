import Checkpoint
import RunConfig

/// What a rank prepares on its own, before the ranks meet in any collective: the memory the
/// run needs, checked against what this process may take; the data, read and checked; and on
/// rank 0 the checkpoint folder, created and probed. Each of these may
/// fail on one rank only (a node without the dataset, a folder only rank 0 writes), so the
/// CLI runs this first on every rank and then lets the ranks agree on the outcome.
public struct TrainingPreparation {
    let workload: Workload

    /// - Throws: `DataError`, `ConfigError` (a context longer than the data) or `CheckpointError`.
    public static func prepare(_ settings: TrainingConfig, world: Int, rank: Int) throws -> TrainingPreparation {
        try MemoryBudget.check(settings, maxBatch: StepPlan.maxMicroBatch(settings.train, world: world),
                               writesCheckpoints: rank == 0 && !settings.checkpoint.directory.isEmpty)
        let workload = try Workloads.make(settings, world: world, rank: rank)
        if rank == 0 && !settings.checkpoint.directory.isEmpty {
            try CheckpointFolder.prepare(settings.checkpoint.directory)
        }
        return TrainingPreparation(workload: workload)
    }
}
