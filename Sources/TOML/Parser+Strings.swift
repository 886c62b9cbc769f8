/// The four kinds of TOML strings: basic `"…"` with escapes, literal `'…'` without, and their
/// multi-line forms `"""…"""` and `'''…'''`. Each reader starts at the opening quote and ends
/// after the closing one. An unterminated string is reported at its opening quote.
extension Parser {
    /// Reads a basic string: escapes, no line breaks, no control characters but the tab.
    mutating func parseBasicString() throws(TOMLError) -> String {
        let start = scanner.position
        scanner.advance()
        var text = ""
        while true {
            guard let scalar = scanner.current, scalar != "\n" else { throw .unterminated("string", at: start) }
            switch scalar {
            case "\"":
                scanner.advance()
                return text
            case "\\":
                try parseEscape(into: &text, kind: "string", start: start)
            default:
                try append(scalar, to: &text, in: "a string")
            }
        }
    }

    /// Reads a literal string: taken as written, no line breaks, no control characters but the tab.
    mutating func parseLiteralString() throws(TOMLError) -> String {
        let start = scanner.position
        scanner.advance()
        var text = ""
        while true {
            guard let scalar = scanner.current, scalar != "\n" else { throw .unterminated("literal string", at: start) }
            if scalar == "'" {
                scanner.advance()
                return text
            }
            try append(scalar, to: &text, in: "a literal string")
        }
    }

    /// Reads a multi-line basic string. A line break right after the opening quotes is dropped; a
    /// backslash ending a line drops it and the whitespace and line breaks after it.
    mutating func parseMultiLineBasicString() throws(TOMLError) -> String {
        let start = scanner.position
        scanner.advance(by: 3)
        if scanner.current == "\n" { scanner.advance() }
        var text = ""
        while true {
            guard let scalar = scanner.current else { throw .unterminated("multi-line string", at: start) }
            switch scalar {
            case "\"":
                if closeMultiLine(quote: "\"", into: &text) { return text }
            case "\\" where isLineEndingBackslash():
                scanner.advance()
                while let blank = scanner.current, blank == " " || blank == "\t" || blank == "\n" { scanner.advance() }
            case "\\":
                try parseEscape(into: &text, kind: "multi-line string", start: start)
            case "\n":
                text.unicodeScalars.append(scalar)
                scanner.advance()
            default:
                try append(scalar, to: &text, in: "a multi-line string")
            }
        }
    }

    /// Reads a multi-line literal string, taken as written but for a line break right after the
    /// opening quotes.
    mutating func parseMultiLineLiteralString() throws(TOMLError) -> String {
        let start = scanner.position
        scanner.advance(by: 3)
        if scanner.current == "\n" { scanner.advance() }
        var text = ""
        while true {
            guard let scalar = scanner.current else { throw .unterminated("multi-line literal string", at: start) }
            switch scalar {
            case "'":
                if closeMultiLine(quote: "'", into: &text) { return text }
            case "\n":
                text.unicodeScalars.append(scalar)
                scanner.advance()
            default:
                try append(scalar, to: &text, in: "a multi-line literal string")
            }
        }
    }

    /// At a run of `quote`s in a multi-line string: a run of three or more closes the string, and up
    /// to two quotes before the closing three belong to it (`""""` ends with one `"`). A longer run
    /// leaves its rest for the caller to reject. Returns whether the string closed.
    private mutating func closeMultiLine(quote: Unicode.Scalar, into text: inout String) -> Bool {
        var run = 0
        while run < 5 && scanner.peek(run) == quote { run += 1 }
        let kept = run < 3 ? run : run - 3
        for _ in 0..<kept { text.unicodeScalars.append(quote) }
        scanner.advance(by: run)
        return run >= 3
    }

    /// Whether the backslash at `current` is followed by nothing but spaces up to the line's end.
    private func isLineEndingBackslash() -> Bool {
        var offset = 1
        while scanner.peek(offset) == " " || scanner.peek(offset) == "\t" { offset += 1 }
        return scanner.peek(offset) == "\n"
    }

    /// Appends `scalar`, a character of a string's body, unless it is a control character other
    /// than the tab; `context` names the string's kind for the message.
    private mutating func append(_ scalar: Unicode.Scalar, to text: inout String, in context: String) throws(TOMLError) {
        if isControl(scalar) && scalar != "\t" {
            throw .controlCharacter(scalar, in: context, at: scanner.position)
        }
        text.unicodeScalars.append(scalar)
        scanner.advance()
    }

    /// Reads an escape at the backslash at `current` into `text`: `\b \t \n \f \r \" \\`,
    /// `\uXXXX` and `\UXXXXXXXX` naming a Unicode scalar value.
    private mutating func parseEscape(into text: inout String, kind: String, start: TOMLPosition) throws(TOMLError) {
        let backslash = scanner.position
        scanner.advance()
        guard let letter = scanner.current, letter != "\n" else { throw .unterminated(kind, at: start) }
        let simple: [Unicode.Scalar: Unicode.Scalar] = [
            "b": "\u{8}", "t": "\t", "n": "\n", "f": "\u{C}", "r": "\r", "\"": "\"", "\\": "\\",
        ]
        if let replacement = simple[letter] {
            text.unicodeScalars.append(replacement)
            scanner.advance()
            return
        }
        guard letter == "u" || letter == "U" else {
            let invisible = letter.properties.isWhitespace || isControl(letter)
            throw .invalidEscape(invisible ? " followed by " + Scanner.describe(letter) : String(letter), at: backslash)
        }
        scanner.advance()
        let digits = letter == "u" ? 4 : 8
        var value: UInt32 = 0
        var written = String(letter)
        for _ in 0..<digits {
            guard let scalar = scanner.current, let digit = hexDigitValue(scalar) else {
                throw .shortUnicodeEscape(written, digits: digits, at: backslash)
            }
            value = value << 4 | digit
            written.unicodeScalars.append(scalar)
            scanner.advance()
        }
        guard let scalar = Unicode.Scalar(value) else { throw .notAScalar(written, at: backslash) }
        text.unicodeScalars.append(scalar)
    }
}

/// The value of a hexadecimal digit (either case), or nil.
func hexDigitValue(_ scalar: Unicode.Scalar) -> UInt32? {
    switch scalar {
    case "0"..."9": scalar.value - 48
    case "a"..."f": scalar.value - 87
    case "A"..."F": scalar.value - 55
    default: nil
    }
}
