/// The data section: where the examples come from.
public struct DataSettings: Sendable, Equatable {
    public enum Dataset: String, Sendable {
        case fashionMNIST = "fashion-mnist", synthetic, text, tokens

        /// Whether the dataset is token windows for a language model, not labelled images.
        public var isText: Bool { self == .text || self == .tokens }
    }

    public var dataset: Dataset
    /// The image folder, or the corpus file or folder.
    public var path: String
    /// Synthetic images: their counts, classes, noise and seed.
    public var trainCount: Int, testCount: Int, classes: Int, noise: Int, seed: UInt64
    /// Token files: "auto", "uint16" or "llmc".
    public var format: String
    /// The validation corpus; empty: the last `validationFraction` of `path`.
    public var validationPath: String
    public var validationFraction: Double
    /// The most validation windows an evaluation reads; 0: every one.
    public var validationWindows: Int

    init(_ c: Config) {
        dataset = Dataset(rawValue: c.string("data.dataset"))!
        path = c.string("data.path")
        trainCount = c.int("data.train_count")
        testCount = c.int("data.test_count")
        classes = c.int("data.classes")
        noise = c.int("data.noise")
        seed = UInt64(c.int("data.seed"))
        format = c.string("data.format")
        validationPath = c.string("data.val_path")
        validationFraction = c.double("data.val_fraction")
        validationWindows = c.int("data.val_windows")
    }
}
