import Comm
import NN

/// How the flat gradient buffer is cut into all-reduce buckets, as PyTorch DDP's Reducer does:
/// contiguous ranges of about `capBytes`, in reverse layout order, so that the bucket holding
/// the last layer's gradients, which backward finishes first, is bucket 0.
///
/// Unlike DDP, a weight larger than the room left in a bucket is split at row boundaries:
/// backward computes its gradient block by block (last rows first), and the all-reduce of a
/// full bucket starts while the rest of that weight's gradient is still being computed.
/// Biases and other 1-D parameters are never split.
public struct BucketPlan: Equatable, Sendable {
    /// Element ranges of the flat buffer; bucket 0 covers its end.
    public let buckets: [Range<Int>]
    /// Per parameter: the row blocks backward computes, in order, and the bucket of each.
    public let blocks: [[(rows: Range<Int>, bucket: Int)]]

    public init(slices: [ParameterSlice], capBytes: Int) {
        let capElements = max(capBytes / MemoryLayout<Float>.stride, 1)
        var buckets: [Range<Int>] = []
        var blocks = [[(rows: Range<Int>, bucket: Int)]](repeating: [], count: slices.count)
        var low = slices.last.map { $0.offset + $0.count } ?? 0  // the open bucket is low..<high
        var high = low

        func close() {
            if high > low { buckets.append(low..<high) }
            high = low
        }

        for index in slices.indices.reversed() {
            let slice = slices[index]
            let splittable = slice.shape.count >= 2 && slice.rows > 1
            if !splittable || high - low + slice.count <= capElements {
                low = slice.offset
                blocks[index].append((0..<slice.rows, buckets.count))
                if high - low >= capElements { close() }
                continue
            }
            var rowsLeft = slice.rows
            while rowsLeft > 0 {
                let room = max((capElements - (high - low)) / slice.rowLength, 1)
                let take = min(room, rowsLeft)
                rowsLeft -= take
                low = slice.offset + rowsLeft * slice.rowLength
                blocks[index].append((rowsLeft..<(rowsLeft + take), buckets.count))
                if take == room || high - low >= capElements { close() }
            }
        }
        close()
        self.buckets = buckets
        self.blocks = blocks
    }

    /// What bucket `b` holds, last tensor first, e.g. "fc3.bias, fc3.weight, fc2.bias, fc2.weight[768..<1024]".
    public func describe(_ b: Int, _ slices: [ParameterSlice]) -> String {
        var parts: [String] = []
        for index in slices.indices.reversed() {
            for block in blocks[index] where block.bucket == b {
                parts.append(block.rows.count == slices[index].rows ? slices[index].name : "\(slices[index].name)[\(block.rows)]")
            }
        }
        return parts.count > 4 ? "\(parts[0]), \(parts[1]) … \(parts[parts.count - 1])" : parts.joined(separator: ", ")
    }

    /// What every bucket holds (see `describe`).
    func names(_ slices: [ParameterSlice]) -> [String] { buckets.indices.map { describe($0, slices) } }

    /// What `comm` sums these buckets with, for the run summary.
    func algorithmName(on comm: Communicator) -> String {
        comm.size == 1 ? "none (world 1)"
            : comm.algorithmName(forBuffersOf: buckets.map { $0.count * MemoryLayout<Float>.stride })
    }

    public static func == (a: BucketPlan, b: BucketPlan) -> Bool {
        a.buckets == b.buckets && a.blocks.count == b.blocks.count
            && zip(a.blocks, b.blocks).allSatisfy { x, y in
                x.count == y.count && zip(x, y).allSatisfy { $0.rows == $1.rows && $0.bucket == $1.bucket }
            }
    }
}
