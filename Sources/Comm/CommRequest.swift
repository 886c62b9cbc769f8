/// A collective in flight, returned by `startAllReduceSum` and `startTask`. `test` asks without
/// blocking; `wait` blocks until it completes and rethrows its error. A request is a ticket
/// into its backend's queue, not an object: starting one allocates nothing.
public struct CommRequest {
    private let queue: (any RequestQueue)?
    private let ticket: Int

    /// Ticket `ticket` of `queue`.
    public init(queue: any RequestQueue, ticket: Int) {
        self.queue = queue
        self.ticket = ticket
    }

    private init() {
        queue = nil
        ticket = 0
    }

    /// A request that is already complete (a world of one).
    public static var completed: CommRequest { CommRequest() }

    /// Whether the collective has completed; rethrows its error if it failed.
    public func test() throws(CommError) -> Bool {
        guard let queue else { return true }
        return try queue.test(ticket)
    }

    /// Blocks until the collective completes; rethrows its error if it failed.
    public func wait() throws(CommError) {
        try queue?.wait(ticket)
    }

    /// Once complete: when the collective started and finished (MonotonicClock nanoseconds).
    public var interval: (start: UInt64, end: UInt64) {
        queue?.interval(ticket) ?? (0, 0)
    }
}

/// Where a backend keeps its collectives in flight, by ticket.
public protocol RequestQueue: AnyObject {
    /// Whether collective `ticket` has completed; rethrows its error if it failed.
    func test(_ ticket: Int) throws(CommError) -> Bool
    /// Blocks until collective `ticket` completes; rethrows its error if it failed.
    func wait(_ ticket: Int) throws(CommError)
    /// When collective `ticket` started and finished (MonotonicClock nanoseconds).
    func interval(_ ticket: Int) -> (start: UInt64, end: UInt64)
}
