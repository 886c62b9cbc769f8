import Comm
import CMPI
import Glibc

/// `NodeMemory` in MPI shared-memory windows (`MPI_Win_allocate_shared`): one gradient
/// buffer per rank, ONE copy of the parameters for the node, and one progress counter per rank,
/// each segment on its own pages. The counters follow the MPI standard's pattern for flags in a
/// shared window under the unified memory model: aligned 8-byte loads and stores ordered by
/// MPI_Win_sync, in one passive epoch (MPI_Win_lock_all) for the windows' life.
final class NodeSharedMemory: NodeMemory, @unchecked Sendable {
    /// Floats in each buffer.
    public let count: Int
    /// This rank's index in `gradients`.
    public let rank: Int
    /// Every rank's gradient buffer, by rank; this rank writes only its own.
    public let gradients: [UnsafeMutableBufferPointer<Float>]
    /// The node's one copy of the parameters.
    public let parameters: UnsafeMutableBufferPointer<Float>
    /// Every rank's progress counter, by rank, each on its own page.
    private let progress: [UnsafeMutablePointer<UInt64>]
    private let comm: MPI_Comm
    private let gradientWindow: MPI_Win, parameterWindow: MPI_Win, progressWindow: MPI_Win

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
        // Open MPI places a segment after its window's header, 8 bytes past a cache line: each
        // is asked for one line more and used from its first whole line, the same offset in
        // every process, since each maps the segment at a page boundary.
        let line = 64
        let bytes = MPI_Aint(max(count, 1) * MemoryLayout<Float>.stride + line)
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
        func segment(_ window: MPI_Win, of rank: Int32, _ what: String) throws(CommError) -> UnsafeMutableRawPointer {
            var bytes: MPI_Aint = 0, unit: Int32 = 0
            var base: UnsafeMutableRawPointer? = nil
            try MPIRuntime.check(MPI_Win_shared_query(window, rank, &bytes, &unit, &base),
                                 "MPI_Win_shared_query (\(what) of rank \(rank))")
            return base!.alignedUp(toMultipleOf: line)
        }
        func floats(_ base: UnsafeMutableRawPointer) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(start: base.bindMemory(to: Float.self, capacity: max(count, 1)), count: count)
        }
        let gradientWindow = try allocate(bytes, "gradients")
        let parameterWindow = try allocate(r == 0 ? bytes : 0, "parameters")
        let progressWindow = try allocate(MPI_Aint(MemoryLayout<UInt64>.stride + line), "progress")
        (self.gradientWindow, self.parameterWindow, self.progressWindow) = (gradientWindow, parameterWindow, progressWindow)
        var gradients: [UnsafeMutableBufferPointer<Float>] = [], progress: [UnsafeMutablePointer<UInt64>] = []
        for q in 0..<size {
            gradients.append(floats(try segment(gradientWindow, of: q, "gradients")))
            progress.append(try segment(progressWindow, of: q, "progress").bindMemory(to: UInt64.self, capacity: 1))
        }
        self.gradients = gradients
        self.progress = progress
        parameters = floats(try segment(parameterWindow, of: 0, "parameters"))
        gradients[rank].initialize(repeating: 0)
        progress[rank].initialize(to: 0)
        if rank == 0 { parameters.initialize(repeating: 0) }
        try synchronize()
    }

    /// Orders every rank's writes to the buffers before every rank's later reads: a barrier
    /// of the node between two memory syncs. Collective over the node.
    public func synchronize() throws(CommError) {
        try syncAll()
        try MPIRuntime.check(MPI_Barrier(comm), "MPI_Barrier (node shared memory)")
        try syncAll()
    }

    private func syncAll() throws(CommError) {
        try sync(gradientWindow)
        try sync(parameterWindow)
        try sync(progressWindow)
    }

    /// MPI_Win_sync: orders this process's loads and stores of `window` around it.
    private func sync(_ window: MPI_Win) throws(CommError) {
        try MPIRuntime.check(MPI_Win_sync(window), "MPI_Win_sync (node shared memory)")
    }

    /// Makes this rank's writes to the buffers so far visible to any rank that sees `value` in
    /// its counter. Values must grow from one call to the next.
    public func publish(_ value: UInt64) throws(CommError) {
        try sync(gradientWindow)
        try sync(parameterWindow)
        progress[rank].pointee = value
        try sync(progressWindow)
    }

    /// Whether every rank has published at least `value`. If so, what they wrote before it is
    /// visible to this rank's reads from now on.
    public func allReached(_ value: UInt64) throws(CommError) -> Bool {
        try sync(progressWindow)
        for counter in progress where counter.pointee < value { return false }
        try sync(gradientWindow)
        try sync(parameterWindow)
        return true
    }

    /// Waits, yielding the core to any rank that shares it, until `allReached(value)`.
    public func waitUntilAllReached(_ value: UInt64) throws(CommError) {
        while !(try allReached(value)) { sched_yield() }
    }
}
