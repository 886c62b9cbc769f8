/// The collectives Lockstep needs, on raw buffers. Comm knows nothing of tensors: the
/// trainer hands it slices of its flat gradient buffer.
///
/// Two implementations: the MPI backend (CommMPI's `MPICommunicator`), and
/// `SingleProcessCommunicator` for a world of one, which needs no mpirun. Only the CLI picks
/// one; everything else sees this protocol.
public protocol Communicator: AnyObject {
    /// This process's rank in the world, 0..<size.
    var rank: Int { get }
    /// The number of ranks.
    var size: Int { get }
    /// This rank's index among the ranks of its node.
    var localRank: Int { get }
    /// The number of ranks on this rank's node.
    var localSize: Int { get }
    /// The number of nodes (as the node-local split, or a forced ranks_per_node, defines them).
    var nodeCount: Int { get }
    /// This node's name, as MPI reports it.
    var processorName: String { get }

    /// Sums `buffer` over all ranks, in place, with the configured algorithm.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError)
    /// Sums `buffer` over all ranks, in place. Integer sums are exact in any order, which is
    /// what deterministic mode builds on.
    func allReduceSum<E: ExactSumElement>(_ buffer: UnsafeMutableBufferPointer<E>) throws(CommError)
    /// Starts summing `buffer` over all ranks and returns at once; the buffer belongs to the
    /// communicator until the request completes.
    func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError) -> CommRequest
    /// Starts `task` after every collective started before it, and returns at once. The task
    /// runs its collectives through the `TaskCollectives` it is given, on the communication
    /// thread (at once, before returning, in a world of one or with comm.progress = "test").
    /// What it reads and writes belongs to it until the request completes.
    func startTask(_ task: @escaping CommTask) throws(CommError) -> CommRequest
    /// Sums `buffer` over all ranks, but leaves the full sum only in this rank's shard, which
    /// it returns (the ring's reduce-scatter, with the configured compression). Rank r owns
    /// `shard(of: r, count:, ranks:)`; the rest of the buffer holds partial sums.
    func reduceScatterSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError) -> Range<Int>
    /// Copies each rank's shard of `buffer` to every rank, exactly (fp32 on the wire).
    func allGatherShards(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError)
    /// Reduces a few control values (loss sums, flags) with MPI's own collective.
    func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ op: ReduceOp) throws(CommError)
    /// Copies `bytes` from `root` to every rank.
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws(CommError)
    /// Gathers each rank's `mine` (all the same length) into `all`, in rank order.
    func allGather(_ mine: UnsafeRawBufferPointer, into all: UnsafeMutableRawBufferPointer) throws(CommError)
    func barrier() throws(CommError)
    /// A channel for the watchdog's messages, apart from every collective; nil in a world of one.
    func makeSideChannel() throws(CommError) -> SideChannel?
    /// Memory of `count` floats per buffer that every rank of the world maps, or nil where the
    /// ranks cannot share memory (a world of one, or one that spans several nodes). Collective.
    func makeNodeMemory(count: Int) throws(CommError) -> NodeMemory?
    /// What sums buffers of these sizes in bytes, e.g. "ring", or "auto (rhd, ring)" where the
    /// backend picks per size; for the run summary.
    func algorithmName(forBuffersOf bytes: [Int]) -> String
    /// Waits for the collectives in flight and stops the backend's threads (before finalising).
    func shutdown()
    /// Ends every rank of the job with `code`.
    func abort(code: Int32) -> Never
}

/// Work for the communication thread that mixes computation with collectives, such as
/// deterministic mode's per-bucket exact sums (a max, a conversion, an integer sum).
public typealias CommTask = (any TaskCollectives) throws(CommError) -> Void

/// The blocking collectives a `CommTask` runs, in order with the all-reduces around it.
public protocol TaskCollectives {
    /// Sums `buffer` over all ranks, in place, with the configured algorithm.
    func allReduceSum<E: ExactSumElement>(_ buffer: UnsafeMutableBufferPointer<E>) throws(CommError)
    /// Sums `sums` over all ranks and leaves their Floats in `floats` (as many elements) on
    /// every rank: each rank calls `convert` on the range of `sums` it holds summed, which
    /// must write those elements of `floats`, and the Floats are then gathered. With the ring
    /// (and halving-doubling at two ranks, the same exchanges) the sums are reduce-scattered
    /// and only Floats travel back; otherwise all of `sums` is all-reduced and converted whole.
    func allReduceSum<E: ExactSumElement>(_ sums: UnsafeMutableBufferPointer<E>, convertingInto floats: UnsafeMutableBufferPointer<Float>,
                      _ convert: (Range<Int>) -> Void) throws(CommError)
    /// The elementwise maximum of `values` (no NaN) over all ranks, in place.
    func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>) throws(CommError)
}

/// A reduction over control values.
public enum ReduceOp: Sendable {
    case sum, max, min
}

/// The element types an all-reduce adds up, and how.
public protocol ReducibleElement: Sendable {
    /// `into[i] += from[i]` for `count` elements.
    static func accumulate(_ into: UnsafeMutablePointer<Self>, _ from: UnsafePointer<Self>, count: Int)
}

extension Float: ReducibleElement {
    public static func accumulate(_ into: UnsafeMutablePointer<Float>, _ from: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { into[i] += from[i] }
    }
}

/// The integers of exact sums. Additions wrap, so partial sums may overflow on the way as
/// long as the final sum fits: the caller's headroom guarantees that.
public protocol ExactSumElement: FixedWidthInteger, SignedInteger, ReducibleElement {}

extension ExactSumElement {
    public static func accumulate(_ into: UnsafeMutablePointer<Self>, _ from: UnsafePointer<Self>, count: Int) {
        for i in 0..<count { into[i] &+= from[i] }
    }
}

extension Int32: ExactSumElement {}
extension Int64: ExactSumElement {}

/// Piece `piece` of `count` elements cut into `parts` near-equal pieces (sizes differ by at
/// most one): the ring's chunks.
public func piece(_ piece: Int, of count: Int, parts: Int) -> Range<Int> {
    (piece * count / parts)..<((piece + 1) * count / parts)
}

/// The shard of an `count`-element buffer that rank `rank` of `ranks` owns after
/// `reduceScatterSum`: piece (rank + 1) mod ranks.
public func shard(of rank: Int, count: Int, ranks: Int) -> Range<Int> {
    piece((rank + 1) % ranks, of: count, parts: ranks)
}
