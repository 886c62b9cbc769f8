import CPeak
import Foundation

/// The fp32 rate one core of this machine reaches: fused multiply-adds on the widest vectors
/// it has, held in registers, so that nothing but the FMA units limits it. Model FLOPs
/// utilisation divides by it (`mfu` = model FLOPs per second ÷ (ranks × peak)).
///
/// The rate is the best of several short rounds after a warm-up (a busy core only lowers a
/// round), and is cached per machine (`MachineCache`), so that a run measures it once.
public struct CorePeak: Codable, Equatable, Sendable {
    /// GFLOP/s of one core (2 FLOPs per lane per FMA).
    public var gflops: Double
    /// Floats per FMA: 16 (AVX-512) or 8 (AVX2).
    public var vectorWidth: Int
    /// The rounds' rates, in the order run (GFLOP/s).
    public var roundGflops: [Double]
    /// When it was measured (ISO 8601).
    public var measuredAt: String

    enum CodingKeys: String, CodingKey {
        case gflops, vectorWidth = "vector_width", roundGflops = "round_gflops", measuredAt = "measured_at"
    }

    /// Where a peak came from.
    public enum Source: String, Sendable {
        case measured, cached
    }

    /// Measures the peak: a warm-up, then `rounds` rounds of about `roundSeconds` each on the
    /// calling thread. Nil on a CPU without AVX2 and FMA.
    public static func measure(rounds: Int = 7, roundSeconds: Double = 0.04) -> CorePeak? {
        let width = lockstep_fma_widest()
        guard width != lockstep_fma_none else { return nil }
        // Calibrate the iterations of one round on a short first run, which also warms up.
        var iterations: UInt64 = 1 << 16
        while true {
            let (flops, seconds) = timed(iterations, width)
            if seconds >= 0.01 {
                iterations = max(UInt64(Double(iterations) * roundSeconds / seconds), 1)
                _ = flops
                break
            }
            iterations *= 4
        }
        _ = timed(iterations, width)
        let rates = (0..<max(rounds, 1)).map { _ in
            let (flops, seconds) = timed(iterations, width)
            return Double(flops) / seconds / 1e9
        }
        return CorePeak(gflops: rates.max() ?? 0, vectorWidth: Int(width.rawValue), roundGflops: rates,
                        measuredAt: ISO8601DateFormatter().string(from: Date()))
    }

    private static func timed(_ iterations: UInt64, _ width: lockstep_fma_width) -> (UInt64, Double) {
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let flops = lockstep_fma_loop(iterations, width)
        clock_gettime(CLOCK_MONOTONIC, &end)
        return (flops, Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9)
    }

    /// The cache file of this machine's peak.
    public static func cachePath(_ cache: MachineCache = MachineCache()) -> String { cache.path("peak") }

    /// This machine's cached peak, or a fresh measurement; nil on a CPU without AVX2 and FMA.
    /// - Parameter store: whether a fresh measurement is cached. A core shared with other busy
    ///   processes (more ranks than cores) measures low, and such a figure is used for this run only.
    public static func cachedOrMeasured(_ cache: MachineCache = MachineCache(), store: Bool) -> (peak: CorePeak, source: Source)? {
        let path = cachePath(cache)
        if let peak = cache.read(CorePeak.self, at: path), peak.gflops > 0 { return (peak, .cached) }
        guard let peak = measure() else { return nil }
        if store { cache.write(peak, at: path) }
        return (peak, .measured)
    }
}
