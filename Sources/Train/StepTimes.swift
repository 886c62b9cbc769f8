import Host

/// The durations of a run's steps, in memory that does not grow with the run: the throughput
/// is taken over the steps after warm-up (`RunSummary.warmupSteps`), and the median over the
/// last `kept` steps.
struct StepTimes {
    /// How many of the latest steps the median is taken over.
    static let kept = 4096
    private(set) var count = 0
    /// Nanoseconds of every step, and of every step after the warm-up's most.
    private var total: UInt64 = 0
    private var afterWarmup: UInt64 = 0
    private var first: [UInt64] = []
    private var latest = [UInt64](repeating: 0, count: StepTimes.kept)

    mutating func add(_ nanoseconds: UInt64) {
        if count < Self.mostWarmup { first.append(nanoseconds) } else { afterWarmup += nanoseconds }
        total += nanoseconds
        latest[count % Self.kept] = nanoseconds
        count += 1
    }

    /// The most steps any run leaves out as warm-up.
    private static let mostWarmup = RunSummary.warmupSteps(steps: .max)

    /// The steps that count for throughput, and their seconds.
    var timed: (steps: Int, seconds: Double) {
        let warmup = RunSummary.warmupSteps(steps: count)
        let nanoseconds = warmup == 0 ? total : afterWarmup + first.dropFirst(warmup).reduce(0, +)
        return (count - warmup, Double(nanoseconds) / 1e9)
    }

    /// The median step of the last `kept`, in milliseconds.
    var medianMilliseconds: Double {
        Statistics.median(latest.prefix(min(count, Self.kept)).map { Double($0) / 1e6 })
    }
}
