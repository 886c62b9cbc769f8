/// A usage error found by the library, e.g. a strong-scaling batch that does not divide.
/// The CLI prints it as one line and exits with 2.
public struct UsageMessage: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
