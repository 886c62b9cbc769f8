import Comm

/// What the ranks agree on after every step's gradient sum, in one small collective: each rank
/// sends its `ControlRecord`, every rank receives all of them (an allgather), and every rank
/// combines them in rank order. So every rank arrives at the same bits for the combined values
/// (a sum in rank order is the same wherever it is computed), whatever MPI's reduction order,
/// and the speeds of the balancer arrive exactly.
struct ControlRecord: Equatable {
    /// A stop signal this rank received (SIGTERM or SIGUSR1), or 0.
    var stopSignal: Double = 0
    /// Whether the sum found NaN or ±Inf in the gradients (1) or not (0).
    var nonFinite: Double = 0
    /// This rank's compute seconds per example in the step (for the balancer), or 0.
    var secondsPerExample: Double = 0
    /// This rank's summed loss of the step, and the predictions it covers.
    var lossSum: Double = 0
    var lossCount: Double = 0
    /// The sum of squares of the summed gradients this rank checked: the ranks' together are the
    /// squared global norm of the step's summed gradient.
    var squares: Double = 0

    static let fields = 6

    func write(to slot: UnsafeMutableBufferPointer<Double>) {
        slot[0] = stopSignal
        slot[1] = nonFinite
        slot[2] = secondsPerExample
        slot[3] = lossSum
        slot[4] = lossCount
        slot[5] = squares
    }

    init() {}

    init(_ slot: UnsafeBufferPointer<Double>) {
        stopSignal = slot[0]
        nonFinite = slot[1]
        secondsPerExample = slot[2]
        lossSum = slot[3]
        lossCount = slot[4]
        squares = slot[5]
    }
}

/// The world's records combined: the same on every rank.
struct Agreed {
    /// The first stop signal in rank order, or 0.
    var stopSignal: Int32 = 0
    /// Whether any rank found a non-finite gradient.
    var nonFinite = false
    /// Every rank's compute seconds per example, in rank order.
    var secondsPerExample: [Double]
    /// The step's loss summed over the world, and the predictions it covers.
    var lossSum = 0.0
    var lossCount = 0.0
    /// The squared global norm of the step's summed gradient.
    var squares = 0.0
}

/// Exchanges and combines the ranks' records (see `ControlRecord`). Preallocated: an exchange
/// allocates nothing.
final class Agreement {
    private let comm: Communicator
    private var mine: [Double]
    private var all: [Double]
    private(set) var agreed: Agreed

    init(comm: Communicator) {
        self.comm = comm
        mine = [Double](repeating: 0, count: ControlRecord.fields)
        all = [Double](repeating: 0, count: ControlRecord.fields * comm.size)
        agreed = Agreed(secondsPerExample: [Double](repeating: 0, count: comm.size))
    }

    /// Sends `record`, receives every rank's, and combines them into `agreed`.
    /// - Throws: `CommError` from the exchange.
    func exchange(_ record: ControlRecord) throws(CommError) {
        let n = ControlRecord.fields
        mine.withUnsafeMutableBufferPointer { record.write(to: $0) }
        try mine.withUnsafeBufferPointer { (m) throws(CommError) in
            try all.withUnsafeMutableBufferPointer { (a) throws(CommError) in
                try comm.allGather(UnsafeRawBufferPointer(m), into: UnsafeMutableRawBufferPointer(a))
            }
        }
        agreed.stopSignal = 0
        agreed.nonFinite = false
        agreed.lossSum = 0
        agreed.lossCount = 0
        agreed.squares = 0
        all.withUnsafeBufferPointer { a in
            for r in 0..<comm.size {
                let theirs = ControlRecord(UnsafeBufferPointer(rebasing: a[(r * n)..<((r + 1) * n)]))
                if agreed.stopSignal == 0 { agreed.stopSignal = Int32(theirs.stopSignal) }
                agreed.nonFinite = agreed.nonFinite || theirs.nonFinite != 0
                agreed.secondsPerExample[r] = theirs.secondsPerExample
                agreed.lossSum += theirs.lossSum
                agreed.lossCount += theirs.lossCount
                agreed.squares += theirs.squares
            }
        }
    }
}
