import Foundation
import GradSync
import NN
import Reports
import XCTest

/// The all-reduce cost model's step lists sum to the Thakur–Rabenseifner–Gropp formulas, the
/// overlap pipeline behaves at its limits, and the projection's bucket sizes match BucketPlan.
final class CostModelTests: XCTestCase {
    private let intra = CostModel.LinkCost(alpha: 2e-6, beta: 0.5e-9)
    private let gamma = 0.2e-9

    private func time(_ a: CostModel.Algorithm, p: Int, perNode: Int, n: Double, inter: CostModel.LinkCost? = nil) -> Double {
        CostModel.time(CostModel.steps(a, p: p, perNode: perNode, bytes: n), bytes: n, intra: intra, inter: inter, gamma: gamma)
    }

    func testOneNodeMatchesTheTextbookFormulas() {
        let (α, β, γ) = (2e-6, 0.5e-9, gamma)
        for p in [2, 3, 4, 6, 8, 16] {
            for n in [4096.0, 1_048_576, 67_108_864] {
                let pd = Double(p)
                let bandwidth = 2 * n * (pd - 1) / pd * β + n * (pd - 1) / pd * γ
                XCTAssertEqual(time(.ring, p: p, perNode: p, n: n), 2 * (pd - 1) * α + bandwidth, accuracy: 1e-15, "ring p=\(p) n=\(n)")
                var pof2 = 1
                while pof2 * 2 <= p { pof2 *= 2 }
                let p2 = Double(pof2)
                // Halving-doubling among p' ranks, plus the fold of the p − p' extra ranks (2α + 2nβ + nγ).
                var rhd = 2 * log2(p2) * α + 2 * n * (p2 - 1) / p2 * β + n * (p2 - 1) / p2 * γ
                if pof2 < p { rhd += 2 * α + 2 * n * β + n * γ }
                XCTAssertEqual(time(.rhd, p: p, perNode: p, n: n), rhd, accuracy: 1e-15, "rhd p=\(p) n=\(n)")
                let levels = ceil(log2(pd))
                XCTAssertEqual(time(.hierarchical, p: p, perNode: p, n: n), levels * (2 * α + 2 * n * β + n * γ), accuracy: 1e-15,
                               "hierarchical p=\(p) n=\(n)")
            }
        }
        XCTAssertEqual(time(.ring, p: 1, perNode: 1, n: 1e6), 0)
    }

    /// The split by link: all of it inside the node on one node; across 4 nodes of 2, the
    /// hierarchical algorithm's leaders' steps cross the network and its tree stays inside, and
    /// the parts always add up to the time.
    func testPartsSplitTheTimeByLink() {
        let net = CostModel.LinkCost(gbps: 10, latencyUs: 20)
        let n = 4_194_304.0
        let one = CostModel.parts(CostModel.steps(.ring, p: 4, perNode: 4, bytes: n), bytes: n, intra: intra, inter: net, gamma: gamma)
        XCTAssertEqual(one.inter, 0)
        XCTAssertEqual(one.intra, 6 * 2e-6 + 2 * n * 3 / 4 * 0.5e-9, accuracy: 1e-15)
        XCTAssertEqual(one.reduce, n * 3 / 4 * gamma, accuracy: 1e-15)
        for algorithm in CostModel.Algorithm.allCases {
            let steps = CostModel.steps(algorithm, p: 8, perNode: 2, bytes: n)
            let parts = CostModel.parts(steps, bytes: n, intra: intra, inter: net, gamma: gamma)
            XCTAssertEqual(parts.total, CostModel.time(steps, bytes: n, intra: intra, inter: net, gamma: gamma), accuracy: 1e-15,
                           algorithm.rawValue)
            XCTAssertGreaterThan(parts.inter, 0, algorithm.rawValue)
        }
        let tree = CostModel.parts(CostModel.steps(.hierarchical, p: 8, perNode: 2, bytes: n), bytes: n, intra: intra, inter: net,
                                   gamma: gamma)
        XCTAssertEqual(tree.intra, 2 * (2e-6 + n * 0.5e-9), accuracy: 1e-15, "one reduce and one broadcast level inside each node")
    }

