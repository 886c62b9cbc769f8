import Tensor

/// A seeded, learnable stand-in for an image dataset, for tests and quick runs. Every image
/// is a shared random background, plus a faint pattern of its class (each pixel moved by at
/// most ±`contrast` levels), plus per-pixel noise: a model has to learn for a few epochs
/// to tell the classes apart, and random weights score chance.
public enum SyntheticImages {
    /// - Parameters:
    ///   - classes: at least 1.
    ///   - noise: the noise amplitude in pixel levels (0…255).
    ///   - contrast: the class patterns' amplitude in pixel levels.
    public static func make(count: Int, classes: Int, imageShape: [Int], noise: Int, contrast: Int = 32,
                            seed: UInt64) -> LabeledImages {
        precondition(classes > 0 && count >= 0, "SyntheticImages: \(count) images of \(classes) classes")
        var rng = SeededGenerator(seed: seed)
        let size = imageShape.reduce(1, *)
        let background = (0..<size).map { _ in Int(rng.next() % 256) }
        let patterns = (0..<classes).map { _ in
            (0..<size).map { j in background[j] + Int(rng.next() % UInt64(2 * contrast + 1)) - contrast }
        }
        var pixels = [UInt8](repeating: 0, count: count * size)
        var labels = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            let label = Int(rng.next() % UInt64(classes))
            labels[i] = Int32(label)
            for j in 0..<size {
                let jitter = noise > 0 ? Int(rng.next() % UInt64(2 * noise + 1)) - noise : 0
                pixels[i * size + j] = UInt8(clamping: patterns[label][j] + jitter)
            }
        }
        return LabeledImages(trusted: imageShape, pixels: pixels, labels: labels, classes: classes)
    }
}
