import NN
import GradSync
import XCTest

/// Buckets cover the flat gradient buffer exactly, in reverse layout order, near the cap,
/// and backward's row blocks land each in exactly one bucket.
final class BucketPlanTests: XCTestCase {
    private func mlpSlices() -> [ParameterSlice] {
        ParameterStore(named: [("fc1.weight", [1024, 784]), ("fc1.bias", [1024]), ("fc2.weight", [1024, 1024]),
                               ("fc2.bias", [1024]), ("fc3.weight", [10, 1024]), ("fc3.bias", [10])]).slices
    }

    func testBucketsTileTheBufferFromTheEnd() {
        let slices = mlpSlices()
        let total = slices.last!.range.upperBound
        for capMB in [0.05, 1, 4, 25] {
            let plan = BucketPlan(slices: slices, capBytes: Int(capMB * 1_048_576))
            XCTAssertEqual(plan.buckets.first?.upperBound, total, "bucket 0 holds the last layer (cap \(capMB) MB)")
            XCTAssertEqual(plan.buckets.last?.lowerBound, 0, "cap \(capMB) MB")
            for (a, b) in zip(plan.buckets, plan.buckets.dropFirst()) {
                XCTAssertEqual(b.upperBound, a.lowerBound, "buckets are contiguous and descending (cap \(capMB) MB)")
            }
            // No bucket exceeds the cap by more than one unsplittable piece (a bias or a single row).
            let capElements = Int(capMB * 1_048_576) / 4
            for bucket in plan.buckets {
                XCTAssertLessThanOrEqual(bucket.count, capElements + 1024, "cap \(capMB) MB")
            }
        }
        XCTAssertEqual(BucketPlan(slices: slices, capBytes: 25 << 20).buckets.count, 1, "DDP's 25 MB default holds the MLP whole")
    }

    func testRowBlocksCoverEachParameterOnceAndLieInOneBucket() {
        let slices = mlpSlices()
        let plan = BucketPlan(slices: slices, capBytes: 1 << 20)
        XCTAssertGreaterThan(plan.buckets.count, 5)
        var covered = [Int](repeating: 0, count: slices.last!.range.upperBound)
        for (index, slice) in slices.enumerated() {
            let blocks = plan.blocks[index]
            XCTAssertEqual(blocks.map(\.rows.count).reduce(0, +), slice.rows, slice.name)
            // Last rows first, as backward reports them.
            for (a, b) in zip(blocks, blocks.dropFirst()) { XCTAssertEqual(b.rows.upperBound, a.rows.lowerBound, slice.name) }
            if slice.shape.count == 1 { XCTAssertEqual(blocks.count, 1, "\(slice.name) is never split") }
            for block in blocks {
                let range = (slice.offset + block.rows.lowerBound * slice.rowLength)..<(slice.offset + block.rows.upperBound * slice.rowLength)
                XCTAssertTrue(plan.buckets[block.bucket].contains(range.lowerBound) && plan.buckets[block.bucket].contains(range.upperBound - 1),
                              "\(slice.name) rows \(block.rows) lie in bucket \(block.bucket)")
                for i in range { covered[i] += 1 }
            }
        }
        XCTAssertTrue(covered.allSatisfy { $0 == 1 }, "every gradient element is in exactly one block")
    }

    func testDescribeNamesTheTensorsOfABucket() {
        let slices = mlpSlices()
        let plan = BucketPlan(slices: slices, capBytes: 1 << 20)
        XCTAssertTrue(plan.describe(0, slices).hasPrefix("fc3.bias, fc3.weight"), plan.describe(0, slices))
        XCTAssertTrue(plan.describe(plan.buckets.count - 1, slices).contains("fc1.weight["), plan.describe(plan.buckets.count - 1, slices))
    }
}
