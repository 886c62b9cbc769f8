import Glibc
import Synchronization

/// SIGTERM and SIGUSR1, which SLURM sends before a time limit (`--signal=TERM@60`), ask the
/// run to stop: the trainer finishes the step, writes a checkpoint, and exits with
/// `ExitCode.preempted`. The handler only records the signal; ranks agree on the step to
/// stop at through a collective.
public enum StopSignal {
    private static let received = Atomic<Int32>(0)

    public static func install() {
        for signo in [SIGTERM, SIGUSR1] {
            signal(signo) { number in StopSignal.received.store(number, ordering: .relaxed) }
        }
    }

    /// The signal received, or 0.
    public static var pending: Int32 { received.load(ordering: .relaxed) }

    public static func name(_ signo: Int32) -> String {
        switch signo {
        case SIGTERM: "SIGTERM"
        case SIGUSR1: "SIGUSR1"
        default: "signal \(signo)"
        }
    }
}
