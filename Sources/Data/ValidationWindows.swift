/// A fixed set of validation windows: window i holds tokens i·T ..< i·T + T + 1 of the split
/// (T = `context`), so that consecutive windows share one token and their targets tile the
/// split from its second token on: each is predicted exactly once. There are
/// ⌊(split.count - 1) / T⌋ of them, or `limit` if fewer.
///
/// Rank r of a world of W takes windows r, r + W, r + 2W, … (`indices(rank:world:)`), so that
/// across the ranks each window is counted exactly once.
public struct ValidationWindows: Sendable {
    public let split: TokenSplit
    /// T: a window is `context` + 1 tokens.
    public let context: Int
    /// How many windows there are.
    public let count: Int

    /// - Parameter limit: the most windows to take from the start of the split; nil for all.
    /// - Precondition: `split` holds at least one window (`TokenCorpus` sees to it), and
    ///   `limit` is positive.
    public init(split: TokenSplit, context: Int, limit: Int? = nil) {
        precondition(context > 0 && split.count > context && (limit ?? 1) > 0,
                     "ValidationWindows: \(split.count) tokens for context \(context), limit \(String(describing: limit))")
        self.split = split
        self.context = context
        count = min((split.count - 1) / context, limit ?? .max)
    }

    /// The windows of rank `rank` in a world of `world`: rank, rank + world, … below `count`.
    public func indices(rank: Int, world: Int) -> StrideTo<Int> {
        precondition(world > 0 && rank >= 0 && rank < world, "ValidationWindows: rank \(rank) of world \(world)")
        return stride(from: rank, to: count, by: world)
    }

    /// Writes the windows `windows` into rows 0, 1, … of `batch` and returns how many it wrote.
    /// - Precondition: `batch` has this context and room for the windows, each below `count`.
    public func load(_ windows: some Sequence<Int>, into batch: TokenBatch) -> Int {
        precondition(batch.context == context, "ValidationWindows: context \(context) for a batch of context \(batch.context)")
        var row = 0
        for window in windows {
            precondition(window >= 0 && window < count && row < batch.capacity,
                         "ValidationWindows: window \(window) of \(count) into row \(row) of a batch of \(batch.capacity)")
            split.loadWindow(start: window * context, into: batch, row: row)
            row += 1
        }
        return row
    }
}
