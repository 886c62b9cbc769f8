import TOML
import XCTest

/// Documents the reader rejects, each with its exact message and position (`line:column`).
final class InvalidDocumentTests: XCTestCase {
    private func check(_ cases: [(text: String, expected: String)], file: StaticString = #filePath, line: UInt = #line) {
        for (text, expected) in cases {
            let error = readError(text, file: file, line: line)
            XCTAssertEqual(error?.description, expected, "reading \(text.debugDescription)", file: file, line: line)
        }
    }

    /// Each of these makes TOMLKit 0.6.0 (toml++ 3.4.0) abort the process: a table header whose
    /// first key starts with a character that cannot start a key.
    func testHeadersThatAbortTOMLKit() {
        check([
            ("[.a]", "1:2: expected a key in the table header, found '.'"),
            ("[[.a]]", "1:3: expected a key in the table header, found '.'"),
            ("[ .a]", "1:3: expected a key in the table header, found '.'"),
            ("[=]", "1:2: expected a key in the table header, found '='"),
            ("[#]", "1:2: expected a key in the table header, found '#'"),
            ("[,]", "1:2: expected a key in the table header, found ','"),
            ("[!]", "1:2: expected a key in the table header, found '!'"),
            ("[{}]", "1:2: expected a key in the table header, found '{'"),
            ("[é]", "1:2: expected a key in the table header, found 'é'"),
            ("[\u{1}]", "1:2: expected a key in the table header, found U+0001"),
            ("[\nmodel]", "1:2: expected a key in the table header, found a newline"),
            ("[\r]", "1:2: a carriage return must be followed by a line feed"),
            ("[[[a]]]", "1:3: expected a key in the table header, found '['"),
            ("[[[a]", "1:3: expected a key in the table header, found '['"),
            ("[[[1]]]", "1:3: expected a key in the table header, found '['"),
            ("[[[]]", "1:3: expected a key in the table header, found '['"),
            ("[[=", "1:3: expected a key in the table header, found '='"),
            ("[[ =]]", "1:4: expected a key in the table header, found '='"),
            ("[model]\nname = \"x\"\n[.layers]", "3:2: expected a key in the table header, found '.'"),
        ])
    }

    /// These make TOMLKit 0.6.0 abort too: a `}` where an array element is expected, and a date
    /// followed by a space, a digit and the end of the value.
    func testValuesThatAbortTOMLKit() {
        check([
            ("a = [}]", "1:6: expected a value or ']' in the array, found '}'"),
            ("a = [ }", "1:7: expected a value or ']' in the array, found '}'"),
            ("a = [1,}]", "1:8: expected a value or ']' in the array, found '}'"),
            ("a = [{}, }]", "1:10: expected a value or ']' in the array, found '}'"),
            ("a = [\n}]", "2:1: expected a value or ']' in the array, found '}'"),
            ("a = [1, # comment\n}]", "2:1: expected a value or ']' in the array, found '}'"),
            ("layers = [\n  { type = \"relu\" },\n  },\n]", "3:3: expected a value or ']' in the array, found '}'"),
            ("a = 1979-05-27 0#", "1:5: dates and times are not supported (1979-05-27)"),
        ])
    }

    func testBrokenHeaders() {
        check([
            ("[model", "1:7: expected ']' to close the table header [model"),
            ("[model\nname = \"x\"", "1:7: expected ']' to close the table header [model"),
            ("[[model.layers]", "1:16: expected ']]' to close the array of tables header [[model.layers"),
            ("[[a] ]", "1:5: expected ']]' to close the array of tables header [[a"),
            ("[a]]", "1:4: expected a newline or a comment after the table header [a], found ']'"),
            ("[[a]]]", "1:6: expected a newline or a comment after the table header [[a]], found ']'"),
            ("[a]x", "1:4: expected a newline or a comment after the table header [a], found 'x'"),
            ("[a b]", "1:4: expected ']' to close the table header [a"),
            ("[ [a]]", "1:3: expected a key in the table header, found '['"),
            ("[]", "1:2: expected a key in the table header, found ']'"),
            ("[[]]", "1:3: expected a key in the table header, found ']'"),
            ("[a.]", "1:4: expected a key after '.', found ']'"),
            ("[a..b]", "1:4: expected a key after '.', found '.'"),
            ("[\"a\nb\"]", "1:2: unterminated string"),
            ("[\"\"\"a\"\"\"]", "1:2: a multi-line string cannot be a key"),
        ])
    }

