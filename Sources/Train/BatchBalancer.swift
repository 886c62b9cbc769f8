/// Splits each step's global batch across the ranks in proportion to their measured speed
/// (`train.balance`), so that a rank on a slower or busier core takes fewer samples and the
/// ranks finish backward together, instead of all of them waiting for the slowest every step.
///
/// Protocol of one step:
/// 1. Rank r computes `shares[r]` samples starting at `offsets[r]` of the step's global batch.
///    The global batch is the same run of the epoch's global order as without balancing: only
///    which rank computes which sample changes, not which samples the step averages.
/// 2. Each rank measures its compute time per sample (data, forward, backward) and writes it
///    into its own slot of the step's control all-reduce, a max over slots that are zero in
///    every other rank's copy, so every rank receives every rank's figure exactly.
/// 3. `update` folds the figures into a moving average and recomputes the split. It is plain
///    arithmetic on identical inputs, so every rank arrives at the same split with no further
///    message, and the collectives of the next step stay matched.
///
/// A share stays within `minShare...maxShare` (the model's activations are sized for the
/// largest), and the shares always sum to the global batch. Until the first figures arrive
/// the split is even.
public struct BatchBalancer: Sendable, Equatable {
    public let world: Int
    /// The even share: train.batch × accumulate.
    public let perRank: Int
    public let minShare: Int, maxShare: Int
    /// Samples each rank computes in the coming step, in rank order; they sum to world × perRank.
    public private(set) var shares: [Int]
    /// Where each rank's samples start within the step's global batch.
    public private(set) var offsets: [Int]
    /// Each rank's shares summed over the steps so far, and the number of those steps.
    public private(set) var shareSums: [Int]
    public private(set) var steps = 0
    /// Moving average of each rank's compute seconds per sample; 0 before its first figure.
    private var secondsPerSample: [Double]
    /// The proportional (unrounded) shares of the coming step; kept to round them without
    /// allocating in the step.
    private var exactShares: [Double]

    /// Weight of the newest figure in the moving average: the split follows a change of a core's
    /// speed within a few steps, while one noisy step moves it little.
    static let smoothing = 0.3

    /// - Parameters:
    ///   - perRank: the even share of a step's samples per rank.
    ///   - maxShare: the most samples one rank can take (what its buffers hold); the fewest is
    ///     as far below `perRank` as `maxShare` is above it, and at least `minimum`.
    public init(world: Int, perRank: Int, maxShare: Int, minimum: Int = 1) {
        precondition(world >= 1 && perRank >= 1 && maxShare >= perRank && minimum >= 1 && minimum <= perRank,
                     "BatchBalancer: world \(world), perRank \(perRank), maxShare \(maxShare), minimum \(minimum)")
        self.world = world
        self.perRank = perRank
        self.maxShare = maxShare
        minShare = max(minimum, 2 * perRank - maxShare)
        shares = [Int](repeating: perRank, count: world)
        offsets = (0..<world).map { $0 * perRank }
        shareSums = [Int](repeating: 0, count: world)
        secondsPerSample = [Double](repeating: 0, count: world)
        exactShares = [Double](repeating: Double(perRank), count: world)
    }

    /// The samples of rank `rank` in the coming step, as positions within the global batch.
    public func range(ofRank rank: Int) -> Range<Int> { offsets[rank]..<(offsets[rank] + shares[rank]) }

    /// Each rank's mean share over the steps so far.
    public var meanShares: [Double] {
        shareSums.map { steps > 0 ? Double($0) / Double(steps) : 0 }
    }

    /// Counts the step just taken, takes each rank's compute seconds per sample in it, and
    /// recomputes the split for the next step. Figures that are not positive and finite (a
    /// rank that measured nothing) leave that rank's average as it was. Allocates nothing.
    public mutating func update(secondsPerSample figures: some Collection<Double>) {
        precondition(figures.count == world, "BatchBalancer.update: \(figures.count) figures for \(world) ranks")
        for r in 0..<world { shareSums[r] += shares[r] }
        steps += 1
        for (r, figure) in figures.enumerated() where figure > 0 && figure.isFinite {
            secondsPerSample[r] = secondsPerSample[r] == 0
                ? figure : (1 - Self.smoothing) * secondsPerSample[r] + Self.smoothing * figure
        }
        guard secondsPerSample.allSatisfy({ $0 > 0 }) else { return }
        split()
        var offset = 0
        for r in 0..<world {
            offsets[r] = offset
            offset += shares[r]
        }
    }

    /// Whole shares of the global batch as close as the bounds allow to proportional to speed
    /// (1 / seconds per sample): `clamp(λ·speed)` with λ found by bisection so that the clamped
    /// shares sum to the global batch, then rounded so that the sum stays exact (largest
    /// remainders first, lower rank on ties).
    private mutating func split() {
        let total = world * perRank, lo = Double(minShare), hi = Double(maxShare)
        func share(_ lambda: Double, _ r: Int) -> Double { min(hi, max(lo, lambda / secondsPerSample[r])) }
        var low = 0.0, high = hi * secondsPerSample.max()!
        for _ in 0..<100 {
            let mid = (low + high) / 2
            var sum = 0.0
            for r in 0..<world { sum += share(mid, r) }
            if sum < Double(total) { low = mid } else { high = mid }
        }
        var missing = total
        for r in 0..<world {
            exactShares[r] = share(high, r)
            shares[r] = Int(exactShares[r].rounded(.down))
            missing -= shares[r]
        }
        // One sample at a time to the share furthest below its exact value (or from the one
        // furthest above).
        while missing != 0 {
            var pick = -1
            for r in 0..<world where missing > 0 ? shares[r] < maxShare : shares[r] > minShare {
                let remainder = exactShares[r] - Double(shares[r])
                if pick < 0 { pick = r; continue }
                let best = exactShares[pick] - Double(shares[pick])
                if missing > 0 ? remainder > best : remainder < best { pick = r }
            }
            shares[pick] += missing > 0 ? 1 : -1
            missing += missing > 0 ? -1 : 1
        }
    }
}
