import Comm
import Foundation

/// Per-step phases on a monotonic clock, recorded into a preallocated buffer: recording an
/// event is two stores and an increment, and nothing allocates. At the end every rank's
/// events are gathered on rank 0 and written as Chrome trace JSON (pid = rank), which
/// Perfetto and chrome://tracing open.
public final class Timeline {
    public enum Phase: Equatable, Sendable {
        case data, forward, backward, optimizer, checkpoint, evaluation
        /// The step's wait for all-reduces still in flight after backward.
        case commWait
        /// The step's control exchange, by which the ranks agree on stopping, finiteness and
        /// the gradient norm.
        case agree
        /// One bucket's all-reduce, as the communication thread ran it.
        case allReduce(bucket: Int)
        /// A whole step, the parent of its phases.
        case step

        /// Phases encode as small integers for gathering: allReduce(b) is 100 + b.
        public var code: Int32 {
            switch self {
            case .step: 0
            case .data: 1
            case .forward: 2
            case .backward: 3
            case .commWait: 4
            case .optimizer: 5
            case .checkpoint: 6
            case .evaluation: 7
            case .agree: 8
            case let .allReduce(bucket): 100 + Int32(bucket)
            }
        }

        public init?(code: Int32) {
            switch code {
            case 0: self = .step
            case 1: self = .data
            case 2: self = .forward
            case 3: self = .backward
            case 4: self = .commWait
            case 5: self = .optimizer
            case 6: self = .checkpoint
            case 7: self = .evaluation
            case 8: self = .agree
            case 100...: self = .allReduce(bucket: Int(code - 100))
            default: return nil
            }
        }

        public var name: String {
            switch self {
            case .step: "step"
            case .data: "data"
            case .forward: "forward"
            case .backward: "backward"
            case .commWait: "wait"
            case .optimizer: "optimizer"
            case .checkpoint: "checkpoint"
            case .evaluation: "evaluation"
            case .agree: "agree"
            case let .allReduce(bucket): "allreduce b\(bucket)"
            }
        }
    }

    /// One recorded interval: phase code, step, start and end (ns).
    public struct Event: Equatable, Sendable {
        public var phase: Int32
        public var step: Int32
        public var start: UInt64
        public var end: UInt64

        public init(phase: Int32, step: Int32, start: UInt64, end: UInt64) {
            self.phase = phase
            self.step = step
            self.start = start
            self.end = end
        }
    }

    private var events: UnsafeMutableBufferPointer<Event>
    public private(set) var count = 0
    /// The step events are tagged with.
    public var step = 0
    /// Whether recording is on; off costs one branch per event.
    public let enabled: Bool

    /// - Parameter capacity: events kept; later ones are dropped (and counted).
    public init(enabled: Bool, capacity: Int) {
        self.enabled = enabled
        events = .allocate(capacity: enabled ? max(capacity, 1) : 1)
    }

    deinit { events.deallocate() }

    /// Makes room for `capacity` events in all, before recording starts.
    public func reserve(_ capacity: Int) {
        guard enabled, capacity > events.count, count == 0 else { return }
        events.deallocate()
        events = .allocate(capacity: capacity)
    }

    /// Events that did not fit.
    public private(set) var dropped = 0

    @inline(__always)
    public func record(_ phase: Phase, start: UInt64, end: UInt64) {
        guard enabled else { return }
        guard count < events.count else {
            dropped += 1
            return
        }
        events[count] = Event(phase: phase.code, step: Int32(truncatingIfNeeded: step), start: start, end: end)
        count += 1
    }

    /// The recorded events, in order.
    public var recorded: [Event] { Array(events.prefix(count)) }
}
