import Foundation
import Host

/// γ, the time to add one byte of received floats into a buffer: a function of the buffer size
/// n in general (a streaming add is cheap while its arrays stay in cache, bound by memory
/// bandwidth once they do not), a constant as Lockstep's fit uses it (`measureInCache`).
///
/// In every all-reduce of the cost model each reduced byte is also sent and received twice
/// (β appears as 2β + γ), so timings of all-reduces alone cannot tell β from γ: γ is measured
/// apart, by timing `y[i] += x[i]` over n bytes on this machine, and β is fitted given it.
public struct ReductionCost: Codable, Equatable, Sendable {
    public struct Point: Codable, Equatable, Sendable {
        public var bytes: Double
        /// Seconds per byte.
        public var seconds: Double

        public init(bytes: Double, seconds: Double) {
            self.bytes = bytes
            self.seconds = seconds
        }
    }

    /// Measured points, by size.
    public var points: [Point]
    /// How γ was obtained.
    public var source: String

    /// A constant γ (s/byte).
    public init(constant: Double, source: String) {
        points = [Point(bytes: 1, seconds: constant)]
        self.source = source
    }

    public init(points: [Point], source: String) {
        self.points = points.sorted { $0.bytes < $1.bytes }
        self.source = source
    }

    /// γ at buffer size `n`: interpolated between measured sizes on a log scale, the nearest
    /// measurement outside them.
    public func at(_ n: Double) -> Double {
        guard let first = points.first, let last = points.last else { return 0 }
        if n <= first.bytes { return first.seconds }
        if n >= last.bytes { return last.seconds }
        for (a, b) in zip(points, points.dropFirst()) where n <= b.bytes {
            let t = (log(n) - log(a.bytes)) / (log(b.bytes) - log(a.bytes))
            return a.seconds + t * (b.seconds - a.seconds)
        }
        return last.seconds
    }

    /// γ as the fit and the projection use it: the median of a streaming fp32 add timed at 256
    /// KiB, 1 MiB and 4 MiB, where its two arrays stay in cache. The cost of missing the cache
    /// on large buffers is left to β(n), whose capacity terms cover the copies and the adds
    /// alike (measured apart, the add's own cache transition would not line up with the
    /// all-reduce's, whose buffers and scratch are spread over two processes).
    public static func measureInCache() -> ReductionCost {
        let table = measure(sizes: [262_144, 1_048_576, 4_194_304])
        let values = table.points.map(\.seconds).sorted()
        return ReductionCost(constant: values[values.count / 2],
                             source: "measured on this machine: y += x over 256 KiB–4 MiB of fp32 (in cache), median of 3 sizes, best of 5 each")
    }

    /// Times a streaming fp32 add at each size (the best of a few repetitions) on this core.
    public static func measure(sizes: [Int]) -> ReductionCost {
        let sizes = Array(Set(sizes.filter { $0 >= 64 })).sorted()
        var points: [Point] = []
        for bytes in sizes {
            let count = bytes / 4
            let x = UnsafeMutablePointer<Float>.allocate(capacity: count)
            let y = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer {
                x.deallocate()
                y.deallocate()
            }
            x.initialize(repeating: 1, count: count)
            y.initialize(repeating: 0, count: count)
            // Repeat to about 4 ms per timing, take the best of 5 timings.
            let repeats = max(1, min(10_000, 4_000_000 / max(bytes, 1)))
            var best = Double.infinity
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<repeats { add(x, y, count) }
                let ns = Double(DispatchTime.now().uptimeNanoseconds - start)
                best = min(best, ns / Double(repeats))
            }
            points.append(Point(bytes: Double(bytes), seconds: best * 1e-9 / Double(bytes)))
        }
        return ReductionCost(points: points, source: "measured on this machine: y += x over n bytes of fp32, best of 5")
    }

    @inline(never)
    private static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += x[i] }
    }
}