    func testAcrossNodes() {
        let net = CostModel.LinkCost(gbps: 25, latencyUs: 20)
        XCTAssertEqual(net.beta(1), 8 / 25e9, accuracy: 1e-24)
        let n = 8_388_608.0
        // Hierarchical over 8 nodes of 4: 2 tree levels each way in a node, rhd among 8 leaders over the network.
        let levels = 2.0
        let leaders = 2 * 3 * net.alpha + 2 * n * 7 / 8 * net.beta(n) + n * 7 / 8 * gamma
        let expected = levels * (2 * intra.alpha + 2 * n * intra.beta(n) + n * gamma) + leaders
        XCTAssertEqual(time(.hierarchical, p: 32, perNode: 4, n: n, inter: net), expected, accuracy: 1e-12)
        // Every ring step has hops inside nodes and one hop per node link between them (one flow each); the
        // ranks step together, so each of its 2(p−1) steps costs the slower of the two.
        let p = 32.0, m0 = n / p
        let ring = 2 * (p - 1) * max(intra.alpha + m0 * intra.beta(n), net.alpha + m0 * net.beta(n)) + n * (p - 1) / p * gamma
        XCTAssertEqual(time(.ring, p: 32, perNode: 4, n: n, inter: net), ring, accuracy: 1e-12)
        // rhd: the steps at distance ≥ 4 leave the node, with the node's 4 ranks sharing its link.
        var rhd = 0.0
        var m = n / 2, d = 16
        while d >= 1 {
            let step = d >= 4 ? net.alpha + m * 4 * net.beta(n) : intra.alpha + m * intra.beta(n)
            rhd += 2 * step + m * gamma
            m /= 2
            d /= 2
        }
        XCTAssertEqual(time(.rhd, p: 32, perNode: 4, n: n, inter: net), rhd, accuracy: 1e-12)
        // At 128 ranks the ring pays 254 latencies, rhd 14.
        let latencyOnly = CostModel.LinkCost(alpha: 1, beta: 0)
        let count = { (a: CostModel.Algorithm) in
            CostModel.time(CostModel.steps(a, p: 128, perNode: 128, bytes: 1), bytes: 1, intra: latencyOnly, inter: nil, gamma: 0)
        }
        XCTAssertEqual(count(.ring), 254)
        XCTAssertEqual(count(.rhd), 14)
    }

    func testEagerLimitAndCacheCapacities() {
        let link = CostModel.LinkCost(alpha: 1, beta: 2, alphaLarge: 5, eagerLimit: 4096,
                                      capacities: [.init(bytes: 1000, increment: 10), .init(bytes: 4000, increment: 100)])
        XCTAssertEqual([link.alpha(4096), link.alpha(4097)], [1, 5])
        XCTAssertEqual(link.beta(500), 2, "in cache")
        XCTAssertEqual(link.beta(2000), 2 + 10 * 0.5, accuracy: 1e-12, "half of the buffer misses the first level")
        XCTAssertEqual(link.beta(8000), 2 + 10 * (1 - 1000.0 / 8000) + 100 * 0.5, accuracy: 1e-12)
        XCTAssertEqual(link.latencyOnly.beta(1e9), 0)
        XCTAssertEqual(link.latencyOnly.alpha(1e9), 5)
        let gamma = ReductionCost(points: [.init(bytes: 1000, seconds: 1), .init(bytes: 100_000, seconds: 3)], source: "test")
        XCTAssertEqual(gamma.at(10), 1)
        XCTAssertEqual(gamma.at(10_000), 2, accuracy: 1e-12, "halfway on a log scale")
        XCTAssertEqual(gamma.at(1e9), 3)
    }

    func testOverlapPipeline() {
        let buckets = [1.0, 1, 1, 1]
        // Everything hidden but the last bucket, which is ready only when backward ends.
        XCTAssertEqual(StepTimeModel.exposed(backwardMs: 10, bucketBytes: buckets, bucketMs: [1, 1, 1, 1], overlap: 1), 1, accuracy: 1e-12)
        // No progress during backward: all of it after.
        XCTAssertEqual(StepTimeModel.exposed(backwardMs: 10, bucketBytes: buckets, bucketMs: [1, 1, 1, 1], overlap: 0), 4, accuracy: 1e-12)
        // Communication longer than backward: the excess and the tail show.
        XCTAssertEqual(StepTimeModel.exposed(backwardMs: 4, bucketBytes: buckets, bucketMs: [3, 3, 3, 3], overlap: 1), 12 + 1 - 4, accuracy: 1e-12)
        // Calibration inverts the pipeline.
        let target = StepTimeModel.exposed(backwardMs: 10, bucketBytes: buckets, bucketMs: [2, 2, 2, 2], overlap: 0.4)
        XCTAssertEqual(StepTimeModel.calibrateOverlap(backwardMs: 10, bucketBytes: buckets, bucketMs: [2, 2, 2, 2], exposedMs: target),
                       0.4, accuracy: 1e-6)
    }

    func testProjectedBucketsMatchTheBucketPlan() {
        let slices = ParameterStore(named: [("fc1.weight", [1024, 784]), ("fc1.bias", [1024]), ("fc2.weight", [1024, 1024]),
                                            ("fc2.bias", [1024]), ("fc3.weight", [10, 1024]), ("fc3.bias", [10])]).slices
        for capMB in [0.5, 1, 4] {
            let plan = BucketPlan(slices: slices, capBytes: Int(capMB * 1_048_576))
            let real = plan.buckets.map { Double($0.count * 4) }
            let model = StepTimeModel.buckets(gradientBytes: real.reduce(0, +), capBytes: capMB * 1_048_576, count: real.count)
            XCTAssertEqual(model.count, real.count)
            XCTAssertEqual(model.reduce(0, +), real.reduce(0, +), accuracy: 1e-6)
            for (m, r) in zip(model, real) { XCTAssertEqual(m, r, accuracy: 0.02 * capMB * 1_048_576, "cap \(capMB) MB") }
        }
    }
}
