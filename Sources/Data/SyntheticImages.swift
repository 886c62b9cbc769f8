import Tensor

/// A seeded, learnable stand-in for an image dataset, for tests and quick runs: each class
/// has a random prototype image, and each sample is its class's prototype plus noise.
public enum SyntheticImages {
    /// - Parameters:
    ///   - classes: at least 1.
    ///   - noise: the noise amplitude in pixel levels (0…255).
    public static func make(count: Int, classes: Int, imageShape: [Int], noise: Int, seed: UInt64) -> LabeledImages {
        precondition(classes > 0 && count >= 0, "SyntheticImages: \(count) images of \(classes) classes")
        var rng = SeededGenerator(seed: seed)
        let size = imageShape.reduce(1, *)
        let prototypes = (0..<classes).map { _ in (0..<size).map { _ in Int(rng.next() % 256) } }
        var pixels = [UInt8](repeating: 0, count: count * size)
        var labels = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            let label = Int(rng.next() % UInt64(classes))
            labels[i] = Int32(label)
            for j in 0..<size {
                let jitter = noise > 0 ? Int(rng.next() % UInt64(2 * noise + 1)) - noise : 0
                pixels[i * size + j] = UInt8(clamping: prototypes[label][j] + jitter)
            }
        }
        return LabeledImages(trusted: imageShape, pixels: pixels, labels: labels, classes: classes)
    }
}
