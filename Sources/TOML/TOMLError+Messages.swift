/// Every message the reader can give, in one place. Keys are written as `dottedKeyText` writes
/// them, from the document's root; "found X" names what stood where something else was expected
/// (see `Scanner.describe`).
extension TOMLError {
    // MARK: Bytes

    static func invalidUTF8(_ bytes: ArraySlice<UInt8>, at position: TOMLPosition) -> TOMLError {
        let text = bytes.map { "0x" + hex(UInt32($0), digits: 2) }.joined(separator: " ")
        return TOMLError("invalid UTF-8 (\(bytes.count == 1 ? "byte" : "bytes") \(text))", at: position)
    }

    static func loneCarriageReturn(at position: TOMLPosition) -> TOMLError {
        TOMLError("a carriage return must be followed by a line feed", at: position)
    }

    // MARK: Lines, keys and headers

    static func expectedKeyOrHeader(found: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("expected a key or a table header, found \(found)", at: position)
    }

    static func expectedKey(_ context: String, found: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("expected a key" + (context.isEmpty ? "" : " " + context) + ", found \(found)", at: position)
    }

    static func multiLineKey(at position: TOMLPosition) -> TOMLError {
        TOMLError("a multi-line string cannot be a key", at: position)
    }

    static func unclosedHeader(_ path: [String], isArray: Bool, at position: TOMLPosition) -> TOMLError {
        let text = dottedKeyText(path)
        return isArray
            ? TOMLError("expected ']]' to close the array of tables header [[\(text)", at: position)
            : TOMLError("expected ']' to close the table header [\(text)", at: position)
    }

    static func textAfterHeader(_ path: [String], isArray: Bool, found: String, at position: TOMLPosition) -> TOMLError {
        let header = isArray ? "[[\(dottedKeyText(path))]]" : "[\(dottedKeyText(path))]"
        return TOMLError("expected a newline or a comment after the table header \(header), found \(found)", at: position)
    }

    static func expectedEquals(after path: [String], found: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("expected '=' after the key \(dottedKeyText(path)), found \(found)", at: position)
    }

    static func expectedValue(for path: [String], found: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("expected a value for the key \(dottedKeyText(path)), found \(found)", at: position)
    }

    static func textAfterValue(of path: [String], found: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("expected a newline or a comment after the value of \(dottedKeyText(path)), found \(found)", at: position)
    }

    static func controlCharacter(_ scalar: Unicode.Scalar, in context: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("control character U+\(hex(scalar.value, digits: 4)) is not allowed in \(context)", at: position)
    }

    // MARK: Strings

    static func unterminated(_ kind: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("unterminated \(kind)", at: position)
    }

    static func invalidEscape(_ text: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("invalid escape \\\(text) in a string", at: position)
    }

    static func shortUnicodeEscape(_ text: String, digits: Int, at position: TOMLPosition) -> TOMLError {
        TOMLError("invalid escape \\\(text) in a string: \\\(text.prefix(1)) takes \(digits) hex digits", at: position)
    }

    static func notAScalar(_ text: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("invalid escape \\\(text) in a string: not a Unicode scalar value", at: position)
    }

    // MARK: Numbers and other bare values

    static func integerOverflow(_ text: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("integer \(text) does not fit in 64 bits", at: position)
    }

    static func floatOverflow(_ text: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("float \(text) does not fit in 64 bits", at: position)
    }

    static func invalidNumber(_ text: String, reason: String? = nil, at position: TOMLPosition) -> TOMLError {
        TOMLError("invalid number \(text)" + (reason.map { ": " + $0 } ?? ""), at: position)
    }

    static func bareWord(_ text: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("invalid value \(text): strings need quotes, booleans are true or false", at: position)
    }

    static func dateTime(_ text: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("dates and times are not supported (\(text))", at: position)
    }

    // MARK: Arrays and inline tables

    static func expectedArrayElement(found: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("expected a value or ']' in the array, found \(found)", at: position)
    }

    static func expectedArraySeparator(found: String, at position: TOMLPosition) -> TOMLError {
        TOMLError("expected ',' or ']' after an array element, found \(found)", at: position)
    }

    static func expectedInlineSeparator(found: String, at position: TOMLPosition) -> TOMLError {
        let note = found == Scanner.newlineText ? " (an inline table must be on one line)" : ""
        return TOMLError("expected ',' or '}' in the inline table, found \(found)\(note)", at: position)
    }

    static func trailingCommaInInlineTable(at position: TOMLPosition) -> TOMLError {
        TOMLError("a trailing comma is not allowed in an inline table", at: position)
    }

    static func tooDeep(at position: TOMLPosition) -> TOMLError {
        TOMLError("nesting deeper than \(TOMLDocument.maximumDepth) levels", at: position)
    }

    // MARK: Definitions

    static func duplicateKey(_ path: [String], firstLine: Int, at position: TOMLPosition) -> TOMLError {
        TOMLError("duplicate key \(dottedKeyText(path)) (first defined at line \(firstLine))", at: position)
    }

    static func tableDefinedTwice(_ path: [String], firstLine: Int, at position: TOMLPosition) -> TOMLError {
        TOMLError("table [\(dottedKeyText(path))] defined twice (first at line \(firstLine))", at: position)
    }

    static func tableDefinedByDottedKeys(_ path: [String], line: Int, at position: TOMLPosition) -> TOMLError {
        TOMLError("table [\(dottedKeyText(path))] was already defined by dotted keys at line \(line)", at: position)
    }

    static func inlineTableExtended(_ path: [String], line: Int, at position: TOMLPosition) -> TOMLError {
        TOMLError("inline table \(dottedKeyText(path)) (line \(line)) cannot be extended", at: position)
    }

    static func notATable(_ path: [String], typeName: String, line: Int, at position: TOMLPosition) -> TOMLError {
        let article = typeName.first.map { "aeiou".contains($0) } == true ? "an" : "a"
        return TOMLError("key \(dottedKeyText(path)) is \(article) \(typeName) (line \(line)), not a table", at: position)
    }

    static func notATableArray(_ path: [String], what: String, line: Int, at position: TOMLPosition) -> TOMLError {
        let key = dottedKeyText(path)
        return TOMLError("[[\(key)]] cannot append to \(key): it is \(what) (line \(line)), not an array of tables", at: position)
    }

    static func tableArrayAsTable(_ path: [String], line: Int, at position: TOMLPosition) -> TOMLError {
        let key = dottedKeyText(path)
        return TOMLError("[\(key)] cannot define a table: \(key) is an array of tables (line \(line)); [[\(key)]] adds an element", at: position)
    }

    static func dottedKeyIntoDefinedTable(_ path: [String], what: String, line: Int, at position: TOMLPosition) -> TOMLError {
        TOMLError("dotted keys cannot add to \(what) \(dottedKeyText(path)) defined at line \(line)", at: position)
    }
}
