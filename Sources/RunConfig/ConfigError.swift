/// A bad config: the text names the file and the key or line, and says what is expected.
/// The CLI prints it on one line and exits with 2.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
