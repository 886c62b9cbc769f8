/// A labelled image dataset kept as bytes: 60,000 Fashion-MNIST images are 47 MB as UInt8
/// against 188 MB as Float32. Batches are converted to Float when they are assembled.
public struct LabeledImages: Sendable {
    public let count: Int
    /// Per-image shape: (channels, height, width).
    public let imageShape: [Int]
    /// count × C·H·W pixels, row-major.
    public let pixels: [UInt8]
    /// count class indices in `0..<classes`.
    public let labels: [Int32]
    public let classes: Int

    /// - Throws: `DataError` if the sizes disagree or a label is out of range. `source` names
    ///   the files in the message.
    public init(imageShape: [Int], pixels: [UInt8], labels: [Int32], classes: Int, source: String) throws(DataError) {
        let size = imageShape.reduce(1, *)
        guard size > 0, pixels.count % size == 0 else {
            throw DataError("\(source): \(pixels.count) pixel bytes are not a whole number of \(imageShape) images")
        }
        let images = pixels.count / size
        guard images == labels.count else {
            throw DataError("\(source): \(images) images but \(labels.count) labels")
        }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw DataError("\(source): label \(bad) outside 0..<\(classes)")
        }
        self.init(trusted: imageShape, pixels: pixels, labels: labels, classes: classes)
    }

    /// For data that agrees by construction.
    init(trusted imageShape: [Int], pixels: [UInt8], labels: [Int32], classes: Int) {
        self.count = labels.count
        self.imageShape = imageShape
        self.pixels = pixels
        self.labels = labels
        self.classes = classes
    }

    /// Bytes per image.
    public var imageSize: Int { imageShape.reduce(1, *) }
}

extension LabeledImages {
    /// The first `count` images, and the rest.
    public func split(at count: Int) -> (LabeledImages, LabeledImages) {
        precondition(count >= 0 && count <= self.count, "split(at: \(count)) of \(self.count) images")
        let cut = count * imageSize
        return (LabeledImages(trusted: imageShape, pixels: Array(pixels[..<cut]), labels: Array(labels[..<count]), classes: classes),
                LabeledImages(trusted: imageShape, pixels: Array(pixels[cut...]), labels: Array(labels[count...]), classes: classes))
    }
}
