import Foundation
import Host

/// The α–β–γ cost model of Lockstep's all-reduce algorithms (Thakur, Rabenseifner & Gropp,
/// "Optimization of Collective Communication Operations in MPICH", IJHPCA 19(1), 2005),
/// written as the list of communication steps each algorithm takes, so that one description
/// serves both the fit (on one node) and the projection (over many). See Docs/cost-model.md.
///
/// A step sends `bytes` per rank to a partner and adds `reduced` received bytes into its
/// buffer; all ranks step in lockstep, so a step costs what its slowest link costs:
///   intra-node: α_i + bytes · β_i(n)        inter-node: α_e + bytes · flows · β_e
/// plus reduced · γ(n), where n is the all-reduce's whole buffer. `flows` is how many ranks of
/// a node send over the node's network link at once in that step (they share it).
///
/// Summed over the steps, for p ranks on one node:
///   ring:         2(p-1) α + 2n(p-1)/p β + n(p-1)/p γ
///   rhd (p = 2^k): 2 lg p α + 2n(p-1)/p β + n(p-1)/p γ; otherwise + 2α + 2nβ + nγ for the
///                 fold of the p - p' extra ranks into the largest power of two p'
///   hierarchical: ⌈lg L⌉ (2α_i + 2nβ_i + nγ) for the tree reduce and broadcast in a node of L
///                 ranks, plus the leaders' ring or rhd over the N nodes with (α_e, β_e).
public enum CostModel {
    public enum Algorithm: String, Codable, Sendable, CaseIterable {
        case ring, rhd, hierarchical
    }

    /// Which link a step crosses. `both`: some ranks' partners are on the node, others' are
    /// not; the step lasts as long as the slower.
    public enum Link: Sendable, Equatable { case intra, inter, both }

    /// `count` identical steps.
    public struct Step: Sendable, Equatable {
        public var count: Double
        public var bytes: Double
        public var reduced: Double
        public var link: Link
        public var flows: Double
    }

    /// The steps of one all-reduce of `n` bytes over `p` ranks placed `perNode` to a node in
    /// rank order (block placement, as mpirun and srun place them by default).
    public static func steps(_ algorithm: Algorithm, p: Int, perNode: Int, bytes n: Double) -> [Step] {
        guard p > 1 else { return [] }
        let L = max(1, min(perNode, p))
        let nodes = (p + L - 1) / L
        switch algorithm {
        case .ring:
            let link: Link = nodes == 1 ? .intra : (L == 1 ? .inter : .both)
            let m = n / Double(p)
            return [Step(count: Double(p - 1), bytes: m, reduced: m, link: link, flows: 1),
                    Step(count: Double(p - 1), bytes: m, reduced: 0, link: link, flows: 1)]
        case .rhd:
            var pof2 = 1
            while pof2 * 2 <= p { pof2 *= 2 }
            let extra = p - pof2
            var steps: [Step] = []
            let foldLink: Link = nodes == 1 ? .intra : (L == 1 ? .inter : (L % 2 == 1 ? .both : .intra))
            if extra > 0 { steps.append(Step(count: 1, bytes: n, reduced: n, link: foldLink, flows: 1)) }
            let activePerNode = max(1, Double(L) * Double(pof2) / Double(p))
            var halvings: [Step] = []
            var distance = pof2 / 2, m = n / 2
            while distance >= 1 {
                let link: Link
                if nodes == 1 {
                    link = .intra
                } else if extra == 0 && L & (L - 1) == 0 {
                    link = distance < L ? .intra : .inter
                } else {
                    link = Double(distance) * Double(p) / Double(pof2) < Double(L) ? .both : .inter
                }
                halvings.append(Step(count: 1, bytes: m, reduced: m, link: link, flows: link == .intra ? 1 : activePerNode))
                distance /= 2
                m /= 2
            }
            steps += halvings  // reduce-scatter by recursive halving
            steps += halvings.reversed().map { Step(count: 1, bytes: $0.bytes, reduced: 0, link: $0.link, flows: $0.flows) }
            if extra > 0 { steps.append(Step(count: 1, bytes: n, reduced: 0, link: foldLink, flows: 1)) }
            return steps
        case .hierarchical:
            let levels = Double(ceilLog2(L))
            var steps: [Step] = []
            if levels > 0 { steps.append(Step(count: levels, bytes: n, reduced: n, link: .intra, flows: 1)) }
            if nodes > 1 {
                let leaders = leaderAlgorithm(bytes: n, nodes: nodes)
                steps += Self.steps(leaders, p: nodes, perNode: 1, bytes: n)
            }
            if levels > 0 { steps.append(Step(count: levels, bytes: n, reduced: 0, link: .intra, flows: 1)) }
            return steps
        }
    }

    /// The leaders' algorithm of `hierarchical`, as Lockstep's auto picks it among one rank per
    /// node: halving-doubling for a power-of-two count or up to 1 MiB, else the ring.
    public static func leaderAlgorithm(bytes: Double, nodes: Int) -> Algorithm {
        nodes & (nodes - 1) == 0 || bytes <= 1_048_576 ? .rhd : .ring
    }

    /// What `auto` runs on one node of `p` ranks (Comm's MPICommunicator.autoPick).
    public static func autoAlgorithm(bytes: Double, p: Int, nodes: Int) -> Algorithm {
        if nodes > 1 && nodes < p { return .hierarchical }
        return p & (p - 1) == 0 || bytes <= 1_048_576 ? .rhd : .ring
    }

