import Foundation
import Host

/// One axis of a chart: its scale, its range and its ticks. Linear axes get "nice" ticks
/// (1, 2 or 5 × 10^k apart); log2 axes a tick per power of two; log10 axes per power of ten
/// (with 2 and 5 between when the range is short).
public struct ChartAxis: Sendable {
    public enum Scale: Sendable { case linear, log2, log10 }

    public var label: String
    public var scale: Scale
    /// Tick label text for a value.
    public var format: @Sendable (Double) -> String
    /// Forced bounds (nil: from the data).
    public var lower: Double?
    public var upper: Double?
    /// Linear axes: start at zero when the data are positive.
    public var includeZero: Bool

    public init(_ label: String, scale: Scale = .linear, lower: Double? = nil, upper: Double? = nil, includeZero: Bool = true,
                format: @escaping @Sendable (Double) -> String = ChartAxis.plain) {
        self.label = label
        self.scale = scale
        self.lower = lower
        self.upper = upper
        self.includeZero = includeZero
        self.format = format
    }

    /// The axis range and ticks for data spanning `low...high`.
    func layout(_ low: Double, _ high: Double) -> (low: Double, high: Double, ticks: [Double]) {
        switch scale {
        case .linear:
            var lo = lower ?? (includeZero ? min(0, low) : low), hi = upper ?? high
            if !(hi > lo) { hi = lo + (lo == 0 ? 1 : abs(lo) * 0.1) }
            let step = Self.niceStep((hi - lo) / 5)
            if lower == nil { lo = (lo / step).rounded(.down) * step }
            if upper == nil { hi = (hi / step).rounded(.up) * step }
            var ticks: [Double] = []
            var t = (lo / step).rounded(.up) * step
            while t <= hi + step * 1e-9 {
                ticks.append(abs(t) < step * 1e-9 ? 0 : t)
                t += step
            }
            return (lo, hi, ticks)
        case .log2, .log10:
            let base = scale == .log2 ? 2.0 : 10.0
            let lo = lower ?? pow(base, (Foundation.log(max(low, 1e-300)) / Foundation.log(base)).rounded(.down))
            var hi = upper ?? pow(base, (Foundation.log(max(high, 1e-300)) / Foundation.log(base)).rounded(.up))
            if !(hi > lo) { hi = lo * base }
            var ticks: [Double] = []
            var t = pow(base, (Foundation.log(lo) / Foundation.log(base)).rounded(.up))
            while t <= hi * (1 + 1e-9) {
                ticks.append(t)
                t *= base
            }
            if scale == .log2 && ticks.count > 12 {
                ticks = ticks.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            }
            if scale == .log10 && ticks.count <= 3 {
                var more: [Double] = []
                var decade = pow(10, (log10(lo)).rounded(.down))
                while decade <= hi {
                    for m in [1.0, 2, 5] where decade * m >= lo * (1 - 1e-9) && decade * m <= hi * (1 + 1e-9) { more.append(decade * m) }
                    decade *= 10
                }
                ticks = more
            }
            return (lo, hi, ticks)
        }
    }

    /// Where `value` falls between `low` and `high`, 0...1 (log axes in log space).
    func fraction(_ value: Double, _ low: Double, _ high: Double) -> Double {
        switch scale {
        case .linear: return (value - low) / (high - low)
        case .log2, .log10: return (Foundation.log(max(value, 1e-300)) - Foundation.log(low)) / (Foundation.log(high) - Foundation.log(low))
        }
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, log10(raw).rounded(.down))
        let r = raw / magnitude
        return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * magnitude
    }

    /// Tick labels: up to 3 significant digits, thousands as "k" and millions as "M".
    @Sendable public static func plain(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1e6 { return NumberText.trimmed(String(format: "%.3g", v / 1e6)) + "M" }
        if a >= 1e4 { return NumberText.trimmed(String(format: "%.3g", v / 1e3)) + "k" }
        if a >= 1 || a == 0 { return NumberText.trimmed(String(format: "%.4g", v)) }
        return NumberText.trimmed(String(format: "%.2g", v))
    }

    /// Bytes with binary prefixes: 4K, 64K, 1M, 64M.
    @Sendable public static func bytes(_ v: Double) -> String {
        if v >= 1_073_741_824 { return NumberText.trimmed(String(format: "%.3g", v / 1_073_741_824)) + "G" }
        if v >= 1_048_576 { return NumberText.trimmed(String(format: "%.3g", v / 1_048_576)) + "M" }
        if v >= 1024 { return NumberText.trimmed(String(format: "%.3g", v / 1024)) + "K" }
        return NumberText.trimmed(String(format: "%.3g", v))
    }

    /// Seconds as µs, ms or s.
    @Sendable public static func seconds(_ v: Double) -> String {
        if v >= 1 { return NumberText.trimmed(String(format: "%.3g", v)) + " s" }
        if v >= 1e-3 { return NumberText.trimmed(String(format: "%.3g", v * 1e3)) + " ms" }
        return NumberText.trimmed(String(format: "%.3g", v * 1e6)) + " µs"
    }
}
