import Tensor

/// Updates a model's flat parameter buffer from its flat gradient buffer. State buffers share
/// the parameters' layout, so checkpoints save them slice by slice under the parameter names.
public protocol Optimizer: AnyObject {
    /// The state buffers by name, e.g. "momentum", or "exp_avg" and "exp_avg_sq".
    var state: [(name: String, buffer: Tensor)] { get }
    /// Optimizer steps taken so far.
    var steps: Int { get set }
    /// One update: the gradients are multiplied by `gradScale` on the way in (1/world turns
    /// an all-reduced sum into a mean), then applied with learning rate `lr`; they are left
    /// zeroed for the next step.
    func step(lr: Float, gradScale: Float)
}

/// Stochastic gradient descent with momentum, Nesterov and L2 weight decay, as `torch.optim.SGD`
/// (without dampening).
public final class SGD: Optimizer {
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public var steps = 0
    private let store: ParameterStore
    private let velocity: Tensor

    public init(_ store: ParameterStore, momentum: Float, nesterov: Bool, weightDecay: Float) {
        precondition(!nesterov || momentum > 0, "SGD: nesterov needs a positive momentum, got \(momentum)")
        self.store = store
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocity = momentum > 0 ? store.makeStateBuffer() : Tensor(zeros: [0])
    }

    public var state: [(name: String, buffer: Tensor)] { momentum > 0 ? [("momentum", velocity)] : [] }

    public func step(lr: Float, gradScale: Float) {
        sgdUpdate(params: store.values, grads: store.gradients, velocity: velocity, lr: lr, momentum: momentum,
                  nesterov: nesterov, weightDecay: weightDecay, gradScale: gradScale)
        steps += 1
    }
}

/// Adam with decoupled weight decay, as `torch.optim.AdamW`.
public final class AdamW: Optimizer {
    public let beta1: Double, beta2: Double, epsilon: Float, weightDecay: Float
    public var steps = 0
    private let store: ParameterStore
    private let firstMoment: Tensor, secondMoment: Tensor

    public init(_ store: ParameterStore, beta1: Double, beta2: Double, epsilon: Float, weightDecay: Float) {
        self.store = store
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoment = store.makeStateBuffer()
        secondMoment = store.makeStateBuffer()
    }

    public var state: [(name: String, buffer: Tensor)] { [("exp_avg", firstMoment), ("exp_avg_sq", secondMoment)] }

    public func step(lr: Float, gradScale: Float) {
        steps += 1
        adamWUpdate(params: store.values, grads: store.gradients, firstMoment: firstMoment, secondMoment: secondMoment,
                    step: steps, lr: lr, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                    gradScale: gradScale)
    }
}
