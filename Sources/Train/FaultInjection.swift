import Foundation
import NN
import Tensor
import Trace

/// Faults that tests inject on purpose: `--fault stall:rank=1:step=5[:seconds=600][:at=update]`
/// stops a rank's main thread at the start of a step, with `at=update` just before its
/// optimizer updates the parameters, or with `at=startup` while it initialises them; `--fault nan:rank=0:step=3` makes that rank's batch as
/// a NaN in its input would (a NaN loss and NaN gradients); `--fault slow:rank=1:step=1[:us=200]`
/// makes that rank, from that step on, sleep `us` microseconds per example it computes, as a
/// slower core would. They exist for tests only: the option is refused unless
/// LOCKSTEP_FAULT_INJECTION=1 is set, so a normal run cannot reach them.
///
/// A fault stays out of the training step: it wraps the model (`forward`) or the optimizer
/// (`step`) of the rank it strikes, and reads the step from the phase recorder.
public struct FaultInjection: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case stall(seconds: Double, at: StallPoint)
        case nan
        case slow(microsecondsPerSample: Int)
    }

    /// Where a stalled rank stops: at the start of a step, just before its update, or while
    /// it initialises the parameters at start-up (rank 0, as the others wait for them).
    public enum StallPoint: String, Sendable, Equatable {
        case step, update, startup
    }

    public let kind: Kind
    public let rank: Int
    /// The 1-based step at whose start the fault strikes.
    public let step: Int

    public init(kind: Kind, rank: Int, step: Int) {
        self.kind = kind
        self.rank = rank
        self.step = step
    }
}

extension FaultInjection {
    /// `model`, with this fault if it strikes rank `rank` there.
    func wrap(_ model: TrainableModel, rank: Int, recorder: PhaseRecorder) -> TrainableModel {
        guard self.rank == rank else { return model }
        switch kind {
        case .nan, .slow, .stall(_, .step), .stall(_, .startup): return FaultyModel(model, fault: self, recorder: recorder)
        case .stall(_, .update): return model
        }
    }

    /// `optimizer`, with this fault if it strikes rank `rank` there.
    func wrap(_ optimizer: Optimizer, rank: Int, recorder: PhaseRecorder) -> Optimizer {
        guard self.rank == rank, case .stall(_, .update) = kind else { return optimizer }
        return FaultyOptimizer(optimizer, fault: self, recorder: recorder)
    }

    /// Stops the calling thread for the stall's seconds (at most 4000).
    fileprivate func stall() {
        if case let .stall(seconds, _) = kind { usleep(UInt32(min(seconds, 4000) * 1e6)) }
    }
}

/// A model whose rank meets a NaN, a slow core or a stall at the start of a step.
private final class FaultyModel: TrainableModel {
    private let inner: TrainableModel
    private let fault: FaultInjection
    private let recorder: PhaseRecorder
    private var stalledAt = 0

    init(_ inner: TrainableModel, fault: FaultInjection, recorder: PhaseRecorder) {
        self.inner = inner
        self.fault = fault
        self.recorder = recorder
    }

    var parameters: ParameterStore { inner.parameters }
    var maxBatch: Int { inner.maxBatch }
    var predictionsPerExample: Int { inner.predictionsPerExample }
    var modelFlopsPerExample: Double { inner.modelFlopsPerExample }
    func initialize(seed: UInt64) {
        if case .stall(_, .startup) = fault.kind { fault.stall() }
        inner.initialize(seed: seed)
    }
    func backward(batch: Int, observer: GradientObserver) { inner.backward(batch: batch, observer: observer) }
    func evaluate(batch: Int) -> (loss: Double, correct: Int) { inner.evaluate(batch: batch) }

    func forward(batch: Int, gradientScale: Float) -> Double {
        let step = recorder.step
        switch fault.kind {
        case .nan where step == fault.step:
            _ = inner.forward(batch: batch, gradientScale: .nan)
            return .nan
        case let .slow(us) where step >= fault.step:
            usleep(UInt32(us * batch))
        case .stall(_, .step) where step == fault.step && stalledAt != step:
            stalledAt = step
            fault.stall()
        default:
            break
        }
        return inner.forward(batch: batch, gradientScale: gradientScale)
    }
}

/// An optimizer whose rank stalls just before it updates the parameters.
private final class FaultyOptimizer: Optimizer {
    private let inner: Optimizer
    private let fault: FaultInjection
    private let recorder: PhaseRecorder

    init(_ inner: Optimizer, fault: FaultInjection, recorder: PhaseRecorder) {
        self.inner = inner
        self.fault = fault
        self.recorder = recorder
    }

    var state: [(name: String, buffer: Tensor)] { inner.state }
    var steps: Int {
        get { inner.steps }
        set { inner.steps = newValue }
    }
    var updateRange: Range<Int> {
        get { inner.updateRange }
        set { inner.updateRange = newValue }
    }

    func step(lr: Float, gradScale: Float) {
        if recorder.step == fault.step { fault.stall() }
        inner.step(lr: lr, gradScale: gradScale)
    }
}
