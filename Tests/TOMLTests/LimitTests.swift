import TOML
import XCTest

/// The edges: 64-bit numbers, the nesting limit, invalid UTF-8, and inputs large enough to
/// exhaust a recursive reader's stack or a quadratic one's patience.
final class LimitTests: XCTestCase {
    func testSixtyFourBitIntegers() throws {
        let root = try TOMLDocument(parsing: "max = 9_223_372_036_854_775_807\nmin = -9223372036854775808\nhex = 0x7fffffffffffffff").root
        XCTAssertEqual(root["max"]?.integer, Int64.max)
        XCTAssertEqual(root["min"]?.integer, Int64.min)
        XCTAssertEqual(root["hex"]?.integer, Int64.max)
        for text in ["9223372036854775808", "-9223372036854775809", "0xFFFFFFFFFFFFFFFF", "0x10000000000000000",
                     "0o1000000000000000000000", "0b1" + String(repeating: "0", count: 63), String(repeating: "9", count: 400)] {
            XCTAssertEqual(readError("a = \(text)")?.message, "integer \(text) does not fit in 64 bits")
        }
    }

    func testFloatRange() throws {
        XCTAssertEqual(try TOMLDocument(parsing: "a = 1.7976931348623157e308").root["a"]?.float, .greatestFiniteMagnitude)
        XCTAssertEqual(try TOMLDocument(parsing: "a = 5e-324").root["a"]?.float, .leastNonzeroMagnitude)
        XCTAssertEqual(readError("a = 1.8e308")?.message, "float 1.8e308 does not fit in 64 bits")
        XCTAssertEqual(readError("a = 1" + String(repeating: "0", count: 400) + ".0")?.message.hasSuffix("does not fit in 64 bits"), true)
    }

    /// 128 levels of arrays or inline tables read; the 129th is an error at its bracket.
    func testNestingLimitForValues() throws {
        let deepest = "a = " + String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        XCTAssertNoThrow(try TOMLDocument(parsing: deepest))
        let tooDeep = "a = " + String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        XCTAssertEqual(readError(tooDeep)?.description, "1:133: nesting deeper than 128 levels")

        let inline = "a = " + String(repeating: "{a = ", count: 128) + "1" + String(repeating: "}", count: 128)
        XCTAssertNoThrow(try TOMLDocument(parsing: inline))
        let deeperInline = "a = " + String(repeating: "{a = ", count: 129) + "1" + String(repeating: "}", count: 129)
        XCTAssertEqual(readError(deeperInline)?.description, "1:645: nesting deeper than 128 levels")

        let mixed = "a = " + String(repeating: "[{b = ", count: 65) + "1" + String(repeating: "}]", count: 65)
        XCTAssertEqual(readError(mixed)?.message, "nesting deeper than 128 levels")
    }

    /// Tables nest through headers and dotted keys too, under the same limit.
    func testNestingLimitForKeys() throws {
        let keys = { (count: Int) in Array(repeating: "k", count: count).joined(separator: ".") }
        XCTAssertNoThrow(try TOMLDocument(parsing: "[\(keys(128))]"))
        XCTAssertEqual(readError("[\(keys(129))]")?.description, "1:258: nesting deeper than 128 levels")
        // A dotted key of 129 parts makes 128 tables and puts a plain value in the last.
        XCTAssertNoThrow(try TOMLDocument(parsing: "\(keys(129)) = 1"))
        XCTAssertEqual(readError("\(keys(130)) = 1")?.description, "1:257: nesting deeper than 128 levels")
        // [[k.k…]] nests its array and the array's element: 127 parts reach 128.
        XCTAssertNoThrow(try TOMLDocument(parsing: "[[\(keys(127))]]"))
        XCTAssertEqual(readError("[[\(keys(128))]]")?.message, "nesting deeper than 128 levels")
        // The limit counts from the header's table: [k×100] then a value 29 arrays deep is too deep.
        let header = "[\(keys(100))]\na = " + String(repeating: "[", count: 29) + String(repeating: "]", count: 29)
        XCTAssertEqual(readError(header)?.message, "nesting deeper than 128 levels")
    }

    /// Inputs that would overflow the stack of a reader without a depth limit end in an error,
    /// and long inputs read in time linear in their length.
    func testHugeInputs() throws {
        let n = 200_000
        XCTAssertEqual(readError("a = " + String(repeating: "[", count: n))?.message, "nesting deeper than 128 levels")
        XCTAssertEqual(readError("a = " + String(repeating: "{a=", count: n))?.message, "nesting deeper than 128 levels")
        XCTAssertEqual(readError(String(repeating: "[", count: n))?.description, "1:3: expected a key in the table header, found '['")
        XCTAssertEqual(readError(String(repeating: "a.", count: n) + "a = 1")?.message, "nesting deeper than 128 levels")
        XCTAssertEqual(readError(String(repeating: "a", count: n))?.message, "expected '=' after the key \(String(repeating: "a", count: n)), found the end of the file")
        let longString = try TOMLDocument(parsing: "a = \"" + String(repeating: "é", count: n) + "\"")
        XCTAssertEqual(longString.root["a"]?.string?.count, n)
        let manyKeys = (0..<20_000).map { "k\($0) = [\($0), \"\($0)\"]" }.joined(separator: "\n")
        XCTAssertEqual(try TOMLDocument(parsing: manyKeys).root.entries.count, 20_000)
        let manyTables = (0..<10_000).map { "[[t]]\nv = \($0)" }.joined(separator: "\n")
        XCTAssertEqual(try TOMLDocument(parsing: manyTables).root["t"]?.array?.count, 10_000)
    }

    func testInvalidUTF8() {
        for byte in UInt8(0x80)...UInt8(0xFF) {
            XCTAssertEqual(readError(bytes: Array("k = 'ab".utf8) + [byte] + Array("'".utf8))?.description,
                           "1:8: invalid UTF-8 (byte 0x\(String(byte, radix: 16, uppercase: true)))")
        }
        // Overlong forms, surrogates, values past U+10FFFF, and sequences cut short by the end.
        for bytes: [UInt8] in [[0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xB0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF0, 0x9F, 0x98]] {
            XCTAssertEqual(readError(bytes: Array("# ".utf8) + bytes)?.position, TOMLPosition(line: 1, column: 3))
        }
        XCTAssertEqual(readError(bytes: Array("a = 1\nb = 'ü".utf8) + [0xFE])?.description, "2:7: invalid UTF-8 (byte 0xFE)")
    }
}
