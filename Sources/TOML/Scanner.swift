/// The parser's read position in the decoded source, with its line and column.
///
/// Reading past the end is harmless: `current` is nil there and `advance` does nothing, so no
/// input can move the index out of bounds.
struct Scanner {
    /// What `describe` calls a line break; messages compare against it.
    static let newlineText = "a newline"

    /// The source, with line endings as `\n` (see `SourceDecoder`).
    private let scalars: [Unicode.Scalar]
    /// The index of `current` in `scalars`.
    private var index = 0
    /// Where `current` is.
    private(set) var position = TOMLPosition(line: 1, column: 1)

    /// A scanner at the start of `scalars`.
    init(_ scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    /// The scalar at the read position, or nil at the end.
    var current: Unicode.Scalar? { peek(0) }

    /// The scalar `offset` places ahead of the read position, or nil past the end.
    func peek(_ offset: Int) -> Unicode.Scalar? {
        let i = index + offset
        return i < scalars.count ? scalars[i] : nil
    }

    /// Whether the source continues with `text` at the read position.
    func startsWith(_ text: String) -> Bool {
        var offset = 0
        for scalar in text.unicodeScalars {
            guard peek(offset) == scalar else { return false }
            offset += 1
        }
        return true
    }

    /// What `current` is, for "found X" in messages.
    var found: String { Scanner.describe(current) }

    /// Moves past `current`, if there is one.
    mutating func advance() {
        guard let scalar = current else { return }
        index += 1
        position = scalar == "\n"
            ? TOMLPosition(line: position.line + 1, column: 1)
            : TOMLPosition(line: position.line, column: position.column + 1)
    }

    /// Moves past `count` scalars.
    mutating func advance(by count: Int) {
        for _ in 0..<count { advance() }
    }

    /// Moves past spaces and tabs, TOML's whitespace.
    mutating func skipSpaces() {
        while current == " " || current == "\t" { advance() }
    }

    /// Moves past a comment, from `#` up to (not including) the end of its line. Tabs aside,
    /// control characters are not allowed in comments.
    mutating func skipComment() throws(TOMLError) {
        advance()
        while let scalar = current, scalar != "\n" {
            if isControl(scalar) && scalar != "\t" {
                throw .controlCharacter(scalar, in: "a comment", at: position)
            }
            advance()
        }
    }

    /// Moves past whitespace, line breaks and comments, as allowed between array elements.
    mutating func skipBlankLines() throws(TOMLError) {
        while true {
            skipSpaces()
            if current == "\n" {
                advance()
            } else if current == "#" {
                try skipComment()
            } else {
                return
            }
        }
    }

    /// `scalar` named for a message: `'x'` for a visible character (`"'"` for the quote itself),
    /// words for blanks and the end, `U+XXXX` for other control characters.
    static func describe(_ scalar: Unicode.Scalar?) -> String {
        guard let scalar else { return "the end of the file" }
        switch scalar {
        case "\n": return newlineText
        case " ": return "a space"
        case "\t": return "a tab"
        case "'": return "\"'\""
        case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
            return "U+" + hex(scalar.value, digits: 4)
        default: return "'\(scalar)'"
        }
    }
}

/// Whether `scalar` is one of the control characters TOML keeps out of strings and comments:
/// U+0000–U+001F and U+007F. (Callers allow the tab, and line breaks where lines may break.)
func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || scalar.value == 0x7F
}
