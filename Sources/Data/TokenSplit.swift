/// A stretch of a corpus's token stream, read in place from the mapped files.
///
/// The stream of a file or folder is its files' tokens one after another, in the folder's
/// order: a window that reaches the end of one file runs on into the start of the next, as
/// nanoGPT and llm.c users' shards are cut from one stream of documents.
public struct TokenSplit: Sendable {
    /// A run of one file's tokens in the split.
    struct Piece: Sendable {
        let file: TokenFile
        let first: Int
        let count: Int
    }

    /// The file or folder the split was read from, for messages.
    public let source: String
    /// Tokens in the split.
    public let count: Int
    private let pieces: [Piece]
    /// `ends[i]` is where piece i ends in the split: the tokens of pieces 0...i.
    private let ends: [Int]

    /// Tokens `range` of the stream of `files`.
    init(source: String, files: [TokenFile], range: Range<Int>) {
        var pieces: [Piece] = []
        var fileStart = 0
        for file in files {
            let lower = max(range.lowerBound, fileStart), upper = min(range.upperBound, fileStart + file.count)
            if lower < upper { pieces.append(Piece(file: file, first: lower - fileStart, count: upper - lower)) }
            fileStart += file.count
        }
        self.source = source
        self.pieces = pieces
        ends = pieces.reduce(into: [Int]()) { ends, piece in ends.append((ends.last ?? 0) + piece.count) }
        count = ends.last ?? 0
    }

    /// The paths of the files the split reads, in stream order.
    public var paths: [String] { pieces.map(\.file.path) }

    /// Writes tokens `start..<start + n` of the split into `destination` as Int32.
    /// - Precondition: the tokens are in the split.
    public func copy(from start: Int, count n: Int, into destination: UnsafeMutablePointer<Int32>) {
        precondition(start >= 0 && n >= 0 && start <= count - n, "TokenSplit: tokens \(start)..<\(start + n) of \(count)")
        guard n > 0 else { return }
        // The piece holding `start`: the first whose end is past it.
        var low = 0, high = ends.count - 1
        while low < high {
            let middle = (low + high) / 2
            if ends[middle] > start { high = middle } else { low = middle + 1 }
        }
        var piece = low
        var offset = start - (piece == 0 ? 0 : ends[piece - 1])
        var written = 0
        while written < n {
            let take = min(n - written, pieces[piece].count - offset)
            pieces[piece].file.copy(from: pieces[piece].first + offset, count: take, into: destination + written)
            written += take
            piece += 1
            offset = 0
        }
    }

    /// Writes the window of `batch.context` + 1 tokens at `start` into row `row` of `batch`:
    /// its first T tokens into the inputs, its last T into the targets.
    /// - Precondition: `row` is below `batch.capacity` and the window is in the split.
    public func loadWindow(start: Int, into batch: TokenBatch, row: Int) {
        precondition(row >= 0 && row < batch.capacity, "TokenSplit: row \(row) of a batch of \(batch.capacity)")
        let t = batch.context
        let inputs = batch.inputs.baseAddress! + row * t, targets = batch.targets.baseAddress! + row * t
        copy(from: start, count: t, into: inputs)
        targets.update(from: inputs + 1, count: t - 1)
        copy(from: start + t, count: 1, into: targets + t - 1)
    }
}
