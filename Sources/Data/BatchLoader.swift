import Tensor

/// Assembles batches from a `LabeledImages` into a model's preallocated input: the bytes of
/// the chosen images become Floats (x / 255) in one pass, and their labels are copied into a
/// preallocated label buffer. Nothing allocates per batch.
public final class BatchLoader {
    public let data: LabeledImages
    public let capacity: Int
    /// The labels of the last assembled batch; the first `batch` entries are live.
    public private(set) var labels: UnsafeMutableBufferPointer<Int32>

    public init(data: LabeledImages, capacity: Int) {
        self.data = data
        self.capacity = capacity
        labels = .allocate(capacity: capacity)
        labels.initialize(repeating: 0)
    }

    deinit { labels.deallocate() }

    /// Writes the images `indices` into `input`, channel-major (C, B, H, W) as the model's
    /// activations are, and their labels into `labels`.
    public func load(_ indices: ArraySlice<Int>, into input: Tensor) {
        precondition(indices.count <= capacity, "BatchLoader: \(indices.count) indices for a capacity of \(capacity)")
        indices.withUnsafeBufferPointer { rows in
            data.pixels.withUnsafeBufferPointer { pixels in
                gatherNormalizedBytes(pixels, rowLength: data.imageSize, channels: data.imageShape.count == 3 ? data.imageShape[0] : 1, rows: rows,
                                      into: input)
            }
            for (k, i) in rows.enumerated() { labels[k] = data.labels[i] }
        }
    }

    /// The labels of the last batch, for the loss.
    public var labelBuffer: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(labels) }
}
