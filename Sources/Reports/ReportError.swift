import Host

/// Why a report, a plan or a file it reads cannot be made: one line that names the file or
/// the figure and what is wrong. `inRequest` marks errors in what was asked for (a world
/// size that does not fit, a file that does not exist), as against a failure on the way.
public struct ReportError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public let inRequest: Bool

    /// An error in what was asked for.
    public static func request(_ description: String) -> ReportError { ReportError(description: description, inRequest: true) }
    /// A failure on the way.
    public static func failure(_ description: String) -> ReportError { ReportError(description: description, inRequest: false) }
}
