import Checkpoint
import Host
import RunConfig

/// What a rank prepares on its own, before the ranks meet in any collective: the run's sizes,
/// checked against the memory this process may take (`TrainingConfig.checkResources`); the data, read and checked; and on
/// rank 0 the checkpoint folder, created and probed. Each of these may
/// fail on one rank only (a node without the dataset, a folder only rank 0 writes), so the
/// CLI runs this first on every rank and then lets the ranks agree on the outcome.
public struct TrainingPreparation {
    let workload: Workload

    /// - Throws: `ConfigError` (buffers larger than the memory, a batch or context larger than the
    ///   data), `DataError` or `CheckpointError`.
    /// - Parameter ranksOnNode: the ranks that share this node's memory.
    public static func prepare(_ settings: TrainingConfig, world: Int, rank: Int, ranksOnNode: Int) throws -> TrainingPreparation {
        let room = ProcessMemory.room(ranksOnNode: ranksOnNode)
        try settings.checkResources(world: world, maxBatch: StepPlan.maxMicroBatch(settings.train, world: world),
                                    memoryBytes: room.map { Double($0.bytes) } ?? TrainingConfig.machineMemoryBytes,
                                    limit: room?.limit ?? "this machine's memory",
                                    writesCheckpoints: rank == 0 && !settings.checkpoint.directory.isEmpty)
        let workload = try Workloads.make(settings, world: world, rank: rank)
        if rank == 0 && !settings.checkpoint.directory.isEmpty {
            try CheckpointFolder.prepare(settings.checkpoint.directory)
        }
        return TrainingPreparation(workload: workload)
    }
}
