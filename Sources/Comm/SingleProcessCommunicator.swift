import Glibc

/// The communicator of a world of one: every collective is the identity. It exists so that
/// `lockstep train` runs as a plain process, without mpirun; multi-rank runs always use MPI.
public final class SingleProcessCommunicator: Communicator {
    public init() {}

    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var localRank: Int { 0 }
    public var localSize: Int { 1 }
    public var nodeCount: Int { 1 }
    public var processorName: String { ProcessName.host }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError) {}
    public func allReduceSum<E: ExactSumElement>(_ buffer: UnsafeMutableBufferPointer<E>) throws(CommError) {}
    public func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError) -> CommRequest {
        .completed
    }
    public func startTask(_ task: @escaping CommTask) throws(CommError) -> CommRequest {
        try task(Identity())
        return .completed
    }
    public func reduceScatterSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError) -> Range<Int> {
        0..<buffer.count
    }
    public func allGatherShards(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError) {}
    public func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ op: ReduceOp) throws(CommError) {}
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws(CommError) {}
    public func allGather(_ mine: UnsafeRawBufferPointer, into all: UnsafeMutableRawBufferPointer) throws(CommError) {
        precondition(all.count == mine.count, "allGather: \(all.count) bytes for one rank's \(mine.count)")
        all.copyMemory(from: mine)
    }
    public func barrier() throws(CommError) {}
    public func makeSideChannel() throws(CommError) -> SideChannel? { nil }
    public func makeNodeMemory(count: Int) throws(CommError) -> NodeMemory? { nil }
    public func algorithmName(forBuffersOf bytes: [Int]) -> String { "none (world 1)" }
    public func shutdown() {}
    public func abort(code: Int32) -> Never { exit(code) }

    /// A world of one's collectives, which change nothing.
    private struct Identity: TaskCollectives {
        func allReduceSum<E: ExactSumElement>(_ buffer: UnsafeMutableBufferPointer<E>) throws(CommError) {}
        func allReduceSum<E: ExactSumElement>(_ sums: UnsafeMutableBufferPointer<E>, convertingInto floats: UnsafeMutableBufferPointer<Float>,
                          _ convert: (Range<Int>) -> Void) throws(CommError) {
            convert(0..<sums.count)
        }
        func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>) throws(CommError) {}
    }
}
