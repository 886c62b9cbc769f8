/// Why a TOML source was rejected, and where.
///
/// The reader stops at the first problem. `message` is a fixed sentence naming what was expected
/// or what clashed (see `TOMLError+Messages.swift` for every text); it has no position of its own,
/// so that a caller can prefix the file name: `"\(file):\(error.line):\(error.column): \(error.message)"`.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, without the position.
    public let message: String
    /// Where the problem starts.
    public let position: TOMLPosition

    /// An error with `message` at `position`.
    public init(_ message: String, at position: TOMLPosition) {
        self.message = message
        self.position = position
    }

    /// The line of the problem, from 1.
    public var line: Int { position.line }
    /// The column of the problem, from 1, in Unicode scalars.
    public var column: Int { position.column }

    /// `line:column: message`.
    public var description: String { "\(position): \(message)" }
}
