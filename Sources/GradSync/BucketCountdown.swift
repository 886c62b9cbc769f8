import NN

/// Which buckets of a `BucketPlan` backward has finished this step: each bucket counts down the
/// gradient elements it waits for as backward reports blocks of rows. The bookkeeping shared by
/// the reducers that start a bucket's sum as soon as it is complete. Preallocated: a step
/// allocates nothing.
struct BucketCountdown {
    let plan: BucketPlan
    /// Per parameter: the row blocks backward computes, in order.
    let rowBlocks: [[Range<Int>]]
    /// Per bucket: gradient elements not yet reported this step.
    private var remaining: [Int]

    init(plan: BucketPlan) {
        self.plan = plan
        rowBlocks = plan.blocks.map { $0.map(\.rows) }
        remaining = plan.buckets.map(\.count)
    }

    /// Every bucket waits for all of its elements again.
    mutating func rearm() {
        for (b, range) in plan.buckets.enumerated() { remaining[b] = range.count }
    }

    /// Counts rows `rows` of parameter `index` (of `rowLength` elements each) as final.
    /// - Returns: the bucket this completes, if it completes one. (A parameter's row blocks are
    ///   disjoint, so one report is one block of one bucket.)
    mutating func report(parameter index: Int, rows: Range<Int>, rowLength: Int) -> Int? {
        guard let block = plan.blocks[index].first(where: { $0.rows == rows }) else { return nil }
        remaining[block.bucket] -= rows.count * rowLength
        return remaining[block.bucket] == 0 ? block.bucket : nil
    }

    /// Whether every element of `bucket` has been reported this step.
    func isComplete(_ bucket: Int) -> Bool { remaining[bucket] == 0 }
}
