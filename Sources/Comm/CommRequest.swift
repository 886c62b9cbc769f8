/// A collective in flight, returned by `startAllReduceSum`. `test` asks without blocking;
/// `wait` blocks until it completes and rethrows its error. A request is a ticket, not an
/// object: starting one allocates nothing.
public struct CommRequest {
    let queue: CollectiveQueue?
    let ticket: Int

    /// A request that is already complete (a world of one).
    static var completed: CommRequest { CommRequest(queue: nil, ticket: 0) }

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
