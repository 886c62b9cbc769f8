/// One part of a dotted key, unquoted, with where it is written.
struct KeySegment {
    /// The key, after unquoting and unescaping.
    let name: String
    /// Where the segment starts (its opening quote, if quoted).
    let position: TOMLPosition
}

/// Whether a key can start with `scalar`: a bare key character or a quote.
func isKeyStart(_ scalar: Unicode.Scalar) -> Bool {
    isBareKeyScalar(scalar) || scalar == "\"" || scalar == "'"
}

extension Parser {
    /// Reads a key, bare, quoted or dotted (`a."b c".d`, spaces allowed around the dots), and the
    /// spaces after it. `context` ("in the table header") completes "expected a key …" when no key
    /// starts here; it may be empty where the caller has checked that one does.
    mutating func parseKey(context: String) throws(TOMLError) -> [KeySegment] {
        var segments: [KeySegment] = []
        while true {
            guard let scalar = scanner.current, isKeyStart(scalar) else {
                let context = segments.isEmpty ? context : "after '.'"
                throw .expectedKey(context, found: scanner.found, at: scanner.position)
            }
            segments.append(try parseKeySegment())
            scanner.skipSpaces()
            guard scanner.current == "." else { return segments }
            scanner.advance()
            scanner.skipSpaces()
        }
    }

    /// Reads one bare or quoted key segment; `current` is a key start.
    private mutating func parseKeySegment() throws(TOMLError) -> KeySegment {
        let start = scanner.position
        switch scanner.current {
        case "\"":
            if scanner.startsWith("\"\"\"") { throw .multiLineKey(at: start) }
            return KeySegment(name: try parseBasicString(), position: start)
        case "'":
            if scanner.startsWith("'''") { throw .multiLineKey(at: start) }
            return KeySegment(name: try parseLiteralString(), position: start)
        default:
            var name = ""
            while let scalar = scanner.current, isBareKeyScalar(scalar) {
                name.unicodeScalars.append(scalar)
                scanner.advance()
            }
            return KeySegment(name: name, position: start)
        }
    }
}
