import Checkpoint
import Comm
import GradSync
import NN
import RunConfig

/// The run's checkpoints. It decides when to write one: every checkpoint.every_steps steps, at
/// each epoch's end with checkpoint.every_epoch, at the last step, when the accuracy target is
/// reached, and when a stop signal arrives. Every rank takes part (a sharded optimizer's state
/// is gathered first); rank 0 writes, in the background (`CheckpointWriter`).
final class Checkpointer {
    private let settings: TrainingConfig.CheckpointSettings
    private let writer: CheckpointWriter?

    /// On rank 0, writes into checkpoint.dir, which `TrainingPreparation` has made ready.
    init(_ settings: TrainingConfig.CheckpointSettings, comm: Communicator, store: ParameterStore, optimizer: Optimizer) {
        self.settings = settings
        writer = comm.rank == 0 && !settings.directory.isEmpty
            ? CheckpointWriter(directory: settings.directory, keep: settings.keep, store: store, optimizer: optimizer)
            : nil
    }

    /// Whether to write a checkpoint after step `step` (1-based).
    func isDue(step: Int, epochEnds: Bool, last: Bool, stopping: Bool) -> Bool {
        stopping || last || (settings.everySteps > 0 && step % settings.everySteps == 0) || (settings.everyEpoch && epochEnds)
    }

    /// Gathers what rank 0 writes, and has rank 0 snapshot the state and write it in the background.
    /// - Throws: `CommError` from the gather; `CheckpointError` from an earlier write that failed.
    func save(_ metadata: @autoclosure () -> CheckpointMetadata, optimizer: Optimizer, sync: GradientSync) throws {
        guard !settings.directory.isEmpty else { return }
        try sync.gatherForCheckpoint(optimizer.state.map(\.buffer))
        guard let writer else { return }
        let m = metadata()
        try writer.save(step: m.step, metadata: m)
    }

    /// Waits for the write in flight. - Throws: its failure, if any.
    func finish() throws(CheckpointError) {
        try writer?.finish()
    }

    /// What the checkpoints cost, on rank 0; nil elsewhere or without checkpoints.
    var stats: CheckpointStats? { writer?.stats }
}
