import Comm
import CMPI
import Glibc

/// A set of ranks that exchange point-to-point messages on one MPI communicator: the world,
/// a node, or the node leaders. The all-reduce algorithms are written against it.
struct PeerGroup {
    let comm: MPI_Comm
    let rank: Int
    let size: Int
    /// When waits rest and when they spin.
    let pacing: WaitPacing
    /// Scratch memory for receives and encodes, owned by the communicator.
    let scratch: Scratch

    private static let tag: Int32 = 17

    init(comm: MPI_Comm, pacing: WaitPacing, scratch: Scratch) throws(CommError) {
        var r: Int32 = 0, s: Int32 = 0
        try MPIRuntime.check(MPI_Comm_rank(comm, &r), "MPI_Comm_rank")
        try MPIRuntime.check(MPI_Comm_size(comm, &s), "MPI_Comm_size")
        self.comm = comm
        rank = Int(r)
        size = Int(s)
        self.pacing = pacing
        self.scratch = scratch
    }

    /// Sends `sendCount` elements to `destination` while receiving `receiveCount` from
    /// `source`; either side may be skipped with a nil pointer.
    func exchange(send: UnsafeRawPointer?, sendCount: Int, to destination: Int,
                  receive: UnsafeMutableRawPointer?, receiveCount: Int, from source: Int,
                  datatype: MPI_Datatype, _ what: StaticString, step: Int) throws(CommError) {
        var requests: (MPI_Request?, MPI_Request?) = (lockstep_request_null(), lockstep_request_null())
        if let receive {
            try MPIRuntime.check(MPI_Irecv(receive, Int32(receiveCount), datatype, Int32(source), PeerGroup.tag, comm, &requests.0),
                                 "MPI_Irecv (\(what), step \(step), \(receiveCount) elements from rank \(source))")
        }
        if let send {
            try MPIRuntime.check(MPI_Isend(send, Int32(sendCount), datatype, Int32(destination), PeerGroup.tag, comm, &requests.1),
                                 "MPI_Isend (\(what), step \(step), \(sendCount) elements to rank \(destination))")
        }
        try withUnsafeMutableBytes(of: &requests) { (raw) throws(CommError) in
            let list = raw.baseAddress!.assumingMemoryBound(to: MPI_Request?.self)
            try wait(list, 2, what, step: step)
        }
    }

    private func wait(_ requests: UnsafeMutablePointer<MPI_Request?>, _ count: Int32, _ what: StaticString,
                      step: Int) throws(CommError) {
        if pacing.sleepMicroseconds <= 0 {
            try MPIRuntime.check(MPI_Waitall(count, requests, nil), "MPI_Waitall (\(what), step \(step))")
            return
        }
        var done: Int32 = 0
        while true {
            try MPIRuntime.check(MPI_Testall(count, requests, &done, nil), "MPI_Testall (\(what), step \(step))")
            if done != 0 { return }
            pacing.pause()
        }
    }
}

/// Grow-only scratch memory for the algorithms, so that a training step allocates nothing:
/// it reaches its final size on the first step.
final class Scratch: @unchecked Sendable {
    private(set) var bytes = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    private(set) var capacity = 64

    deinit { bytes.deallocate() }

    /// At least `byteCount` bytes; the contents are not kept across calls.
    func reserve(_ byteCount: Int) -> UnsafeMutableRawPointer {
        if byteCount > capacity {
            bytes.deallocate()
            capacity = max(byteCount, capacity * 2)
            bytes = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        }
        return bytes
    }
}
