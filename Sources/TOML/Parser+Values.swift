/// Values: strings, arrays and inline tables here, numbers and booleans in `BareValue`.
extension Parser {
    /// Reads the value at `current`. `level` is the nesting level an array or inline table here
    /// would have; `path` is the key it belongs to, for messages; `inArray` chooses the message
    /// when no value starts here.
    mutating func parseValue(level: Int, path: [String], inArray: Bool) throws(TOMLError) -> TOMLNode {
        let start = scanner.position
        guard let scalar = scanner.current else { throw noValue(path: path, inArray: inArray) }
        switch scalar {
        case "\"":
            let text = scanner.startsWith("\"\"\"") ? try parseMultiLineBasicString() : try parseBasicString()
            return TOMLNode(.string(text), at: start)
        case "'":
            let text = scanner.startsWith("'''") ? try parseMultiLineLiteralString() : try parseLiteralString()
            return TOMLNode(.string(text), at: start)
        case "[":
            return try parseArray(level: level, path: path)
        case "{":
            return try parseInlineTable(level: level, path: path)
        case _ where BareValue.isTokenScalar(scalar):
            var token: [UInt8] = []
            while let scalar = scanner.current, BareValue.isTokenScalar(scalar) {
                token.append(UInt8(truncatingIfNeeded: scalar.value))
                scanner.advance()
            }
            return TOMLNode(try BareValue.parse(token, at: start), at: start)
        default:
            throw noValue(path: path, inArray: inArray)
        }
    }

    /// The error for a place where a value should start but none does.
    private func noValue(path: [String], inArray: Bool) -> TOMLError {
        inArray
            ? .expectedArrayElement(found: scanner.found, at: scanner.position)
            : .expectedValue(for: path, found: scanner.found, at: scanner.position)
    }

    /// Reads an array: values of any types, separated by commas, a trailing comma allowed, with
    /// line breaks and comments anywhere between them.
    private mutating func parseArray(level: Int, path: [String]) throws(TOMLError) -> TOMLNode {
        let start = scanner.position
        try checkDepth(level, at: start)
        scanner.advance()
        var elements: [TOMLNode] = []
        while true {
            try scanner.skipBlankLines()
            if scanner.current == "]" { break }
            if scanner.current == nil { throw .unterminated("array", at: start) }
            elements.append(try parseValue(level: level + 1, path: path, inArray: true))
            try scanner.skipBlankLines()
            if scanner.current == "," {
                scanner.advance()
            } else if scanner.current == "]" {
                break
            } else if scanner.current == nil {
                throw .unterminated("array", at: start)
            } else {
                throw .expectedArraySeparator(found: scanner.found, at: scanner.position)
            }
        }
        scanner.advance()
        return TOMLNode(.array(elements), at: start)
    }

    /// Reads an inline table: `key = value` pairs on one line, separated by commas, no trailing
    /// comma. Its keys follow the same rules as a table's, and it cannot be extended afterwards.
    private mutating func parseInlineTable(level: Int, path: [String]) throws(TOMLError) -> TOMLNode {
        let start = scanner.position
        try checkDepth(level, at: start)
        scanner.advance()
        let table = TableBuilder(origin: .inline, position: start, path: path, level: level)
        scanner.skipSpaces()
        if scanner.current == "}" {
            scanner.advance()
            return TOMLNode(.table(table.freeze()), at: start)
        }
        while true {
            guard let scalar = scanner.current, isKeyStart(scalar) else {
                if scanner.current == nil { throw .unterminated("inline table", at: start) }
                throw .expectedKey("in the inline table", found: scanner.found, at: scanner.position)
            }
            _ = try parseKeyValue(into: table)
            scanner.skipSpaces()
            switch scanner.current {
            case ",":
                scanner.advance()
                scanner.skipSpaces()
                if scanner.current == "}" { throw .trailingCommaInInlineTable(at: scanner.position) }
            case "}":
                scanner.advance()
                return TOMLNode(.table(table.freeze()), at: start)
            case nil:
                throw .unterminated("inline table", at: start)
            default:
                throw .expectedInlineSeparator(found: scanner.found, at: scanner.position)
            }
        }
    }
}
