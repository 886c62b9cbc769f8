import CMPI
import Comm
import Glibc

/// The side channel over MPI point-to-point, used by one thread only.
final class MPISideChannel: SideChannel {
    static let words = 8
    private let comm: MPI_Comm
    private var sends: [(buffer: UnsafeMutablePointer<Int64>, request: MPI_Request?)] = []

    init(comm: MPI_Comm) { self.comm = comm }

    deinit {
        // Pending sends to ranks that are gone are abandoned with the process.
        for s in sends { s.buffer.deallocate() }
    }

    func post(_ words: [Int64], to rank: Int) throws(CommError) {
        precondition(words.count == MPISideChannel.words, "SideChannel: \(words.count) words, expected \(MPISideChannel.words)")
        let buffer = UnsafeMutablePointer<Int64>.allocate(capacity: MPISideChannel.words)
        buffer.initialize(from: words, count: MPISideChannel.words)
        var request: MPI_Request? = nil
        try MPIRuntime.check(MPI_Isend(buffer, Int32(MPISideChannel.words), lockstep_type_int64(), Int32(rank), 29, comm, &request),
                             "MPI_Isend (watchdog message to rank \(rank))")
        sends.append((buffer, request))
        sends.removeAll { s in
            var request = s.request
            var done: Int32 = 0
            MPI_Test(&request, &done, nil)
            if done != 0 { s.buffer.deallocate() }
            return done != 0
        }
    }

    func poll() throws(CommError) -> (source: Int, words: [Int64])? {
        var flag: Int32 = 0
        var status = MPI_Status()
        try MPIRuntime.check(MPI_Iprobe(lockstep_any_source(), 29, comm, &flag, &status), "MPI_Iprobe (watchdog)")
        guard flag != 0 else { return nil }
        var words = [Int64](repeating: 0, count: MPISideChannel.words)
        try MPIRuntime.check(MPI_Recv(&words, Int32(MPISideChannel.words), lockstep_type_int64(), status.MPI_SOURCE, 29, comm, nil),
                             "MPI_Recv (watchdog message from rank \(status.MPI_SOURCE))")
        return (Int(status.MPI_SOURCE), words)
    }
}
