import Comm
import CMPI
import Glibc

/// The communicator on Open MPI.
///
/// It duplicates MPI_COMM_WORLD into separate communicators so that the threads that use MPI
/// never share one: `data` for the gradient all-reduces (used by the communication thread,
/// or by the caller when nothing is in flight), `control` for the main thread's small
/// collectives, and the node and leader groups of the hierarchical algorithm. Errors are
/// returned (MPI_ERRORS_RETURN) and become `CommError` values.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    public let localRank: Int
    public let localSize: Int
    public let nodeCount: Int
    public let processorName: String
    public let options: AllReduceOptions

    private let control: MPI_Comm
    private let world: PeerGroup
    private let hierarchy: HierarchicalGroups
    private var queue: CollectiveQueue!
    private let scratch = Scratch()
    private let pacing: WaitPacing

    /// Sets up the communicators. MPI must be initialised (`MPIRuntime.initialize`).
    /// - Parameter progress: how started all-reduces progress; `.test` needs the `mpi` algorithm.
    public init(options: AllReduceOptions, progress: ProgressMode = .thread) throws(CommError) {
        self.options = options
        pacing = WaitPacing(sleepMicroseconds: options.pollMicroseconds)
        let worldComm = lockstep_comm_world()!
        control = try MPICommunicator.duplicate(worldComm)
        world = try PeerGroup(comm: MPICommunicator.duplicate(worldComm), pacing: pacing, scratch: scratch)
        rank = world.rank
        size = world.size

        var nodeComm: MPI_Comm? = nil
        if options.ranksPerNode > 0 {
            try MPIRuntime.check(MPI_Comm_split(worldComm, Int32(rank / options.ranksPerNode), Int32(rank), &nodeComm),
                                 "MPI_Comm_split (comm.ranks_per_node = \(options.ranksPerNode))")
        } else {
            try MPIRuntime.check(MPI_Comm_split_type(worldComm, lockstep_comm_type_shared(), Int32(rank), lockstep_info_null(),
                                                     &nodeComm), "MPI_Comm_split_type (MPI_COMM_TYPE_SHARED)")
        }
        let node = try PeerGroup(comm: nodeComm!, pacing: pacing, scratch: scratch)
        localRank = node.rank
        localSize = node.size
        var leaderComm: MPI_Comm? = nil
        try MPIRuntime.check(MPI_Comm_split(worldComm, localRank == 0 ? 0 : lockstep_undefined(), Int32(rank), &leaderComm),
                             "MPI_Comm_split (node leaders)")
        let leaders = localRank == 0 ? try PeerGroup(comm: leaderComm!, pacing: pacing, scratch: scratch) : nil
        hierarchy = HierarchicalGroups(node: node, leaders: leaders)
        // Every leader knows the node count; the others learn it from their leader.
        var nodes = Int64(leaders?.size ?? 0)
        try MPIRuntime.check(MPI_Bcast(&nodes, 1, lockstep_type_int64(), 0, node.comm), "MPI_Bcast (node count)")
        nodeCount = Int(nodes)

        var name = [CChar](repeating: 0, count: Int(lockstep_max_processor_name()) + 1)
        var length: Int32 = 0
        MPI_Get_processor_name(&name, &length)
        processorName = String(nulTerminated: name)

        precondition(progress == .thread || options.algorithm == .mpi,
                     "MPI_Test progress drives MPI_Iallreduce, so it needs the mpi algorithm (the config checks it)")
        let data = world.comm
        queue = CollectiveQueue(
            progress: progress == .thread ? .thread : .test, pacing: pacing,
            // Weak: a communicator dropped after an error, with work still queued, fails that
            // work instead of running it on a communicator being torn down.
            run: { [weak self] (buffer) throws(CommError) in
                guard let self else { throw MPICommunicator.closed(with: "all-reduce (\(buffer.count) floats)") }
                try self.sumFloats(buffer)
            },
            runTask: { [weak self] (task) throws(CommError) in
                guard let self else { throw MPICommunicator.closed(with: "communication task") }
                try task(DataPath(owner: self))
            },
            issue: { (buffer, request) throws(CommError) in
                try MPIRuntime.check(MPI_Iallreduce(lockstep_in_place(), buffer.baseAddress, Int32(buffer.count),
                                                    lockstep_type_float(), lockstep_op_sum(), data, request),
                                     "MPI_Iallreduce (\(buffer.count) floats)")
            })
    }

    deinit { queue?.shutdown() }

    private static func closed(with work: String) -> CommError {
        CommError(operation: work, reason: "the communicator was closed with this \(work) still queued")
    }

    /// Waits for the communication thread to finish what was submitted, and stops it.
    public func shutdown() { queue.shutdown() }

    public func algorithmName(forBuffersOf bytes: [Int]) -> String {
        guard options.algorithm == .auto else { return options.algorithm.rawValue }
        return "auto (\(Set(bytes.map { algorithm(forBytes: $0).rawValue }).sorted().joined(separator: ", ")))"
    }

    /// The algorithm that sums a buffer of `bytes` bytes: the configured one, or `auto`'s
    /// pick. Auto takes hierarchical across several nodes of several ranks; otherwise
    /// halving-doubling where it needs fewer steps at no cost in bandwidth (a power-of-two
    /// world, or messages of up to 1 MiB whose cost is latency), and the ring for large
    /// messages on other world sizes, where the fold of halving-doubling would cost a whole
    /// extra buffer.
    public func algorithm(forBytes bytes: Int) -> AllReduceAlgorithm {
        if options.algorithm != .auto { return options.algorithm }
        return Self.autoPick(bytes: bytes, ranks: size, nodes: nodeCount)
    }

    static func autoPick(bytes: Int, ranks: Int, nodes: Int) -> AllReduceAlgorithm {
        if nodes > 1 && nodes < ranks { return .hierarchical }
        if ranks & (ranks - 1) == 0 || bytes <= 1 << 20 { return .rhd }
        return .ring
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError) {
        precondition(queue.isIdle, "allReduceSum: a started all-reduce is still in flight")
        try sumFloats(buffer)
    }

    public func allReduceSum<E: ExactSumElement>(_ buffer: UnsafeMutableBufferPointer<E>) throws(CommError) {
        precondition(queue.isIdle, "allReduceSum: a started all-reduce is still in flight")
        try sum(buffer, PlainWire<E>.self)
    }

    public func reduceScatterSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError) -> Range<Int> {
        precondition(queue.isIdle, "reduceScatterSum: a started all-reduce is still in flight")
        return switch options.compression {
        case .none: try world.ringReduceScatter(buffer, PlainWire<Float>.self)
        case .fp16: try world.ringReduceScatter(buffer, Float16Wire.self)
        case .bf16: try world.ringReduceScatter(buffer, BFloat16Wire.self)
        }
    }

    public func allGatherShards(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError) {
        precondition(queue.isIdle, "allGatherShards: a started all-reduce is still in flight")
        try world.ringAllGather(buffer, PlainWire<Float>.self)
    }

    /// Maps `NodeSharedMemory` of `count` floats per buffer on every rank, or returns nil
    /// when the world spans more than one node (as comm.ranks_per_node may also say), where
    /// the ranks cannot share memory. Collective over the world.
    public func makeNodeMemory(count: Int) throws(CommError) -> NodeMemory? {
        guard nodeCount == 1, size > 1 else { return nil }
        precondition(localRank == rank, "one node: local rank \(localRank) must be world rank \(rank)")
        return try NodeSharedMemory(count: count, node: hierarchy.node.comm)
    }

    public func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError) -> CommRequest {
        try queue.submit(buffer)
    }

    public func startTask(_ task: @escaping CommTask) throws(CommError) -> CommRequest {
        try queue.submit(task)
    }

    /// A task's collectives: on the data communicator, from the thread that runs the queue.
    private struct DataPath: TaskCollectives {
        let owner: MPICommunicator

        func allReduceSum<E: ExactSumElement>(_ buffer: UnsafeMutableBufferPointer<E>) throws(CommError) {
            try owner.sum(buffer, PlainWire<E>.self)
        }

        func allReduceSum<E: ExactSumElement>(_ sums: UnsafeMutableBufferPointer<E>, convertingInto floats: UnsafeMutableBufferPointer<Float>,
                          _ convert: (Range<Int>) -> Void) throws(CommError) {
            precondition(sums.count == floats.count, "allReduceSum: \(sums.count) sums for \(floats.count) floats")
            // At two ranks halving-doubling exchanges the same halves as the ring, so it takes
            // the ring's split form too.
            let algorithm = owner.algorithm(forBytes: sums.count * MemoryLayout<E>.stride)
            if owner.size > 1 && (algorithm == .ring || (algorithm == .rhd && owner.size == 2)) {
                convert(try owner.world.ringReduceScatter(sums, PlainWire<E>.self))
                try owner.world.ringAllGather(floats, PlainWire<Float>.self)
            } else {
                try allReduceSum(sums)
                convert(0..<sums.count)
            }
        }

        /// Halving-doubling on point-to-point messages, whose waits rest like the sums' do
        /// (MPI_Iallreduce's progress takes locks on every test).
        func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>) throws(CommError) {
            try values.withMemoryRebound(to: Maximum.self) { (maxima) throws(CommError) in
                try owner.world.halvingDoublingAllReduce(maxima, PlainWire<Maximum>.self)
            }
        }
    }

    private func sumFloats(_ buffer: UnsafeMutableBufferPointer<Float>) throws(CommError) {
        switch options.compression {
        case .none: try sum(buffer, PlainWire<Float>.self)
        case .fp16: try sum(buffer, Float16Wire.self)
        case .bf16: try sum(buffer, BFloat16Wire.self)
        }
    }

    private func sum<F: WireFormat>(_ buffer: UnsafeMutableBufferPointer<F.Element>, _ format: F.Type) throws(CommError) {
        if size == 1 || buffer.isEmpty { return }
        let bytes = buffer.count * MemoryLayout<F.Element>.stride
        switch algorithm(forBytes: bytes) {
        case .auto, .mpi:
            try nativeAllReduce(buffer)
        case .ring:
            try world.ringAllReduce(buffer, format)
        case .rhd:
            try world.halvingDoublingAllReduce(buffer, format)
        case .hierarchical:
            try hierarchy.allReduce(buffer, format) { [nodeCount] bytes in
                MPICommunicator.autoPick(bytes: bytes, ranks: nodeCount, nodes: nodeCount)
            }
        }
    }

    /// MPI's own sum all-reduce on the data communicator, in the element type; with pacing, a
    /// tested MPI_Iallreduce that sleeps between tests instead of spinning on the core the
    /// main thread needs.
    private func nativeAllReduce<E>(_ buffer: UnsafeMutableBufferPointer<E>) throws(CommError) {
        let what = "MPI_Allreduce (\(buffer.count) elements)", datatype = elementDatatype(E.self)
        if pacing.sleepMicroseconds <= 0 {
            try MPIRuntime.check(MPI_Allreduce(lockstep_in_place(), buffer.baseAddress, Int32(buffer.count), datatype,
                                               lockstep_op_sum(), world.comm), what)
            return
        }
        var request: MPI_Request? = lockstep_request_null()
        try MPIRuntime.check(MPI_Iallreduce(lockstep_in_place(), buffer.baseAddress, Int32(buffer.count), datatype,
                                            lockstep_op_sum(), world.comm, &request), what)
        var done: Int32 = 0
        while done == 0 {
            try MPIRuntime.check(MPI_Test(&request, &done, nil), what)
            if done == 0 { pacing.pause() }
        }
    }

    public func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ op: ReduceOp) throws(CommError) {
        let mpiOp = switch op {
        case .sum: lockstep_op_sum()
        case .max: lockstep_op_max()
        case .min: lockstep_op_min()
        }
        try MPIRuntime.check(MPI_Allreduce(lockstep_in_place(), values.baseAddress, Int32(values.count),
                                           lockstep_type_double(), mpiOp, control), "MPI_Allreduce (\(values.count) control values)")
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws(CommError) {
        // MPI counts are Int32; send large buffers in pieces.
        var offset = 0
        repeat {
            let n = min(bytes.count - offset, 1 << 30)
            try MPIRuntime.check(MPI_Bcast(bytes.baseAddress.map { $0 + offset }, Int32(n), lockstep_type_byte(), Int32(root),
                                           control), "MPI_Bcast (\(bytes.count) bytes from rank \(root))")
            offset += n
        } while offset < bytes.count
    }

    public func allGather(_ mine: UnsafeRawBufferPointer, into all: UnsafeMutableRawBufferPointer) throws(CommError) {
        precondition(all.count == mine.count * size, "allGather: \(all.count) bytes for \(size) × \(mine.count)")
        try MPIRuntime.check(MPI_Allgather(mine.baseAddress, Int32(mine.count), lockstep_type_byte(), all.baseAddress,
                                           Int32(mine.count), lockstep_type_byte(), control),
                             "MPI_Allgather (\(mine.count) bytes per rank)")
    }

    public func barrier() throws(CommError) {
        try MPIRuntime.check(MPI_Barrier(control), "MPI_Barrier")
    }

    public func makeSideChannel() throws(CommError) -> SideChannel? {
        MPISideChannel(comm: try MPICommunicator.duplicate(lockstep_comm_world()!))
    }

    public func abort(code: Int32) -> Never {
        MPI_Abort(lockstep_comm_world(), code)
        exit(code)
    }

    /// A copy of `comm` whose errors are returned, for one user's collectives alone.
    static func duplicate(_ comm: MPI_Comm) throws(CommError) -> MPI_Comm {
        var copy: MPI_Comm? = nil
        try MPIRuntime.check(MPI_Comm_dup(comm, &copy), "MPI_Comm_dup")
        try MPIRuntime.check(MPI_Comm_set_errhandler(copy, lockstep_errors_return()), "MPI_Comm_set_errhandler")
        return copy!
    }
}

/// The MPI datatype of an element type.
func elementDatatype<E>(_ type: E.Type) -> MPI_Datatype {
    if E.self == Float.self { return lockstep_type_float() }
    if E.self == Int32.self { return lockstep_type_int32() }
    if E.self == Int64.self { return lockstep_type_int64() }
    if E.self == Double.self || E.self == Maximum.self { return lockstep_type_double() }
    preconditionFailure("no MPI datatype for \(E.self)")
}
