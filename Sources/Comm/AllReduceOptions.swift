/// How the MPI communicator sums buffers. Config keys: comm.algorithm, comm.compression,
/// comm.ranks_per_node, comm.poll_us.
public struct AllReduceOptions: Sendable, Equatable {
    public var algorithm: AllReduceAlgorithm
    public var compression: Compression
    /// Ranks per emulated node for the hierarchical algorithm (0: the real nodes, from
    /// MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)).
    public var ranksPerNode: Int
    /// How the communication thread waits on a transfer: 0 spins in MPI, as blocking MPI
    /// calls do; n > 0 tests and sleeps n µs between tests while nobody waits for it, leaving
    /// the core to compute (see WaitPacing).
    public var pollMicroseconds: Int

    public init(algorithm: AllReduceAlgorithm = .auto, compression: Compression = .none, ranksPerNode: Int = 0,
                pollMicroseconds: Int = 0) {
        self.algorithm = algorithm
        self.compression = compression
        self.ranksPerNode = ranksPerNode
        self.pollMicroseconds = pollMicroseconds
    }
}

/// The all-reduce algorithms. All but `mpi` are Lockstep's own, on MPI point-to-point.
public enum AllReduceAlgorithm: String, Sendable, CaseIterable {
    /// Picks per call from the message size, the world size and the node layout.
    case auto
    /// Open MPI's MPI_Allreduce / MPI_Iallreduce.
    case mpi
    /// Reduce-scatter then allgather around a ring: 2(p-1) steps, bandwidth-optimal.
    case ring
    /// Recursive halving-doubling (Rabenseifner): 2·lg p steps, bandwidth-optimal.
    case rhd
    /// Reduce inside each node, all-reduce among node leaders, broadcast inside each node.
    case hierarchical
}

/// What crosses the wire. Sums are kept in fp32 wherever the algorithm allows: received
/// values are widened before they are added.
public enum Compression: String, Sendable, CaseIterable {
    case none, fp16, bf16
}

/// How all-reduces started with `startAllReduceSum` make progress (comm.progress).
public enum ProgressMode: String, Sendable, CaseIterable {
    /// A communication thread runs them.
    case thread
    /// MPI_Iallreduce, tested by the caller between layers.
    case test
}