    func testKeysAndLines() {
        check([
            ("a", "1:2: expected '=' after the key a, found the end of the file"),
            ("a b = 1", "1:3: expected '=' after the key a, found 'b'"),
            ("a = 1\nb\n", "2:2: expected '=' after the key b, found a newline"),
            ("[t]\nx.y : 1", "2:5: expected '=' after the key t.x.y, found ':'"),
            ("= 1", "1:1: expected a key or a table header, found '='"),
            (".a = 1", "1:1: expected a key or a table header, found '.'"),
            ("a. = 1", "1:4: expected a key after '.', found '='"),
            ("a..b = 1", "1:3: expected a key after '.', found '.'"),
            ("\"\"\"k\"\"\" = 1", "1:1: a multi-line string cannot be a key"),
            ("'''k''' = 1", "1:1: a multi-line string cannot be a key"),
            ("a = ", "1:5: expected a value for the key a, found the end of the file"),
            ("a =\nb = 1", "1:4: expected a value for the key a, found a newline"),
            ("a = # no value", "1:5: expected a value for the key a, found '#'"),
            ("a = 1 b = 2", "1:7: expected a newline or a comment after the value of a, found 'b'"),
            ("[t]\nx = 1 2", "2:7: expected a newline or a comment after the value of t.x, found '2'"),
            ("a = 1 'x'", "1:7: expected a newline or a comment after the value of a, found \"'\""),
            ("# comment \u{0}", "1:11: control character U+0000 is not allowed in a comment"),
            ("a = 1 # \u{7F}", "1:9: control character U+007F is not allowed in a comment"),
        ])
    }

