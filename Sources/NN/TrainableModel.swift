/// What the trainer needs of a model, whatever its layers: its parameters in one flat store,
/// a forward pass that computes the loss over a batch, and a backward pass that tells a
/// `GradientObserver` as each block of gradients becomes final. The data pipeline writes each
/// batch into the model's own input buffers first (images and labels, or token windows).
///
/// `Sequential` (a chain of layers over labelled images) is one such model; the GPT is another.
public protocol TrainableModel: AnyObject {
    /// Every parameter, and every gradient in the same layout.
    var parameters: ParameterStore { get }
    /// The most examples one forward takes: the input buffers' size.
    var maxBatch: Int { get }
    /// The predictions each example makes, each with a term of the loss: 1 for a classifier,
    /// the context length for a language model.
    var predictionsPerExample: Int { get }
    /// The model FLOPs of one example's forward and backward pass, as model FLOPs utilisation
    /// counts them: 6 per multiply-add of a weight (2 forward, 4 backward), and the attention's
    /// products over the whole T × T square for a GPT; biases, norms and activations are not counted.
    var modelFlopsPerExample: Double { get }
    /// Fills every parameter as the model's reference initialises it, from a generator seeded
    /// with `seed`.
    func initialize(seed: UInt64)
    /// Runs the first `batch` examples of the input buffers forward and returns the loss summed
    /// over their predictions; leaves `gradientScale` times that loss's gradient for `backward`.
    func forward(batch: Int, gradientScale: Float) -> Double
    /// Propagates the loss gradient of the last `forward` back, accumulating into
    /// `parameters.gradients` and telling `observer` as each block of them becomes final.
    func backward(batch: Int, observer: GradientObserver)
    /// Runs the first `batch` examples forward without gradients: the loss summed over their
    /// predictions, and how many predictions were right (the largest score on the target).
    func evaluate(batch: Int) -> (loss: Double, correct: Int)
}
