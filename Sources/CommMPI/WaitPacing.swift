import Comm
import Glibc
import Synchronization

/// How waits for MPI requests share the core with training.
///
/// Open MPI has no asynchronous progress, so a transfer moves only while its process is
/// inside MPI; a wait that spins in MPI_Waitall keeps it moving but, on a core it shares with
/// the rank's compute, takes that core's time even when the peer is not ready. With
/// `comm.poll_us = n > 0` the communication thread tests its requests and then sleeps n µs
/// while training computes, and spins as soon as the step waits for it (`awaiting`): the
/// core goes to backward while nothing is pressing, and to the transfer when it is. Waits on
/// any other thread spin: their caller is waiting.
final class WaitPacing: @unchecked Sendable {
    /// comm.poll_us: the communication thread's sleep between tests while nobody waits (0: spin).
    let sleepMicroseconds: Int
    /// Threads blocked on the communication thread's results.
    private let waiters = Atomic<Int>(0)
    /// The communication thread (its pthread_t), once it runs; 0 before.
    private let restingThread = Atomic<UInt>(0)

    init(sleepMicroseconds: Int) {
        self.sleepMicroseconds = sleepMicroseconds
    }

    /// Called by the communication thread when it starts: its waits may rest. (A sleep lasts
    /// about 50 µs more than asked: the default timer slack of Linux.)
    func adoptCurrentThread() {
        restingThread.store(pthread_self(), ordering: .sequentiallyConsistent)
    }

    /// Marks a thread blocked on results until `body` returns.
    func awaiting<T>(_ body: () throws -> T) rethrows -> T {
        waiters.add(1, ordering: .sequentiallyConsistent)
        defer { waiters.subtract(1, ordering: .sequentiallyConsistent) }
        return try body()
    }

    /// Between two tests of unfinished requests: sleeps on the communication thread while no
    /// one waits for it, returns at once otherwise.
    func pause() {
        guard sleepMicroseconds > 0, pthread_equal(restingThread.load(ordering: .sequentiallyConsistent), pthread_self()) != 0,
              waiters.load(ordering: .sequentiallyConsistent) == 0 else { return }
        usleep(UInt32(sleepMicroseconds))
    }
}
