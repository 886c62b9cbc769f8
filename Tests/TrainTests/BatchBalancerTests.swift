import Train
import XCTest

/// The split of a step's global batch: proportional to speed within the bounds, whole samples
/// that always sum to the global batch, contiguous and in rank order, and the same on every
/// rank for the same figures.
final class BatchBalancerTests: XCTestCase {
    /// Checks the invariants of a split and returns the shares.
    private func shares(_ b: BatchBalancer, file: StaticString = #filePath, line: UInt = #line) -> [Int] {
        XCTAssertEqual(b.shares.reduce(0, +), b.world * b.perRank, "the shares sum to the global batch", file: file, line: line)
        var next = 0
        for r in 0..<b.world {
            XCTAssertEqual(b.range(ofRank: r).lowerBound, next, "rank \(r)'s samples follow rank \(r - 1)'s", file: file, line: line)
            XCTAssertTrue((b.minShare...b.maxShare).contains(b.shares[r]), "rank \(r): \(b.shares[r]) outside \(b.minShare)...\(b.maxShare)",
                          file: file, line: line)
            next = b.range(ofRank: r).upperBound
        }
        return b.shares
    }

    func testEvenUntilTheFirstFiguresAndForEqualSpeeds() {
        var b = BatchBalancer(world: 4, perRank: 32, maxShare: 48)
        XCTAssertEqual(shares(b), [32, 32, 32, 32])
        XCTAssertEqual([b.minShare, b.maxShare], [16, 48])
        b.update(secondsPerSample: [1e-4, 1e-4, 1e-4, 1e-4])
        XCTAssertEqual(shares(b), [32, 32, 32, 32])
    }

    func testSharesFollowSpeed() {
        var b = BatchBalancer(world: 2, perRank: 128, maxShare: 192)
        // Rank 1 takes 1.5 times as long per sample: 256 samples split 3 : 2.
        b.update(secondsPerSample: [1e-4, 1.5e-4])
        XCTAssertEqual(shares(b), [154, 102])  // 153.6 and 102.4, rounded to sum to 256
        XCTAssertEqual(b.range(ofRank: 1), 154..<256)
    }

    func testBoundsHoldAndTheRestIsSharedByTheOthers() {
        var b = BatchBalancer(world: 3, perRank: 10, maxShare: 15)
        // Rank 2 is 100 times slower: it gets the least allowed, 5; the other two share 25.
        b.update(secondsPerSample: [1e-4, 1e-4, 1e-2])
        XCTAssertEqual(shares(b), [13, 12, 5])
        // Rank 0 is 100 times faster: it is capped at 15, the slow rank gets no less than 5.
        var c = BatchBalancer(world: 3, perRank: 10, maxShare: 15)
        c.update(secondsPerSample: [1e-6, 1e-4, 1e-2])
        XCTAssertEqual(shares(c), [15, 10, 5])
    }

    func testTheAverageMovesPartWayTowardTheNewestFigure() {
        var b = BatchBalancer(world: 2, perRank: 100, maxShare: 150)
        b.update(secondsPerSample: [1, 1])
        b.update(secondsPerSample: [1, 2])  // rank 1's average: 0.7 · 1 + 0.3 · 2 = 1.3
        XCTAssertEqual(shares(b), [113, 87])  // 200 · (1 / 1) / (1 + 1 / 1.3) = 113.04
        XCTAssertEqual(b.steps, 2)
        XCTAssertEqual(b.meanShares, [100, 100], "both steps so far ran on the even split")
    }

    func testFiguresThatAreNotPositiveLeaveTheSplitAlone() {
        var b = BatchBalancer(world: 2, perRank: 64, maxShare: 96)
        b.update(secondsPerSample: [0, 1e-4])
        XCTAssertEqual(shares(b), [64, 64], "no figure yet for rank 0")
        b.update(secondsPerSample: [2e-4, .nan])
        XCTAssertEqual(shares(b), [43, 85], "rank 1 keeps its earlier figure")
    }

    func testNoRoomToMoveWithABatchOfOne() {
        var b = BatchBalancer(world: 2, perRank: 1, maxShare: 1)
        b.update(secondsPerSample: [1, 10])
        XCTAssertEqual(shares(b), [1, 1])
    }

    func testAHundredRanksSplitTheSameWayTwice() {
        let figures = (0..<128).map { 1e-4 * (1 + Double(($0 * 37) % 11) / 10) }
        var a = BatchBalancer(world: 128, perRank: 32, maxShare: 48), b = a
        a.update(secondsPerSample: figures)
        b.update(secondsPerSample: figures)
        XCTAssertEqual(shares(a), shares(b))
        XCTAssertNotEqual(Set(a.shares).count, 1, "different speeds, different shares")
        let fastest = figures.indices.min { figures[$0] < figures[$1] }!, slowest = figures.indices.max { figures[$0] < figures[$1] }!
        XCTAssertGreaterThan(a.shares[fastest], a.shares[slowest])
    }
}
