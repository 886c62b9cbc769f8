import Tensor

/// The training windows of each optimizer step, drawn by a counter-based rule: the window at
/// position p of step t's global batch starts at an offset that depends on (seed, t, p) alone.
/// So a rank computes exactly the windows of the positions the trainer gives it without
/// drawing any other, a run resumed at step t continues as if it had never stopped, and the
/// global batch is the same at every world size.
///
/// The rule, with G(s) = `SeededGenerator(seed: s)` (xoshiro256** seeded through SplitMix64)
/// and first(G) its first output:
///
///     key   = first(G(first(G(seed)) ^ UInt64(bitPattern: t))) ^ UInt64(bitPattern: p)
///     start = uniform(G(key), n)    where n = split.count - context, the valid starts
///
/// uniform draws x from G and takes the high 64 bits of the 128-bit product x · n (Lemire's
/// method), drawing again while the low 64 bits are below 2⁶⁴ mod n, which makes every start
/// in 0..<n exactly equally likely. Windows may overlap and may cross file boundaries.
public struct TrainingWindows: Sendable {
    public let split: TokenSplit
    /// T: a window is `context` + 1 tokens.
    public let context: Int
    public let seed: UInt64
    /// first(G(seed)), shared by every step.
    private let seedKey: UInt64

    /// - Precondition: `split` holds at least one window (`TokenCorpus` sees to it).
    public init(split: TokenSplit, context: Int, seed: UInt64) {
        precondition(context > 0 && split.count > context, "TrainingWindows: \(split.count) tokens for context \(context)")
        self.split = split
        self.context = context
        self.seed = seed
        var generator = SeededGenerator(seed: seed)
        seedKey = generator.next()
    }

    /// The valid window starts, 0..<startCount.
    public var startCount: Int { split.count - context }

    /// Where the window at `position` of step `step`'s global batch starts in the split.
    public func start(step: Int, position: Int) -> Int {
        var stepGenerator = SeededGenerator(seed: seedKey ^ UInt64(bitPattern: Int64(step)))
        var generator = SeededGenerator(seed: stepGenerator.next() ^ UInt64(bitPattern: Int64(position)))
        let n = UInt64(startCount)
        var product = generator.next().multipliedFullWidth(by: n)
        if product.low < n {
            let threshold = (0 &- n) % n
            while product.low < threshold { product = generator.next().multipliedFullWidth(by: n) }
        }
        return Int(product.high)
    }

    /// Writes the windows at `positions` of step `step`'s global batch into rows
    /// 0..<`positions.count` of `batch`.
    /// - Precondition: `batch` has this context and room for the positions.
    public func load(step: Int, positions: Range<Int>, into batch: TokenBatch) {
        precondition(batch.context == context && positions.count <= batch.capacity,
                     "TrainingWindows: \(positions.count) windows of context \(context) for a batch of \(batch.capacity) of context \(batch.context)")
        for (row, position) in positions.enumerated() {
            split.loadWindow(start: start(step: step, position: position), into: batch, row: row)
        }
    }
}
