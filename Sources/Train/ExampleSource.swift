/// Where a run's examples come from: which example fills each position of a step's global
/// batch, and the evaluation set, each loaded into the model's own input buffers. Labelled
/// images follow each epoch's global order; token windows are drawn for each step.
protocol ExampleSource: AnyObject {
    /// The examples of one epoch, padded as the sampler pads them to a multiple of the world.
    var examplesPerEpoch: Int { get }
    /// Loads the examples at `positions` of the global batch of the step that `state` is at
    /// into the model's inputs.
    func loadTraining(_ state: TrainingState, positions: BatchPositions)
    /// The examples of the evaluation set.
    var evaluationCount: Int { get }
    /// Loads evaluation examples `examples` into the model's inputs.
    func loadEvaluation(_ examples: ArraySlice<Int>)
}
