import TOML
import XCTest

/// Lines and columns of keys, values and tables, 1-based, columns in Unicode scalars.
final class PositionTests: XCTestCase {
    private func root(_ text: String) throws -> TOMLTable {
        try TOMLDocument(parsing: text).root
    }

    func testKeysAndValuesInTheMiddleOfAFile() throws {
        let table = try root("""
            # header comment
            [train]
            epochs = 1
              batch   =   128   # indented
            [optimizer]
            name = "sgd"
            """)
        let batch = try XCTUnwrap(table.entry(at: ["train", "batch"]))
        XCTAssertEqual(batch.keyPosition, TOMLPosition(line: 4, column: 3))
        XCTAssertEqual(batch.node.position, TOMLPosition(line: 4, column: 15))
        XCTAssertEqual(table["optimizer"]?.position, TOMLPosition(line: 5, column: 1))
        XCTAssertEqual(table.entry("optimizer")?.keyPosition, TOMLPosition(line: 5, column: 2))
        XCTAssertEqual(table[path: ["optimizer", "name"]]?.position, TOMLPosition(line: 6, column: 8))
    }

    func testAfterMultiLineStrings() throws {
        let table = try root("a = \"\"\"\none\ntwo\"\"\"\nb = '''\nthree\n\n'''\n  c = \"\"\"x\\\n   y\"\"\"\nd = 1")
        XCTAssertEqual(table["a"]?.string, "one\ntwo")
        XCTAssertEqual(table.entry("b")?.keyPosition, TOMLPosition(line: 4, column: 1))
        XCTAssertEqual(table.entry("c")?.keyPosition, TOMLPosition(line: 8, column: 3))
        XCTAssertEqual(table["c"]?.string, "xy")
        XCTAssertEqual(table.entry("d")?.keyPosition, TOMLPosition(line: 10, column: 1))
        XCTAssertEqual(table["d"]?.position, TOMLPosition(line: 10, column: 5))
    }

    func testWithCRLF() throws {
        let table = try root("[a]\r\nx = \"\"\"\r\n1\r\n2\"\"\"\r\n\r\ny = [\r\n  3,\r\n  4 ]\r\n")
        XCTAssertEqual(table[path: ["a", "x"]]?.string, "1\n2")
        XCTAssertEqual(table.entry(at: ["a", "y"])?.keyPosition, TOMLPosition(line: 6, column: 1))
        XCTAssertEqual(table[path: ["a", "y"]]?.array?.map(\.position), [TOMLPosition(line: 7, column: 3), TOMLPosition(line: 8, column: 3)])
        XCTAssertEqual(readError("a = 1\r\nb = \"\r\n\"")?.description, "2:5: unterminated string")
    }

    func testColumnsCountScalarsAndTabs() throws {
        let table = try root("\"é✓\" = 1\t\n\"😀\".k = 'ü'")
        XCTAssertEqual(table["é✓"]?.position, TOMLPosition(line: 1, column: 8))
        XCTAssertEqual(table.entry(at: ["😀", "k"])?.keyPosition, TOMLPosition(line: 2, column: 5))
        XCTAssertEqual(table[path: ["😀", "k"]]?.position, TOMLPosition(line: 2, column: 9))
        XCTAssertEqual(readError("\ta = \"é\u{1}\"")?.description, "1:8: control character U+0001 is not allowed in a string")
    }

    func testTablesKeepWhereTheyAreDefined() throws {
        let table = try root("""
            a.b = 1
            [x.y.z]
            [x]
            [[l]]
            [[l]]
            n = {m = 2}
            """)
        // A table made by a dotted key is where the key names it.
        XCTAssertEqual(table["a"]?.position, TOMLPosition(line: 1, column: 1))
        // x was named on the way to [x.y.z], then defined by [x]: it moves to its header.
        XCTAssertEqual(table["x"]?.position, TOMLPosition(line: 3, column: 1))
        XCTAssertEqual(table.entry("x")?.keyPosition, TOMLPosition(line: 3, column: 2))
        // y stays where [x.y.z] named it.
        XCTAssertEqual(table[path: ["x", "y"]]?.position, TOMLPosition(line: 2, column: 1))
        XCTAssertEqual(table.entry(at: ["x", "y"])?.keyPosition, TOMLPosition(line: 2, column: 4))
        // An array of tables is at its first header, each element at its own.
        XCTAssertEqual(table["l"]?.position, TOMLPosition(line: 4, column: 1))
        XCTAssertEqual(table["l"]?.array?.map(\.position), [TOMLPosition(line: 4, column: 1), TOMLPosition(line: 5, column: 1)])
        XCTAssertEqual(table.entry("l")?.keyPosition, TOMLPosition(line: 4, column: 3))
        let element = try XCTUnwrap(table["l"]?.array?.last?.table)
        XCTAssertEqual(element["n"]?.position, TOMLPosition(line: 6, column: 5))
        XCTAssertEqual(element["n"]?.table?.entry("m")?.keyPosition, TOMLPosition(line: 6, column: 6))
        XCTAssertEqual(element["n"]?.table?["m"]?.position, TOMLPosition(line: 6, column: 10))
    }

    func testWalkGivesPathsAndPositions() throws {
        let items = try root("top = 1\n[s.\"t u\"]\nv = [1]\n[[w]]\nx = 2").walk()
        XCTAssertEqual(items.map(\.dottedKey), ["top", "s", "s.\"t u\"", "s.\"t u\".v", "w"])
        XCTAssertEqual(items.map(\.keyPosition.line), [1, 2, 2, 3, 4])
        XCTAssertEqual(items[3].path, ["s", "t u", "v"])
        XCTAssertEqual(items[3].node.array?.first?.position, TOMLPosition(line: 3, column: 6))
        XCTAssertEqual(items[4].node.array?.first?.table?.entry("x")?.keyPosition, TOMLPosition(line: 5, column: 1))
    }
}
