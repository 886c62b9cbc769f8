/// A place in a TOML source: 1-based line and column.
///
/// Columns count Unicode scalars, so a tab or an `é` is one column. A CRLF line ending counts as
/// one line break; the carriage return has no column of its own.
public struct TOMLPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The line, from 1.
    public let line: Int
    /// The column on that line, from 1, in Unicode scalars.
    public let column: Int

    /// A position at `line` and `column`, both counted from 1.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `line:column`, as compilers print positions.
    public var description: String { "\(line):\(column)" }

    /// Earlier in the source first.
    public static func < (a: TOMLPosition, b: TOMLPosition) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}
