import Foundation

/// Fashion-MNIST from an IDX folder, as Debian's `dataset-fashion-mnist` installs it in
/// /usr/share/datasets/fashion-mnist: train-images-idx3-ubyte.gz and friends, gzip'd or not.
public enum FashionMNIST {
    public static let defaultPath = "/usr/share/datasets/fashion-mnist"

    /// Loads the training and test sets from `directory`.
    public static func load(directory: String) throws(DataError) -> (train: LabeledImages, test: LabeledImages) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError("\(directory): dataset folder not found (install Debian's dataset-fashion-mnist, or set data.path)")
        }
        return (try split("train", in: directory), try split("t10k", in: directory))
    }

    private static func split(_ prefix: String, in directory: String) throws(DataError) -> LabeledImages {
        let imagesPath = try find("\(prefix)-images-idx3-ubyte", in: directory)
        let labelsPath = try find("\(prefix)-labels-idx1-ubyte", in: directory)
        let images = try IDXReader.read(imagesPath, expectedDimensions: 3)
        let labels = try IDXReader.read(labelsPath, expectedDimensions: 1)
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw DataError("\(imagesPath): \(images.dimensions[0]) images but \(labelsPath) has \(labels.dimensions[0]) labels")
        }
        return try LabeledImages(imageShape: [1, images.dimensions[1], images.dimensions[2]], pixels: images.bytes,
                                 labels: labels.bytes.map(Int32.init), classes: 10, source: imagesPath)
    }

    private static func find(_ name: String, in directory: String) throws(DataError) -> String {
        for candidate in ["\(directory)/\(name).gz", "\(directory)/\(name)"]
        where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw DataError("\(directory)/\(name).gz: not found")
    }
}
