import Tensor

/// Assembles batches from a `LabeledImages` into a model's preallocated input and labels: the
/// bytes of the chosen images become Floats (x / 255) in one pass, and their labels are copied.
/// Nothing allocates per batch.
public struct BatchLoader: Sendable {
    public let data: LabeledImages

    public init(data: LabeledImages) {
        self.data = data
    }

    /// Writes the images `indices` into `input`, channel-major (C, B, H, W) as the model's
    /// activations are, and their labels into `labels`.
    public func load(_ indices: ArraySlice<Int>, into input: Tensor, labels: UnsafeMutableBufferPointer<Int32>) {
        precondition(indices.count <= labels.count, "BatchLoader: \(indices.count) indices for \(labels.count) labels")
        indices.withUnsafeBufferPointer { rows in
            data.pixels.withUnsafeBufferPointer { pixels in
                gatherNormalizedBytes(pixels, rowLength: data.imageSize, channels: data.imageShape.count == 3 ? data.imageShape[0] : 1,
                                      rows: rows, into: input)
            }
            for (k, i) in rows.enumerated() { labels[k] = data.labels[i] }
        }
    }
}
