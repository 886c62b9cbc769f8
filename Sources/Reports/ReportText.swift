import Foundation
import Host

/// Number formatting for reports: fixed rules, no locale, so the same numbers always give the
/// same text.
enum ReportText {
    /// 3 significant digits, without trailing zeros: 0.0123, 1.23, 12.3, 123, 1234.
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "n/a" : (v > 0 ? "∞" : "-∞") }
        if abs(v) >= 1000 { return NumberText.grouped(Int(v.rounded())) }
        if v == 0 { return "0" }
        return NumberText.trimmed(String(format: "%.3g", v))
    }

    /// A fraction as a percentage: 0.314 → "31%", 0.0042 → "0.4%".
    static func percent(_ f: Double) -> String {
        guard f.isFinite else { return "n/a" }
        let p = f * 100
        return abs(p) >= 9.95 ? "\(Int(p.rounded()))%" : NumberText.fixed(p, 1) + "%"
    }

    /// A duration given in milliseconds, in the unit that reads best: 97.6 µs, 1.23 ms, 2.5 s.
    static func ms(_ v: Double) -> String {
        let a = abs(v)
        if a >= 10_000 { return number(v / 1000) + " s" }
        if a >= 1 || a == 0 { return number(v) + " ms" }
        return number(v * 1000) + " µs"
    }

    /// A list in words: "1, 2 and 4".
    static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        default: return items.dropLast().joined(separator: ", ") + " and " + items.last!
        }
    }

    /// Bytes with binary prefixes: "64 KiB", "1.5 MiB".
    static func bytes(_ v: Double) -> String {
        if v >= 1_073_741_824 { return number(v / 1_073_741_824) + " GiB" }
        if v >= 1_048_576 { return number(v / 1_048_576) + " MiB" }
        if v >= 1024 { return number(v / 1024) + " KiB" }
        return number(v) + " B"
    }

    /// "1 rank", "8 ranks".
    static func ranks(_ n: Int) -> String { n == 1 ? "1 rank" : "\(n) ranks" }
}
