import Foundation
import Host
import RunConfig

/// Checks, before anything is allocated, that a run fits in the memory this rank may take: a
/// model too large for a node fails at start-up with one line, not in the middle of its set-up.
enum MemoryBudget {
    /// - Parameters:
    ///   - maxBatch: the most examples one forward takes.
    ///   - writesCheckpoints: whether this rank keeps the staging copy of the checkpoint writer.
    /// - Throws: `TrainingError` saying what the run needs and what limits it.
    static func check(_ settings: TrainingConfig, maxBatch: Int, writesCheckpoints: Bool) throws(TrainingError) {
        let ranksOnNode = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
        guard let room = ProcessMemory.room(ranksOnNode: ranksOnNode) else { return }
        let states = switch settings.optimizer {
        case let .sgd(momentum, _, _): momentum > 0 ? 1 : 0
        case .adamW: 2
        }
        // Parameters and gradients, the optimizer's state, the checkpoint's staging copy.
        let parameterCopies = 2 + states + (writesCheckpoints ? 1 + states : 0)
        let parameters = settings.model.parameterCount
        let floats = Double(parameters) * Double(parameterCopies) + Double(settings.model.activationFloats(batch: maxBatch))
        let needed = floats * Double(MemoryLayout<Float>.stride)
        guard needed > Double(room.bytes) else { return }
        throw TrainingError("the run needs about \(NumberText.grouped(needed / 1_048_576)) MB for its \(NumberText.grouped(parameters)) parameters (with gradients, optimizer state\(writesCheckpoints ? ", the checkpoint copy" : "")) and activations of a batch of \(maxBatch), but \(room.limit) leaves \(NumberText.grouped(room.bytes >> 20)) MB; lower train.batch or the model's size, or run on more memory",
                            sameOnEveryRank: false)
    }
}
