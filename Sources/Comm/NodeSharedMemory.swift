import CMPI

/// Memory that every rank of a one-node world maps: one gradient buffer per rank, which the
/// other ranks read, and ONE copy of the parameters for the whole node (MPI shared-memory
/// windows, `MPI_Win_allocate_shared`).
///
/// With it the sharded optimizer sends nothing. Its reduce-scatter becomes each rank adding
/// the other ranks' values of its shard straight out of their buffers, and its allgather
/// disappears, because every rank's next forward reads the one copy of the parameters that
/// the shards' owners have just updated. What is left is two barriers and one pass over a
/// shard, instead of two full copies of the gradients through MPI's shared-memory transport.
///
/// Protocol of a step (`synchronize` = MPI_Win_sync, a barrier of the node, MPI_Win_sync):
/// 1. Each rank's backward writes its own gradient buffer.
/// 2. `synchronize`: every gradient is complete and visible to every rank.
/// 3. `sumShard`: each rank adds the others' values of its shard into its own buffer.
/// 4. A collective every rank enters after step 3 (the trainer's control all-reduce): from
///    then on nobody reads another rank's gradients, so each may zero its own.
/// 5. Each rank updates its shard of the shared parameters.
/// 6. `synchronize`: the parameters are complete before any rank's next forward reads them.
/// Outside steps the parameters are written by one rank (initialisation, a restore) and then
/// `synchronize`d.
public final class NodeSharedMemory: @unchecked Sendable {
    /// Floats in each buffer.
    public let count: Int
    /// This rank's index in `gradients`.
    public let rank: Int
    /// Every rank's gradient buffer, by rank; this rank writes only its own.
    public let gradients: [UnsafeMutableBufferPointer<Float>]
    /// The node's one copy of the parameters.
    public let parameters: UnsafeMutableBufferPointer<Float>
    private let comm: MPI_Comm
    private let windows: [MPI_Win]

    /// Maps the buffers on every rank of `node`, a communicator whose ranks share memory.
    /// Collective over `node`. The windows live until MPI_Finalize: tensors view them.
    init(count: Int, node: MPI_Comm) throws(CommError) {
        self.count = count
        let comm = try MPICommunicator.duplicate(node)
        self.comm = comm
        var r: Int32 = 0, size: Int32 = 0
        try MPIRuntime.check(MPI_Comm_rank(comm, &r), "MPI_Comm_rank")
        try MPIRuntime.check(MPI_Comm_size(comm, &size), "MPI_Comm_size")
        rank = Int(r)
        let bytes = MPI_Aint(max(count, 1) * MemoryLayout<Float>.stride)
        // Each segment on its own pages, rather than all of them back to back.
        var info: MPI_Info? = nil
        try MPIRuntime.check(MPI_Info_create(&info), "MPI_Info_create")
        defer { MPI_Info_free(&info) }
        try MPIRuntime.check(MPI_Info_set(info, "alloc_shared_noncontig", "true"), "MPI_Info_set (alloc_shared_noncontig)")

        func allocate(_ bytes: MPI_Aint, _ what: String) throws(CommError) -> MPI_Win {
            var base: UnsafeMutableRawPointer? = nil
            var window: MPI_Win? = nil
            try MPIRuntime.check(MPI_Win_allocate_shared(bytes, Int32(MemoryLayout<Float>.stride), info, comm, &base, &window),
                                 "MPI_Win_allocate_shared (\(what), \(bytes) bytes on rank \(r))")
            try MPIRuntime.check(MPI_Win_set_errhandler(window, lockstep_errors_return()), "MPI_Win_set_errhandler")
            // One passive epoch for the window's life: MPI_Win_sync then orders the memory.
            try MPIRuntime.check(MPI_Win_lock_all(Int32(lockstep_mode_nocheck()), window), "MPI_Win_lock_all (\(what))")
            return window!
        }
        func segment(_ window: MPI_Win, of rank: Int32, _ what: String) throws(CommError) -> UnsafeMutableBufferPointer<Float> {
            var bytes: MPI_Aint = 0, unit: Int32 = 0
            var base: UnsafeMutableRawPointer? = nil
            try MPIRuntime.check(MPI_Win_shared_query(window, rank, &bytes, &unit, &base),
                                 "MPI_Win_shared_query (\(what) of rank \(rank))")
            return UnsafeMutableBufferPointer(start: base!.bindMemory(to: Float.self, capacity: max(count, 1)), count: count)
        }
        let gradientWindow = try allocate(bytes, "gradients")
        let parameterWindow = try allocate(r == 0 ? bytes : 0, "parameters")
        windows = [gradientWindow, parameterWindow]
        var gradients: [UnsafeMutableBufferPointer<Float>] = []
        for q in 0..<size { gradients.append(try segment(gradientWindow, of: q, "gradients")) }
        self.gradients = gradients
        parameters = try segment(parameterWindow, of: 0, "parameters")
        gradients[rank].initialize(repeating: 0)
        if rank == 0 { parameters.initialize(repeating: 0) }
        try synchronize()
    }

    /// Orders every rank's writes to the buffers before every rank's later reads: a barrier
    /// of the node between two memory syncs. Collective over the node.
    public func synchronize() throws(CommError) {
        for w in windows { try MPIRuntime.check(MPI_Win_sync(w), "MPI_Win_sync (node shared memory)") }
        try MPIRuntime.check(MPI_Barrier(comm), "MPI_Barrier (node shared memory)")
        for w in windows { try MPIRuntime.check(MPI_Win_sync(w), "MPI_Win_sync (node shared memory)") }
    }

    /// Adds every other rank's gradients in `shard` into this rank's, in rank order: afterwards
    /// this rank's buffer holds the node's sum there. Only after a `synchronize`.
    public func sumShard(_ shard: Range<Int>) {
        precondition(shard.lowerBound >= 0 && shard.upperBound <= count, "sumShard: \(shard) outside 0..<\(count)")
        let mine = gradients[rank].baseAddress! + shard.lowerBound
        for (q, theirs) in gradients.enumerated() where q != rank {
            Float.accumulate(mine, theirs.baseAddress! + shard.lowerBound, count: shard.count)
        }
    }
}
