/// A model the trainer can step: its parameters and gradients in one flat `ParameterStore`, a
/// forward and a backward over the first `batch` samples of buffers it owns (preallocated for
/// `maxBatch`), and a backward that tells a `GradientObserver` as each block of the gradients
/// becomes final. The loss, which reads the labels, is each model's own (`CrossEntropy` for a
/// `Sequential`, `GPT.lossAndGradient` for a GPT, whose targets it holds).
public protocol TrainableModel: AnyObject {
    var parameters: ParameterStore { get }
    var maxBatch: Int { get }
    /// Fills every parameter from a generator seeded with `seed`: the same seed, the same values.
    func initialize(seed: UInt64)
    func forward(batch: Int)
    /// Accumulates into `parameters.gradients` from the loss's gradient, reporting to `observer`
    /// every row block of every slice exactly once.
    func backward(batch: Int, observer: GradientObserver)
}

extension Sequential: TrainableModel {}
extension GPT: TrainableModel {}