    func testStrings() {
        check([
            ("a = \"abc", "1:5: unterminated string"),
            ("a = \"abc\nb = 1", "1:5: unterminated string"),
            ("a = \"abc\\", "1:5: unterminated string"),
            ("a = 'abc", "1:5: unterminated literal string"),
            ("a = 'abc\n'", "1:5: unterminated literal string"),
            ("a = \"\"\"abc", "1:5: unterminated multi-line string"),
            ("a = '''abc\n", "1:5: unterminated multi-line literal string"),
            (#"a = "\q""#, #"1:6: invalid escape \q in a string"#),
            (#"a = "\x41""#, #"1:6: invalid escape \x in a string"#),
            ("a = \"\\ \"", #"1:6: invalid escape \ followed by a space in a string"#),
            (#"a = "\u12""#, #"1:6: invalid escape \u12 in a string: \u takes 4 hex digits"#),
            (#"a = "\U0001F60""#, #"1:6: invalid escape \U0001F60 in a string: \U takes 8 hex digits"#),
            (#"a = "\uD800""#, #"1:6: invalid escape \uD800 in a string: not a Unicode scalar value"#),
            (#"a = "\U00110000""#, #"1:6: invalid escape \U00110000 in a string: not a Unicode scalar value"#),
            ("a = \"x\u{1}\"", "1:7: control character U+0001 is not allowed in a string"),
            ("a = 'x\u{7F}'", "1:7: control character U+007F is not allowed in a literal string"),
            ("a = \"\"\"\u{0}\"\"\"", "1:8: control character U+0000 is not allowed in a multi-line string"),
            ("a = '''\u{8}'''", "1:8: control character U+0008 is not allowed in a multi-line literal string"),
            ("a = \"\"\"a\"\"\"\"\"\"", "1:14: expected a newline or a comment after the value of a, found '\"'"),
        ])
    }

    func testNumbersAndBareValues() {
        check([
            ("a = 9223372036854775808", "1:5: integer 9223372036854775808 does not fit in 64 bits"),
            ("a = -9223372036854775809", "1:5: integer -9223372036854775809 does not fit in 64 bits"),
            ("a = 0x8000000000000000", "1:5: integer 0x8000000000000000 does not fit in 64 bits"),
            ("a = 99999999999999999999999", "1:5: integer 99999999999999999999999 does not fit in 64 bits"),
            ("a = 1e400", "1:5: float 1e400 does not fit in 64 bits"),
            ("a = -1.8e308", "1:5: float -1.8e308 does not fit in 64 bits"),
            ("a = 01", "1:5: invalid number 01: leading zeros are not allowed"),
            ("a = -00.5", "1:5: invalid number -00.5: leading zeros are not allowed"),
            ("a = 1__0", "1:5: invalid number 1__0: an underscore must stand between two digits"),
            ("a = 1_", "1:5: invalid number 1_: an underscore must stand between two digits"),
            ("a = 0x_1", "1:5: invalid number 0x_1: an underscore must stand between two digits"),
            ("a = 1_.5", "1:5: invalid number 1_.5: an underscore must stand between two digits"),
            ("a = _1", "1:5: invalid number _1"),
            ("a = +0x10", "1:5: invalid number +0x10: only decimal numbers can have a sign"),
            ("a = 0X10", "1:5: invalid number 0X10"),
            ("a = 0o", "1:5: invalid number 0o"),
            ("a = 0b102", "1:5: invalid number 0b102"),
            ("a = 1.", "1:5: invalid number 1."),
            ("a = .5", "1:5: invalid number .5"),
            ("a = 1e", "1:5: invalid number 1e"),
            ("a = 1.5.3", "1:5: invalid number 1.5.3"),
            ("a = 1.e5", "1:5: invalid number 1.e5"),
            ("a = +", "1:5: invalid number +"),
            ("a = True", "1:5: invalid value True: strings need quotes, booleans are true or false"),
            ("a = hello world", "1:5: invalid value hello: strings need quotes, booleans are true or false"),
            ("a = infinity", "1:5: invalid value infinity: strings need quotes, booleans are true or false"),
            ("a = 1979-05-27", "1:5: dates and times are not supported (1979-05-27)"),
            ("a = 1979-05-27T07:32:00Z", "1:5: dates and times are not supported (1979-05-27T07:32:00Z)"),
            ("a = 1979-05-27 07:32:00", "1:5: dates and times are not supported (1979-05-27)"),
            ("a = 07:32:00", "1:5: dates and times are not supported (07:32:00)"),
        ])
    }

    func testArraysAndInlineTables() {
        check([
            ("a = [1, 2", "1:5: unterminated array"),
            ("a = [\n1,\n2\n", "1:5: unterminated array"),
            ("a = [1 2]", "1:8: expected ',' or ']' after an array element, found '2'"),
            ("a = [1,,2]", "1:8: expected a value or ']' in the array, found ','"),
            ("a = [,]", "1:6: expected a value or ']' in the array, found ','"),
            ("a = {b = 1", "1:5: unterminated inline table"),
            ("a = {b = 1,}", "1:12: a trailing comma is not allowed in an inline table"),
            ("a = {b = 1\n}", "1:11: expected ',' or '}' in the inline table, found a newline (an inline table must be on one line)"),
            ("a = {b = 1 c = 2}", "1:12: expected ',' or '}' in the inline table, found 'c'"),
            ("a = {,}", "1:6: expected a key in the inline table, found ','"),
            ("a = {\n}", "1:6: expected a key in the inline table, found a newline"),
            ("a = {b = 1, b = 2}", "1:13: duplicate key a.b (first defined at line 1)"),
            ("a = {b = {c = 1}, b.d = 2}", "1:19: inline table a.b (line 1) cannot be extended"),
            ("a = [{b = 1, b = 2}]", "1:14: duplicate key a.b (first defined at line 1)"),
        ])
    }

    /// TOML 1.0's rules on defining a table or key twice and on extending finished values.
    func testRedefinitions() {
        check([
            ("[train]\nbatch = 1\n[train]", "3:1: table [train] defined twice (first at line 1)"),
            ("[x.y]\n[x]\n[x]", "3:1: table [x] defined twice (first at line 2)"),
            ("[a]\n[a.b]\n[a]", "3:1: table [a] defined twice (first at line 1)"),
            ("[train]\nepochs = 1\nbatch = 1\nbatch = 2", "4:1: duplicate key train.batch (first defined at line 3)"),
            ("a = 1\na = 2", "2:1: duplicate key a (first defined at line 1)"),
            ("a = 1\n\"a\" = 2", "2:1: duplicate key a (first defined at line 1)"),
            ("[a]\nb = 1\n[a.b]", "3:4: duplicate key a.b (first defined at line 2)"),
            ("[a.b]\n[a]\nb = 1", "3:1: duplicate key a.b (first defined at line 1)"),
            ("a = {}\n[a]", "2:2: duplicate key a (first defined at line 1)"),
            ("a = 1\n[[a]]", "2:3: duplicate key a (first defined at line 1)"),
            ("a.b = 1\n[a]", "2:1: table [a] was already defined by dotted keys at line 1"),
            ("a.b.c = 1\n[a.b]", "2:1: table [a.b] was already defined by dotted keys at line 1"),
            ("[fruit]\napple.color = \"red\"\n[fruit.apple]", "3:1: table [fruit.apple] was already defined by dotted keys at line 2"),
            ("a = {x = 1}\n[a.b]", "2:2: inline table a (line 1) cannot be extended"),
            ("a = {x = 1}\na.y = 2", "2:1: inline table a (line 1) cannot be extended"),
            ("[t]\na = {x = 1}\n[t.a.b]", "3:4: inline table t.a (line 2) cannot be extended"),
            ("a = [1]\n[[a]]", "2:1: [[a]] cannot append to a: it is a static array (line 1), not an array of tables"),
            ("a = []\n[[a]]", "2:1: [[a]] cannot append to a: it is a static array (line 1), not an array of tables"),
            ("a = {x = 1}\n[[a]]", "2:1: [[a]] cannot append to a: it is an inline table (line 1), not an array of tables"),
            ("[a]\n[[a]]", "2:1: [[a]] cannot append to a: it is a table (line 1), not an array of tables"),
            ("[[a]]\n[a]", "2:1: [a] cannot define a table: a is an array of tables (line 1); [[a]] adds an element"),
            ("a = 1\na.b = 2", "2:1: key a is an integer (line 1), not a table"),
            ("a = \"x\"\n[a.b]", "2:2: key a is a string (line 1), not a table"),
            ("a = [1]\n[a.b]", "2:2: key a is an array (line 1), not a table"),
            ("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", "4:3: dotted keys cannot add to the table a.b.c defined at line 1"),
            ("[[a.b]]\n[a]\nb.x = 1", "3:1: dotted keys cannot add to the array of tables a.b defined at line 1"),
        ])
    }

    func testBytesAndLineEndings() {
        XCTAssertEqual(readError(bytes: Array("a = \"".utf8) + [0xFF, 0x22])?.description, "1:6: invalid UTF-8 (byte 0xFF)")
        XCTAssertEqual(readError(bytes: [0x61, 0x3D, 0xC3])?.description, "1:3: invalid UTF-8 (byte 0xC3)")
        XCTAssertEqual(readError(bytes: Array("a = 1\n# ".utf8) + [0xE2, 0x82])?.description, "2:3: invalid UTF-8 (bytes 0xE2 0x82)")
        XCTAssertEqual(readError(bytes: Array("a = \"é".utf8) + [0xC0, 0xAF])?.description, "1:7: invalid UTF-8 (byte 0xC0)")
        XCTAssertEqual(readError(bytes: Array("a = \"".utf8) + [0xED, 0xA0, 0x80])?.description, "1:6: invalid UTF-8 (byte 0xED)")
        XCTAssertEqual(readError("a = 1\rb = 2")?.description, "1:6: a carriage return must be followed by a line feed")
        XCTAssertEqual(readError("a = 1\r")?.description, "1:6: a carriage return must be followed by a line feed")
        XCTAssertEqual(readError("a = \"x\r\"")?.description, "1:7: a carriage return must be followed by a line feed")
    }
}
