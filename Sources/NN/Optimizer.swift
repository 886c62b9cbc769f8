import Tensor

/// Updates a model's flat parameter buffer from its flat gradient buffer. State buffers share
/// the parameters' layout, so checkpoints save them slice by slice under the parameter names.
public protocol Optimizer: AnyObject {
    /// The state buffers by name, e.g. "momentum", or "exp_avg" and "exp_avg_sq".
    var state: [(name: String, buffer: Tensor)] { get }
    /// Optimizer steps taken so far.
    var steps: Int { get set }
    /// The elements `step` updates: all of them, or one rank's shard with a sharded optimizer.
    var updateRange: Range<Int> { get set }
    /// One update of `updateRange`: the gradients are multiplied by `gradScale` on the way in
    /// (1/world turns an all-reduced sum into a mean), then applied with learning rate `lr`;
    /// they are left zeroed for the next step.
    func step(lr: Float, gradScale: Float)
}

/// The parameters, gradients and state buffers restricted to an optimizer's update range,
/// as views made once (a step allocates nothing).
struct UpdateViews {
    let values: Tensor, gradients: Tensor, state: [Tensor]

    init(_ store: ParameterStore, state: [Tensor], range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= store.totalCount,
                     "optimizer update range \(range) outside 0..<\(store.totalCount)")
        func view(_ t: Tensor) -> Tensor { t.view(at: range.lowerBound, shape: [range.count]) }
        values = view(store.values)
        gradients = view(store.gradients)
        self.state = state.map { $0.count == store.totalCount ? view($0) : $0 }
    }
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
    private var views: UpdateViews

    public init(_ store: ParameterStore, momentum: Float, nesterov: Bool, weightDecay: Float) {
        precondition(!nesterov || momentum > 0, "SGD: nesterov needs a positive momentum, got \(momentum)")
        self.store = store
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocity = momentum > 0 ? store.makeStateBuffer() : Tensor(zeros: [0])
        updateRange = 0..<store.totalCount
        views = UpdateViews(store, state: [velocity], range: updateRange)
    }

    public var updateRange: Range<Int> {
        didSet { views = UpdateViews(store, state: [velocity], range: updateRange) }
    }

    public var state: [(name: String, buffer: Tensor)] { momentum > 0 ? [("momentum", velocity)] : [] }

    public func step(lr: Float, gradScale: Float) {
        sgdUpdate(params: views.values, grads: views.gradients, velocity: views.state[0], lr: lr, momentum: momentum,
                  nesterov: nesterov, weightDecay: weightDecay, gradScale: gradScale)
        steps += 1
    }
}

/// The parameters AdamW's weight decay applies to.
public enum WeightDecayScope: Sendable {
    /// Every parameter, as one torch parameter group.
    case all
    /// Parameters of two or more dimensions only: weights and embeddings decay, biases and
    /// LayerNorm parameters do not, as nanoGPT's two groups (`p.dim() >= 2`).
    case matrices
}

/// Adam with decoupled weight decay, as `torch.optim.AdamW`, over every parameter or, with
/// `decayScope: .matrices`, with the decay confined to the parameters of two or more dimensions.
public final class AdamW: Optimizer {
    public let beta1: Double, beta2: Double, epsilon: Float, weightDecay: Float
    public let decayScope: WeightDecayScope
    public var steps = 0
    private let store: ParameterStore
    private let firstMoment: Tensor, secondMoment: Tensor
    private var views: UpdateViews
    /// The elements of `updateRange` (counted from its start) that take no weight decay.
    private var undecayed: [Range<Int>]

    public init(_ store: ParameterStore, beta1: Double, beta2: Double, epsilon: Float, weightDecay: Float,
                decayScope: WeightDecayScope = .all) {
        self.store = store
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decayScope = decayScope
        firstMoment = store.makeStateBuffer()
        secondMoment = store.makeStateBuffer()
        updateRange = 0..<store.totalCount
        views = UpdateViews(store, state: [firstMoment, secondMoment], range: updateRange)
        undecayed = Self.undecayedRanges(store, decayScope, updateRange)
    }

    public var updateRange: Range<Int> {
        didSet {
            views = UpdateViews(store, state: [firstMoment, secondMoment], range: updateRange)
            undecayed = Self.undecayedRanges(store, decayScope, updateRange)
        }
    }

    /// The 1-D slices' elements within `range`, relative to its start, adjacent ones merged.
    private static func undecayedRanges(_ store: ParameterStore, _ scope: WeightDecayScope, _ range: Range<Int>) -> [Range<Int>] {
        guard case .matrices = scope else { return [] }
        var ranges: [Range<Int>] = []
        for slice in store.slices where slice.shape.count < 2 {
            let low = max(slice.offset, range.lowerBound), high = min(slice.range.upperBound, range.upperBound)
            guard low < high else { continue }
            let local = (low - range.lowerBound)..<(high - range.lowerBound)
            if let last = ranges.last, last.upperBound == local.lowerBound {
                ranges[ranges.count - 1] = last.lowerBound..<local.upperBound
            } else {
                ranges.append(local)
            }
        }
        return ranges
    }

    public var state: [(name: String, buffer: Tensor)] { [("exp_avg", firstMoment), ("exp_avg_sq", secondMoment)] }

    public func step(lr: Float, gradScale: Float) {
        steps += 1
        adamWUpdate(params: views.values, grads: views.gradients, firstMoment: views.state[0], secondMoment: views.state[1],
                    step: steps, lr: lr, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                    gradScale: gradScale, undecayed: undecayed)
    }
}
