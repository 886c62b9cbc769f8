/// A parsed TOML 1.0 document: its root table, in which every key and value keeps its position.
///
/// ```swift
/// let document = try TOMLDocument(parsing: text)          // throws TOMLError
/// for item in document.root.walk() {                       // every key, depth-first
///     print(item.dottedKey, item.keyPosition, item.node.value)
/// }
/// let batch = document.root[path: ["train", "batch"]]?.integer
/// ```
///
/// What is read: tables and arrays of tables, inline tables, bare, quoted and dotted keys, the
/// four kinds of strings with every escape, integers in decimal, hexadecimal, octal and binary
/// with underscores, floats with exponents, `inf` and `nan`, booleans, arrays of mixed types,
/// comments, LF and CRLF line endings. A UTF-8 byte order mark at the start is skipped.
///
/// What is rejected: everything TOML 1.0 rejects, with the redefinition rules (a key or a table
/// defined twice, an inline table or a static array extended later), and also **dates and times**
/// (offset and local date-times, dates, times), which Lockstep's configs have no use for: they are
/// an error, "dates and times are not supported". Integers must fit in `Int64` and floats in
/// `Double`; tables and arrays may nest `maximumDepth` deep.
///
/// Reading never traps, whatever the bytes: invalid UTF-8, a stray carriage return, nesting past
/// the limit and every malformed construct are `TOMLError`s with a line and column. Time is
/// linear in the input's length.
public struct TOMLDocument: Sendable, Equatable {
    /// How deep tables and arrays may nest, the root table not counted: `a.b.c = 1` nests 2
    /// deep, `a = [[1]]` 2 deep, `[[a]]` 2 (the array and its element). Deeper input is an error, so
    /// that no input can exhaust the stack of the reader or of code walking its result.
    public static let maximumDepth = 128

    /// The top-level table, at 1:1.
    public let root: TOMLTable

    /// Reads a document from the bytes of a UTF-8 file.
    public init(parsing bytes: some Sequence<UInt8>) throws(TOMLError) {
        var parser = Parser(try SourceDecoder.decode(Array(bytes)))
        root = try parser.parseDocument()
    }

    /// Reads a document from text.
    public init(parsing text: String) throws(TOMLError) {
        try self.init(parsing: text.utf8)
    }
}
