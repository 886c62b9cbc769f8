import Comm
import CMPI
import Glibc

/// Process-wide MPI set-up: initialisation at the thread level the communication thread
/// needs, error strings, and finalisation.
public enum MPIRuntime {
    /// Initialises MPI with MPI_THREAD_MULTIPLE: the communication thread, the main thread's
    /// control collectives and the watchdog each use MPI, on communicators of their own.
    /// - Throws: `CommError` if MPI fails, or provides a lower thread level.
    public static func initialize() throws(CommError) {
        var provided: Int32 = 0
        try check(MPI_Init_thread(nil, nil, lockstep_thread_multiple(), &provided), "MPI_Init_thread")
        guard provided == lockstep_thread_multiple() else {
            throw CommError(operation: "MPI_Init_thread", reason:
                "MPI provides thread level \(provided), Lockstep needs MPI_THREAD_MULTIPLE (\(lockstep_thread_multiple())); use an Open MPI built with thread support")
        }
        try check(MPI_Comm_set_errhandler(lockstep_comm_world(), lockstep_errors_return()), "MPI_Comm_set_errhandler")
    }

    /// Whether MPI_Init_thread has run.
    public static var isInitialized: Bool {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        return flag != 0
    }

    /// This process's rank in MPI_COMM_WORLD.
    public static var worldRank: Int {
        var rank: Int32 = 0
        MPI_Comm_rank(lockstep_comm_world(), &rank)
        return Int(rank)
    }

    /// The number of processes in MPI_COMM_WORLD.
    public static var worldSize: Int {
        var size: Int32 = 0
        MPI_Comm_size(lockstep_comm_world(), &size)
        return Int(size)
    }

    /// Ends every process of the job with `code` (MPI_Abort on MPI_COMM_WORLD).
    public static func abortWorld(code: Int32) -> Never {
        MPI_Abort(lockstep_comm_world(), code)
        exit(code)
    }

    public static func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if isInitialized && finalized == 0 { MPI_Finalize() }
    }

    /// MPI's text for an error code.
    public static func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(lockstep_max_error_string()) + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &buffer, &length) == MPI_SUCCESS else { return "MPI error \(code)" }
        return String(nulTerminated: buffer)
    }

    /// Throws a `CommError` naming `operation` unless `code` is MPI_SUCCESS.
    @inline(__always)
    static func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(CommError) {
        if code != MPI_SUCCESS {
            throw CommError(operation: operation(), code: code, reason: errorString(code))
        }
    }
}
