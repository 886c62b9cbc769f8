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
    /// Moving average of each rank's compute seconds per sample; empty before the first figures.
    private var secondsPerSample: [Double] = []

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
    }

    /// The samples of rank `rank` in the coming step, as positions within the global batch.
    public func range(ofRank rank: Int) -> Range<Int> { offsets[rank]..<(offsets[rank] + shares[rank]) }

    /// Each rank's mean share over the steps so far.
    public var meanShares: [Double] {
        shareSums.map { steps > 0 ? Double($0) / Double(steps) : 0 }
    }

    /// Counts the step just taken, takes each rank's compute seconds per sample in it, and
    /// recomputes the split for the next step. Figures that are not positive and finite (a
    /// rank that measured nothing) leave that rank's average as it was.
    public mutating func update(secondsPerSample figures: some Collection<Double>) {
        precondition(figures.count == world, "BatchBalancer.update: \(figures.count) figures for \(world) ranks")
        for r in 0..<world { shareSums[r] += shares[r] }
        steps += 1
        if secondsPerSample.isEmpty { secondsPerSample = [Double](repeating: 0, count: world) }
        for (r, figure) in figures.enumerated() where figure > 0 && figure.isFinite {
            secondsPerSample[r] = secondsPerSample[r] == 0
                ? figure : (1 - Self.smoothing) * secondsPerSample[r] + Self.smoothing * figure
        }
        guard secondsPerSample.allSatisfy({ $0 > 0 }) else { return }
        shares = Self.split(total: world * perRank, speeds: secondsPerSample.map { 1 / $0 },
                            minShare: minShare, maxShare: maxShare)
        var offset = 0
        for r in 0..<world {
            offsets[r] = offset
            offset += shares[r]
        }
    }

    /// Whole shares of `total` as close as the bounds allow to proportional to `speeds`:
    /// `clamp(λ·speed)` with λ found by bisection so that the clamped shares sum to `total`,
    /// then rounded so that the sum stays exact (largest remainders first, lower rank on ties).
    static func split(total: Int, speeds: [Double], minShare: Int, maxShare: Int) -> [Int] {
        let lo = Double(minShare), hi = Double(maxShare)
        func shares(_ lambda: Double) -> [Double] { speeds.map { min(hi, max(lo, lambda * $0)) } }
        var low = 0.0, high = hi / speeds.min()!
        for _ in 0..<100 {
            let mid = (low + high) / 2
            if shares(mid).reduce(0, +) < Double(total) { low = mid } else { high = mid }
        }
        let exact = shares(high)
        var whole = exact.map { Int($0.rounded(.down)) }
        var missing = total - whole.reduce(0, +)
        // One sample at a time to the share furthest below its exact value (or from the one furthest above).
        while missing > 0 {
            let r = whole.indices.filter { whole[$0] < maxShare }
                .max { (exact[$0] - Double(whole[$0]), -$0) < (exact[$1] - Double(whole[$1]), -$1) }!
            whole[r] += 1
            missing -= 1
        }
        while missing < 0 {
            let r = whole.indices.filter { whole[$0] > minShare }
                .min { (exact[$0] - Double(whole[$0]), -$0) < (exact[$1] - Double(whole[$1]), -$1) }!
            whole[r] -= 1
            missing += 1
        }
        return whole
    }
}
