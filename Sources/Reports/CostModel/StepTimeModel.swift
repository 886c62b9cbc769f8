import Foundation
import Host

/// The time of one training step from its compute phases and its gradient all-reduces:
///
///   step = data + forward + backward + exposed + optimizer + control
///
/// exposed is what the all-reduces add after backward. Backward hands the gradient buckets
/// over as it finishes them (bucket b is ready once the fraction of the gradient bytes in
/// buckets 0…b is computed: gradients are assumed to come out at an even rate in bytes), and
/// one communication thread runs the all-reduces in bucket order. While backward computes,
/// that thread makes progress at rate ω (the overlap efficiency: 1 when it has a core or a
/// NIC of its own, less when it competes with compute), and at full rate after; exposed is
/// how far its last all-reduce ends after backward does. The last bucket is ready only when
/// backward ends, so its all-reduce is always exposed.
///
/// control is the per-step all-reduce of a few values by which ranks agree to go on.
public struct StepTimeModel: Codable, Equatable, Sendable {
    /// Per-step phase times (ms) at `batchPerRank`, measured at the baseline world.
    public var dataMs: Double
    public var forwardMs: Double
    public var backwardMs: Double
    public var optimizerMs: Double
    public var batchPerRank: Double
    /// The gradient buckets (bytes), in the order backward finishes them.
    public var bucketBytes: [Double]
    /// ω, and where it came from.
    public var overlap: Double
    public var overlapSource: String

    enum CodingKeys: String, CodingKey {
        case dataMs = "data_ms", forwardMs = "forward_ms", backwardMs = "backward_ms", optimizerMs = "optimizer_ms"
        case batchPerRank = "batch_per_rank", bucketBytes = "bucket_bytes", overlap, overlapSource = "overlap_source"
    }

    public var gradientBytes: Double { bucketBytes.reduce(0, +) }

    /// A step's parts (ms).
    public struct Parts: Codable, Equatable, Sendable {
        public var computeMs: Double
        public var dataMs: Double
        public var optimizerMs: Double
        public var commMs: Double
        public var exposedMs: Double
        public var controlMs: Double
        public var stepMs: Double

        enum CodingKeys: String, CodingKey {
            case computeMs = "compute_ms", dataMs = "data_ms", optimizerMs = "optimizer_ms", commMs = "comm_ms"
            case exposedMs = "exposed_ms", controlMs = "control_ms", stepMs = "step_ms"
        }
    }

    /// The step at per-rank batch `batch` (data, forward and backward scale with it; the
    /// optimizer does not), with each bucket's all-reduce taking `bucketSeconds`.
    /// - Parameter slowdown: how many ranks share each core (1: none); every phase stretches by it.
    public func step(batch: Double, bucketSeconds: [Double], controlSeconds: Double, slowdown: Double = 1) -> Parts {
        let scale = batch / batchPerRank
        let backward = backwardMs * scale * slowdown
        let comm = bucketSeconds.map { $0 * 1e3 * slowdown }
        let exposed = Self.exposed(backwardMs: backward, bucketBytes: bucketBytes, bucketMs: comm, overlap: overlap)
        let compute = (forwardMs * scale) * slowdown + backward
        let data = dataMs * scale * slowdown, optimizer = optimizerMs * slowdown, control = controlSeconds * 1e3 * slowdown
        return Parts(computeMs: compute, dataMs: data, optimizerMs: optimizer, commMs: comm.reduce(0, +), exposedMs: exposed,
                     controlMs: control, stepMs: compute + data + optimizer + exposed + control)
    }

    /// The bucket pipeline: how long the all-reduces run past the end of backward.
    public static func exposed(backwardMs: Double, bucketBytes: [Double], bucketMs: [Double], overlap: Double) -> Double {
        let total = bucketBytes.reduce(0, +)
        var ready = 0.0, free = 0.0, cumulative = 0.0
        for (bytes, t) in zip(bucketBytes, bucketMs) {
            cumulative += bytes
            ready = total > 0 ? backwardMs * cumulative / total : backwardMs
            let start = max(ready, free)
            if overlap <= 0 {
                free = max(start, backwardMs) + t
            } else if start >= backwardMs {
                free = start + t
            } else {
                let capacity = (backwardMs - start) * overlap
                free = t <= capacity ? start + t / overlap : backwardMs + (t - capacity)
            }
        }
        return max(0, free - backwardMs)
    }

    /// The ω at which the pipeline exposes `exposedMs` of all-reduces lasting `bucketMs`
    /// after a backward of `backwardMs`, in [0, 1].
    public static func calibrateOverlap(backwardMs: Double, bucketBytes: [Double], bucketMs: [Double], exposedMs: Double) -> Double {
        if exposed(backwardMs: backwardMs, bucketBytes: bucketBytes, bucketMs: bucketMs, overlap: 1) >= exposedMs { return 1 }
        if exposed(backwardMs: backwardMs, bucketBytes: bucketBytes, bucketMs: bucketMs, overlap: 0) <= exposedMs { return 0 }
        var lo = 0.0, hi = 1.0
        for _ in 0..<50 {
            let mid = (lo + hi) / 2
            if exposed(backwardMs: backwardMs, bucketBytes: bucketBytes, bucketMs: bucketMs, overlap: mid) > exposedMs {
                lo = mid
            } else {
                hi = mid
            }
        }
        return (lo + hi) / 2
    }

    /// The bucket sizes of a gradient of `gradientBytes` cut at `capBytes` into `count`
    /// buckets (as BucketPlan cuts it: full buckets first, the rest last).
    public static func buckets(gradientBytes: Double, capBytes: Double, count: Int) -> [Double] {
        guard count > 1, capBytes > 0 else { return [gradientBytes] }
        let rest = gradientBytes - capBytes * Double(count - 1)
        if rest > 0 { return [Double](repeating: capBytes, count: count - 1) + [rest] }
        return [Double](repeating: gradientBytes / Double(count), count: count)
    }
}
