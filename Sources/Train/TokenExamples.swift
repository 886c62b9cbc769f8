import Data
import NN

/// Token windows for a `GPT`: the window at position p of step t's global batch is drawn from
/// (train.seed, t, p) alone (`TrainingWindows`), so any rank loads exactly its positions, a
/// resumed run continues as if it had never stopped, and the global batch is the same at every
/// world size. Evaluation reads a fixed set of validation windows (`ValidationWindows`).
final class TokenExamples: ExampleSource {
    private let training: TrainingWindows
    private let validation: ValidationWindows
    private let batch: TokenBatch

    init(model: GPT, corpus: TokenCorpus, seed: UInt64, validationLimit: Int?) {
        training = TrainingWindows(split: corpus.train, context: corpus.context, seed: seed)
        validation = ValidationWindows(split: corpus.validation, context: corpus.context, limit: validationLimit)
        batch = TokenBatch(inputs: model.tokens, targets: model.targets, context: corpus.context)
    }

    /// An epoch is as many windows as the training split holds without overlap.
    var examplesPerEpoch: Int { training.split.count / training.context }

    func loadTraining(_ state: TrainingState, positions: BatchPositions) {
        for (row, position) in positions.enumerated() {
            training.split.loadWindow(start: training.start(step: state.step, position: position), into: batch, row: row)
        }
    }

    var evaluationCount: Int { validation.count }

    func loadEvaluation(_ examples: ArraySlice<Int>) {
        _ = validation.load(examples, into: batch)
    }
}
