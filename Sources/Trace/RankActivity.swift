import Comm
import Synchronization

/// What a rank's main thread is doing, published for its watchdog with a few atomic stores.
public final class RankActivity: Sendable {
    public enum Kind: Int64, Sendable {
        case starting = 0, computing, waitingGradients, waitingControl, evaluating, checkpointing, finished, waitingParameters
        case waitingStartup

        public var waits: Bool {
            self == .waitingGradients || self == .waitingControl || self == .waitingParameters || self == .waitingStartup
        }

        public var text: String {
            switch self {
            case .starting: "starting"
            case .computing: "computing (data, forward, backward)"
            case .waitingGradients: "waiting in the gradient all-reduce"
            case .waitingControl: "waiting in a control all-reduce"
            case .waitingParameters: "waiting for the other ranks' updated parameters"
            case .waitingStartup: "waiting for the other ranks at start-up"
            case .evaluating: "evaluating"
            case .checkpointing: "checkpointing"
            case .finished: "finished"
            }
        }

        /// What a rank in this state waits for, as the watchdog's verdict names it.
        public var awaited: String {
            switch self {
            case .waitingGradients: "the gradient all-reduce"
            case .waitingParameters: "the wait for every rank's updated parameters"
            case .waitingStartup: "the start-up exchange (checks, parameters, resume)"
            default: "a control all-reduce"
            }
        }
    }

    private let kind = Atomic<Int64>(0)
    private let step = Atomic<Int64>(0)
    private let bucket = Atomic<Int64>(-1)
    private let since = Atomic<UInt64>(0)

    public init() { since.store(MonotonicClock.nanoseconds(), ordering: .relaxed) }

    /// Records that the main thread now does `kind` in 1-based `step` (and waits on `bucket`).
    @inline(__always)
    public func set(_ kind: Kind, step: Int, bucket: Int = -1) {
        self.kind.store(kind.rawValue, ordering: .relaxed)
        self.step.store(Int64(step), ordering: .relaxed)
        self.bucket.store(Int64(bucket), ordering: .relaxed)
        since.store(MonotonicClock.nanoseconds(), ordering: .releasing)
    }

    /// (kind, step, bucket, milliseconds in it).
    public var snapshot: (kind: Kind, step: Int, bucket: Int, milliseconds: Int) {
        let t = since.load(ordering: .acquiring)
        return (Kind(rawValue: kind.load(ordering: .relaxed)) ?? .starting, Int(step.load(ordering: .relaxed)),
                Int(bucket.load(ordering: .relaxed)), Int((MonotonicClock.nanoseconds() &- t) / 1_000_000))
    }
}
