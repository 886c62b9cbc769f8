import Glibc

/// What the process has used of the machine.
public enum ResourceUsage {
    /// The peak resident set size of this process, in MB (getrusage's ru_maxrss).
    public static var peakResidentMB: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
