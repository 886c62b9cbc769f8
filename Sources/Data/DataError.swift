/// Why a dataset could not be read. The text names the file and what is wrong with it.
public struct DataError: Error, Equatable, CustomStringConvertible {
    public let description: String
    /// Whether the data is too short for one window of the model's context: a data error that
    /// the model's context, a config key, may be the cause of.
    public let isShorterThanAWindow: Bool

    public init(_ description: String, isShorterThanAWindow: Bool = false) {
        self.description = description
        self.isShorterThanAWindow = isShorterThanAWindow
    }
}
