/// Reads a decoded TOML document line by line: blank lines, comments, table headers and
/// key/value pairs, filling a tree of `TableBuilder`s.
///
/// The parser is recursive only where values nest (arrays and inline tables), and
/// `TOMLDocument.maximumDepth` bounds that, so no input can exhaust the stack. Every loop
/// advances the scanner or ends, so every input is read in linear time.
struct Parser {
    /// The read position.
    var scanner: Scanner
    /// The document's root table.
    private let root = TableBuilder(origin: .root, position: TOMLPosition(line: 1, column: 1), path: [], level: 0)
    /// The table the latest header opened, where key/value pairs go; the root before any header.
    private var section: TableBuilder

    /// A parser at the start of `scalars`.
    init(_ scalars: [Unicode.Scalar]) {
        scanner = Scanner(scalars)
        section = root
    }

    /// Reads the whole document.
    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        while true {
            scanner.skipSpaces()
            guard let scalar = scanner.current else { return root.freeze() }
            switch scalar {
            case "\n":
                scanner.advance()
            case "#":
                try scanner.skipComment()
            case "[":
                try parseHeader()
            case _ where isKeyStart(scalar):
                let path = try parseKeyValue(into: section)
                try expectLineEnd { found, at throws(TOMLError) in throw .textAfterValue(of: path, found: found, at: at) }
            default:
                throw .expectedKeyOrHeader(found: scanner.found, at: scanner.position)
            }
        }
    }

    /// Reads a `[table]` or `[[array of tables]]` header and makes its table the current section.
    private mutating func parseHeader() throws(TOMLError) {
        let start = scanner.position
        scanner.advance()
        let isArray = scanner.current == "["
        if isArray { scanner.advance() }
        scanner.skipSpaces()
        let keys = try parseKey(context: "in the table header")
        let names = keys.map(\.name)
        for _ in 0..<(isArray ? 2 : 1) {
            guard scanner.current == "]" else {
                throw .unclosedHeader(names, isArray: isArray, at: scanner.position)
            }
            scanner.advance()
        }
        section = isArray
            ? try root.appendTableArrayElement(keys, header: start)
            : try root.defineTable(keys, header: start)
        try expectLineEnd { found, at throws(TOMLError) in
            throw .textAfterHeader(names, isArray: isArray, found: found, at: at)
        }
    }

    /// Reads `key = value` into `table` (the current section or an inline table) and returns the
    /// key's full path. Stops after the value.
    mutating func parseKeyValue(into table: TableBuilder) throws(TOMLError) -> [String] {
        let keys = try parseKey(context: "")
        guard scanner.current == "=" else {
            throw .expectedEquals(after: table.path + keys.map(\.name), found: scanner.found, at: scanner.position)
        }
        scanner.advance()
        scanner.skipSpaces()
        let parent = try table.tableForKeyValue(keys)
        guard let last = keys.last else { return table.path }
        let path = parent.path + [last.name]
        let node = try parseValue(level: parent.level + 1, path: path, inArray: false)
        parent.insert(last.name, at: last.position, .value(node))
        return path
    }

    /// Skips spaces and a comment, then requires the end of the line or of the file; otherwise
    /// calls `failure` with what was found and where.
    private mutating func expectLineEnd(
        _ failure: (String, TOMLPosition) throws(TOMLError) -> Never
    ) throws(TOMLError) {
        scanner.skipSpaces()
        if scanner.current == "#" { try scanner.skipComment() }
        guard scanner.current == nil || scanner.current == "\n" else {
            try failure(scanner.found, scanner.position)
        }
    }
}
