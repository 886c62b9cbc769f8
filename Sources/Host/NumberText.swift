import Foundation

/// Numbers as people read them in progress lines and reports: fixed rules, no locale, so the
/// same numbers always give the same text.
public enum NumberText {
    /// An integer with thousands separators: 1,234,567.
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// A value rounded to an integer with thousands separators; "nan" or "inf" as they are.
    public static func grouped(_ v: Double) -> String {
        v.isFinite && v.magnitude < 9e18 ? grouped(Int(v.rounded())) : "\(v)"
    }

    /// With a fixed number of decimals, "-0.0" as "0.0"; "n/a" for NaN and infinities.
    public static func fixed(_ v: Double, _ decimals: Int) -> String {
        guard v.isFinite else { return "n/a" }
        let s = String(format: "%.\(decimals)f", v)
        return s.hasPrefix("-") && Double(s) == 0 ? String(s.dropFirst()) : s
    }

    /// A duration in seconds as m:ss or h:mm:ss: 75 → "1:15", 3700 → "1:01:40"; "?" if unknown.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 9e15 else { return "?" }
        let s = Int(seconds.rounded())
        let pad = { (n: Int) in n < 10 ? "0\(n)" : "\(n)" }
        return s >= 3600 ? "\(s / 3600):\(pad(s / 60 % 60)):\(pad(s % 60))" : "\(s / 60):\(pad(s % 60))"
    }

    /// A printf-style number without trailing zeros after the point: "1.50" → "1.5", "2.0" → "2".
    public static func trimmed(_ s: String) -> String {
        guard s.contains("."), !s.contains("e") else { return s }
        var t = s
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }
}

/// Summaries of measurements.
public enum Statistics {
    /// The median: the middle value, or the mean of the two middle values of an even count; 0
    /// for none.
    public static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
