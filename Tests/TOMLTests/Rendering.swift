import TOML
import XCTest

/// A compact text form of values, so that expected documents fit in a table:
/// `{a = 1, b = {c = "x"}, d = [1.5, true]}`. Keys and entries keep source order.
func render(_ value: TOMLValue) -> String {
    switch value {
    case let .string(s): return quoted(s)
    case let .integer(i): return String(i)
    case let .float(f): return f.isNaN ? (f.sign == .minus ? "-nan" : "nan") : String(f)
    case let .boolean(b): return String(b)
    case let .array(elements): return "[" + elements.map { render($0.value) }.joined(separator: ", ") + "]"
    case let .table(table):
        return "{" + table.entries.map { renderKey($0.key) + " = " + render($0.node.value) }.joined(separator: ", ") + "}"
    }
}

/// The root table of `text` rendered, or the error's position and message.
func renderDocument(_ text: String) -> String {
    do {
        return render(.table(try TOMLDocument(parsing: text).root))
    } catch {
        return "error \(error)"
    }
}

/// A key, bare when it can be.
private func renderKey(_ key: String) -> String {
    let bare = !key.isEmpty && key.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
    }
    return bare ? key : quoted(key)
}

/// A string in double quotes, with quotes, backslashes and control characters escaped.
private func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\u{\(String(scalar.value, radix: 16))}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// The error reading `text` gives, or a failure if it reads.
func readError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> TOMLError? {
    do {
        let document = try TOMLDocument(parsing: text)
        XCTFail("expected an error, read \(render(.table(document.root)))", file: file, line: line)
        return nil
    } catch {
        return error
    }
}

/// The error reading `bytes` gives, or a failure if they read.
func readError(bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> TOMLError? {
    do {
        let document = try TOMLDocument(parsing: bytes)
        XCTFail("expected an error, read \(render(.table(document.root)))", file: file, line: line)
        return nil
    } catch {
        return error
    }
}