    static func ceilLog2(_ x: Int) -> Int {
        var levels = 0, span = 1
        while span < x {
            span *= 2
            levels += 1
        }
        return levels
    }

    /// Where an all-reduce's time goes (s): steps inside a node, steps between nodes (a step
    /// on both kinds of link counts where it is slower), and the reductions.
    public struct Parts: Sendable, Equatable {
        public var intra = 0.0, inter = 0.0, reduce = 0.0
        public var total: Double { intra + inter + reduce }
    }

    /// The time of `steps` for a buffer of `n` bytes, by part.
    public static func parts(_ steps: [Step], bytes n: Double, intra: LinkCost, inter: LinkCost?, gamma: Double) -> Parts {
        var parts = Parts()
        for s in steps {
            let i = intra.alpha(s.bytes) + s.bytes * intra.beta(n)
            let e = inter.map { $0.alpha(s.bytes) + s.bytes * s.flows * $0.beta(n) } ?? i
            switch s.link {
            case .intra: parts.intra += s.count * i
            case .inter: parts.inter += s.count * e
            case .both: if e > i { parts.inter += s.count * e } else { parts.intra += s.count * i }
            }
            parts.reduce += s.count * s.reduced * gamma
        }
        return parts
    }

    /// The time (s) of `steps` for a buffer of `n` bytes.
    public static func time(_ steps: [Step], bytes n: Double, intra: LinkCost, inter: LinkCost?, gamma: Double) -> Double {
        parts(steps, bytes: n, intra: intra, inter: inter, gamma: gamma).total
    }

    /// One kind of link: a time per message and a time per byte.
    ///
    /// On one node the "link" is shared memory, and two effects show in measurements:
    /// - messages up to Open MPI's eager limit are copied through shared buffers, larger ones go
    ///   by a rendezvous (a handshake, then a single copy), which costs more per message: α is
    ///   `alpha` for messages of up to `eagerLimit` bytes and `alphaLarge` above;
    /// - the time per byte grows as the all-reduce's buffers outgrow the caches: a cache level
    ///   that holds buffers of up to c bytes misses a fraction max(0, 1 − c/n) of a buffer of n
    ///   bytes, so β(n) = beta + Σ increment · max(0, 1 − c/n) over the `capacities` c.
    /// A network link has one α and one β.
    public struct LinkCost: Codable, Equatable, Sendable {
        /// A cache level: the buffer size it holds, and what a byte costs more once it misses.
        public struct Capacity: Codable, Equatable, Sendable {
            public var bytes: Double
            public var increment: Double

            public init(bytes: Double, increment: Double) {
                self.bytes = bytes
                self.increment = increment
            }
        }

        /// Seconds per message (of up to `eagerLimit` bytes when that is set).
        public var alpha: Double
        /// Seconds per message above `eagerLimit`.
        public var alphaLarge: Double?
        public var eagerLimit: Double?
        /// Seconds per byte while the buffers fit in cache.
        public var beta: Double
        public var capacities: [Capacity]

        enum CodingKeys: String, CodingKey {
            case alpha, alphaLarge = "alpha_large", eagerLimit = "eager_limit", beta, capacities
        }

        public init(alpha: Double, beta: Double, alphaLarge: Double? = nil, eagerLimit: Double? = nil, capacities: [Capacity] = []) {
            self.alpha = alpha
            self.beta = beta
            self.alphaLarge = alphaLarge
            self.eagerLimit = eagerLimit
            self.capacities = capacities
        }

        /// A network link: `gbps` gigabits per second, `latencyUs` µs per message.
        public init(gbps: Double, latencyUs: Double) {
            self.init(alpha: latencyUs * 1e-6, beta: 8 / (gbps * 1e9))
        }

        /// The time per message of `m` bytes.
        public func alpha(_ m: Double) -> Double {
            if let eagerLimit, let alphaLarge, m > eagerLimit { return alphaLarge }
            return alpha
        }

        /// The time per byte when the all-reduce's buffer is `n` bytes.
        public func beta(_ n: Double) -> Double {
            beta + capacities.reduce(0) { $0 + $1.increment * max(0, 1 - $1.bytes / max(n, 1)) }
        }

        /// α in words: "0.87 µs (3.06 µs above 4 KiB)".
        public var alphaText: String {
            var text = ReportText.number(alpha * 1e6) + " µs"
            if let large = alphaLarge, let limit = eagerLimit { text += " (\(ReportText.number(large * 1e6)) µs above \(ReportText.bytes(limit)))" }
            return text
        }

        /// β(n) in words: "0.131 − 0.0431·(1 − 512 KiB/n)⁺ + 0.143·(1 − 4 MiB/n)⁺ ns/byte".
        public var betaText: String {
            var text = ReportText.number(beta * 1e9)
            for c in capacities {
                text += (c.increment < 0 ? " − " : " + ") + ReportText.number(abs(c.increment) * 1e9) + "·(1 − \(ReportText.bytes(c.bytes))/n)⁺"
            }
            return text + " ns/byte"
        }

        /// The same link with latency only (β = 0), to tell latency from bandwidth.
        public var latencyOnly: LinkCost {
            LinkCost(alpha: alpha, beta: 0, alphaLarge: alphaLarge, eagerLimit: eagerLimit)
        }
    }
}
