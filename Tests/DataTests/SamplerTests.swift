import Data
import Foundation
import TestSupport
import XCTest

/// `DistributedSampler` and `TorchRandperm` against PyTorch's own lists (Fixtures/sampler.json).
final class SamplerTests: XCTestCase {
    struct SamplerFixture: Decodable {
        struct Case: Decodable {
            let n: Int
            let world: Int
            let shuffle: Bool
            let dropLast: Bool
            let seed: UInt64
            let epoch: Int
            /// Rank by rank, the indices of the epoch.
            let ranks: [[Int]]
            enum CodingKeys: String, CodingKey { case n, world, shuffle, seed, epoch, ranks, dropLast = "drop_last" }
        }

        struct Permutation: Decodable {
            let n: Int
            let seed: UInt64
            /// The whole permutation, or nil when only its ends are stored.
            let values: [Int]?
            let head: [Int]?
            let tail: [Int]?
        }

        let distributed: [Case]
        let randperm: [Permutation]
    }

    private func fixture() throws -> SamplerFixture {
        try Fixtures.load(SamplerFixture.self, "sampler.json", in: .module)
    }

    func testDistributedSamplerMatchesPyTorch() throws {
        let f = try fixture()
        XCTAssertGreaterThanOrEqual(f.distributed.count, 10)
        for c in f.distributed {
            let label = "n \(c.n) world \(c.world) shuffle \(c.shuffle) drop_last \(c.dropLast) seed \(c.seed) epoch \(c.epoch)"
            XCTAssertEqual(c.ranks.count, c.world, label)
            var global: [Int]? = nil
            for rank in 0..<c.world {
                let s = DistributedSampler(datasetCount: c.n, world: c.world, rank: rank, shuffle: c.shuffle, seed: c.seed,
                                           dropLast: c.dropLast)
                XCTAssertEqual(s.indices(epoch: c.epoch), c.ranks[rank], "\(label) rank \(rank)")
                XCTAssertEqual(s.samplesPerRank, c.ranks[rank].count, label)
                XCTAssertEqual(s.totalSize, c.world * c.ranks[rank].count, label)
                let order = s.globalOrder(epoch: c.epoch)
                if let global { XCTAssertEqual(order, global, "\(label): ranks see one global order") }
                global = order
                // Rank r takes positions r, r + world, … of the global order.
                XCTAssertEqual(Swift.stride(from: rank, to: order.count, by: c.world).map { order[$0] }, c.ranks[rank], label)
            }
        }
    }

    func testRandpermMatchesPyTorch() throws {
        let f = try fixture()
        XCTAssertTrue(f.randperm.contains { $0.n == 60_000 })
        for p in f.randperm {
            let perm = TorchRandperm.permutation(p.n, seed: p.seed)
            XCTAssertEqual(perm.count, p.n)
            if let values = p.values {
                XCTAssertEqual(perm, values, "randperm(\(p.n)) seed \(p.seed)")
            } else {
                let head = try XCTUnwrap(p.head), tail = try XCTUnwrap(p.tail)
                XCTAssertEqual(Array(perm.prefix(head.count)), head, "randperm(\(p.n)) seed \(p.seed) head")
                XCTAssertEqual(Array(perm.suffix(tail.count)), tail, "randperm(\(p.n)) seed \(p.seed) tail")
            }
            XCTAssertEqual(perm.sorted(), Array(0..<p.n), "a permutation")
        }
    }

    func testEpochsAndSeedsChangeTheOrder() {
        let s = DistributedSampler(datasetCount: 100, world: 1, rank: 0, shuffle: true, seed: 4, dropLast: false)
        XCTAssertEqual(s.indices(epoch: 2), s.indices(epoch: 2))
        XCTAssertNotEqual(s.indices(epoch: 2), s.indices(epoch: 3))
        // The seed of epoch e is seed + e, as PyTorch's.
        XCTAssertEqual(s.indices(epoch: 3), TorchRandperm.permutation(100, seed: 7))
        let other = DistributedSampler(datasetCount: 100, world: 1, rank: 0, shuffle: true, seed: 5, dropLast: false)
        XCTAssertEqual(other.indices(epoch: 2), s.indices(epoch: 3))
    }

    func testLocalPosition() {
        let s = DistributedSampler(datasetCount: 100, world: 4, rank: 2, shuffle: false, seed: 0, dropLast: false)
        XCTAssertEqual(s.localPosition(globalPosition: 0), 0)
        XCTAssertEqual(s.localPosition(globalPosition: 64), 16)
        XCTAssertNil(s.localPosition(globalPosition: 66))
        // Global positions [t·G, (t+1)·G) of the order are the local positions [t·G/w, (t+1)·G/w) of each rank.
        let order = s.globalOrder(epoch: 0)
        let local = s.indices(epoch: 0)
        let g = 16
        let start = s.localPosition(globalPosition: g)!
        XCTAssertEqual(Array(local[start..<(start + g / 4)]),
                       Swift.stride(from: g + 2, to: 2 * g, by: 4).map { order[$0] })
    }
}
