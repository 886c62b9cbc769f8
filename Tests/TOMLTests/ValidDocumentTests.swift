import TOML
import XCTest

/// Documents TOML 1.0 accepts, most from the examples of the specification, with the values
/// they must read as (see `render` for the notation).
final class ValidDocumentTests: XCTestCase {
    private func check(_ cases: [(text: String, expected: String)], file: StaticString = #filePath, line: UInt = #line) {
        for (text, expected) in cases {
            XCTAssertEqual(renderDocument(text), expected, "reading \(text.debugDescription)", file: file, line: line)
        }
    }

    func testCommentsAndBlankDocuments() {
        check([
            ("", "{}"),
            ("\n\n   \n\t\n", "{}"),
            ("# only a comment", "{}"),
            ("# This is a full-line comment\nkey = \"value\"  # a comment at the end of a line\nanother = \"# This is not a comment\"",
             ##"{key = "value", another = "# This is not a comment"}"##),
            ("a = 1 # comment with é and \u{80} and a\ttab", "{a = 1}"),
        ])
    }

    func testKeys() {
        check([
            ("key = \"value\"\nbare_key = \"value\"\nbare-key = \"value\"\n1234 = \"value\"",
             #"{key = "value", bare_key = "value", bare-key = "value", 1234 = "value"}"#),
            ("\"127.0.0.1\" = \"value\"\n\"character encoding\" = \"value\"\n\"ʎǝʞ\" = \"value\"\n'key2' = \"value\"\n'quoted \"value\"' = \"value\"",
             #"{"127.0.0.1" = "value", "character encoding" = "value", "ʎǝʞ" = "value", key2 = "value", "quoted \"value\"" = "value"}"#),
            ("\"\" = \"blank\"", #"{"" = "blank"}"#),
            ("'' = 'blank'", #"{"" = "blank"}"#),
            ("name = \"Orange\"\nphysical.color = \"orange\"\nphysical.shape = \"round\"\nsite.\"google.com\" = true",
             #"{name = "Orange", physical = {color = "orange", shape = "round"}, site = {"google.com" = true}}"#),
            ("fruit.name = \"banana\"\nfruit. color = \"yellow\"\nfruit . flavor = \"banana\"",
             #"{fruit = {name = "banana", color = "yellow", flavor = "banana"}}"#),
            ("apple.type = \"fruit\"\norange.type = \"fruit\"\napple.skin = \"thin\"\norange.skin = \"thick\"",
             #"{apple = {type = "fruit", skin = "thin"}, orange = {type = "fruit", skin = "thick"}}"#),
            ("3.14159 = \"pi\"", #"{3 = {14159 = "pi"}}"#),
            ("\"a\\u0041\\tb\" = 1", #"{"aA\tb" = 1}"#),
            ("-1 = true\ntrue = false\ninf = 1", "{-1 = true, true = false, inf = 1}"),
        ])
    }

    func testBasicStrings() {
        check([
            (#"str = "I'm a string. \"You can quote me\". Name\tJos\u00E9\nLocation\tSF.""#,
             #"{str = "I'm a string. \"You can quote me\". Name\tJosé\nLocation\tSF."}"#),
            (#"a = "\b\t\n\f\r\"\\\u00e9\U0001F600""#, "{a = \"\\u{8}\\t\\n\\u{c}\\u{d}\\\"\\\\é😀\"}"),
            ("a = \"tab\tinside\"", #"{a = "tab\tinside"}"#),
            ("a = \"\"", #"{a = ""}"#),
        ])
    }

    func testMultiLineBasicStrings() {
        check([
            ("str1 = \"\"\"\nRoses are red\nViolets are blue\"\"\"", #"{str1 = "Roses are red\nViolets are blue"}"#),
            ("str2 = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\\n    the lazy dog.\"\"\"",
             #"{str2 = "The quick brown fox jumps over the lazy dog."}"#),
            ("str3 = \"\"\"\\\n       The quick brown \\\n       fox jumps over \\\n       the lazy dog.\\\n       \"\"\"",
             #"{str3 = "The quick brown fox jumps over the lazy dog."}"#),
            ("str4 = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"",
             #"{str4 = "Here are two quotation marks: \"\". Simple enough."}"#),
            ("str5 = \"\"\"Here are three quotation marks: \"\"\\\".\"\"\"",
             #"{str5 = "Here are three quotation marks: \"\"\"."}"#),
            ("str7 = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"",
             #"{str7 = "\"This,\" she said, \"is just a pointless statement.\""}"#),
            ("a = \"\"\"x\"\"\"\"\"", #"{a = "x\"\""}"#),
            ("a = \"\"\"\"\"\"", #"{a = ""}"#),
            ("a = \"\"\"trailing \\   \n  b\"\"\"", #"{a = "trailing b"}"#),
            ("a = \"\"\"\r\nCRLF\r\nlines\"\"\"", #"{a = "CRLF\nlines"}"#),
        ])
    }

    func testLiteralStrings() {
        check([
            (#"winpath = 'C:\Users\nodejs\templates'"#, #"{winpath = "C:\\Users\\nodejs\\templates"}"#),
            (#"quoted = 'Tom "Dubs" Preston-Werner'"#, #"{quoted = "Tom \"Dubs\" Preston-Werner"}"#),
            (#"regex = '<\i\c*\s*>'"#, #"{regex = "<\\i\\c*\\s*>"}"#),
            (#"regex2 = '''I [dw]on't need \d{2} apples'''"#, #"{regex2 = "I [dw]on't need \\d{2} apples"}"#),
            ("lines = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''",
             #"{lines = "The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n"}"#),
            (#"quot15 = '''Here are fifteen quotation marks: """""""""""""""'''"#,
             #"{quot15 = "Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\""}"#),
            (#"apos15 = "Here are fifteen apostrophes: '''''''''''''''""#,
             #"{apos15 = "Here are fifteen apostrophes: '''''''''''''''"}"#),
            (#"str = ''''That,' she said, 'is still pointless.''''"#, #"{str = "'That,' she said, 'is still pointless.'"}"#),
        ])
    }

    func testIntegers() {
        check([
            ("int1 = +99\nint2 = 42\nint3 = 0\nint4 = -17", "{int1 = 99, int2 = 42, int3 = 0, int4 = -17}"),
            ("int5 = 1_000\nint6 = 5_349_221\nint7 = 53_49_221\nint8 = 1_2_3_4_5",
             "{int5 = 1000, int6 = 5349221, int7 = 5349221, int8 = 12345}"),
            ("a = +0\nb = -0", "{a = 0, b = 0}"),
            ("hex1 = 0xDEADBEEF\nhex2 = 0xdeadbeef\nhex3 = 0xdead_beef", "{hex1 = 3735928559, hex2 = 3735928559, hex3 = 3735928559}"),
            ("oct1 = 0o01234567\noct2 = 0o755\nbin1 = 0b11010110", "{oct1 = 342391, oct2 = 493, bin1 = 214}"),
            ("max = 9223372036854775807\nmin = -9223372036854775808", "{max = 9223372036854775807, min = -9223372036854775808}"),
            ("hex = 0x7FFFFFFFFFFFFFFF\noct = 0o777777777777777777777\nbin = 0b" + String(repeating: "1", count: 63),
             "{hex = 9223372036854775807, oct = 9223372036854775807, bin = 9223372036854775807}"),
            ("zeros = 0x0000_0000_0000_0000_0001", "{zeros = 1}"),
        ])
    }

    func testFloats() {
        check([
            ("flt1 = +1.0\nflt2 = 3.1415\nflt3 = -0.01", "{flt1 = 1.0, flt2 = 3.1415, flt3 = -0.01}"),
            ("flt4 = 5e+22\nflt5 = 1e06\nflt6 = -2E-2", "{flt4 = 5e+22, flt5 = 1000000.0, flt6 = -0.02}"),
            ("flt7 = 6.626e-34\nflt8 = 224_617.445_991_228", "{flt7 = 6.626e-34, flt8 = 224617.445991228}"),
            ("sf1 = inf\nsf2 = +inf\nsf3 = -inf", "{sf1 = inf, sf2 = inf, sf3 = -inf}"),
            ("sf4 = nan\nsf5 = +nan\nsf6 = -nan", "{sf4 = nan, sf5 = nan, sf6 = -nan}"),
            ("a = 0.0\nb = -0.0\nc = 0e0\nd = 1e-400", "{a = 0.0, b = -0.0, c = 0.0, d = 0.0}"),
            ("a = 1.7976931348623157e308", "{a = 1.7976931348623157e+308}"),
        ])
    }

    func testBooleansAndArrays() {
        check([
            ("bool1 = true\nbool2 = false", "{bool1 = true, bool2 = false}"),
            ("integers = [ 1, 2, 3 ]\ncolors = [ \"red\", \"yellow\", \"green\" ]",
             #"{integers = [1, 2, 3], colors = ["red", "yellow", "green"]}"#),
            ("nested_arrays_of_ints = [ [ 1, 2 ], [3, 4, 5] ]\nnested_mixed_array = [ [ 1, 2 ], [\"a\", \"b\", \"c\"] ]",
             #"{nested_arrays_of_ints = [[1, 2], [3, 4, 5]], nested_mixed_array = [[1, 2], ["a", "b", "c"]]}"#),
            ("string_array = [ \"all\", 'strings', \"\"\"are the same\"\"\", '''type''' ]",
             #"{string_array = ["all", "strings", "are the same", "type"]}"#),
            ("numbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]", "{numbers = [0.1, 0.2, 0.5, 1, 2, 5]}"),
            ("contributors = [\n  \"Foo Bar <foo@example.com>\",\n  { name = \"Baz Qux\", email = \"bazqux@example.com\" }\n]",
             #"{contributors = ["Foo Bar <foo@example.com>", {name = "Baz Qux", email = "bazqux@example.com"}]}"#),
            ("integers2 = [\n  1, 2, 3\n]\nintegers3 = [\n  1,\n  2, # this is ok\n]", "{integers2 = [1, 2, 3], integers3 = [1, 2]}"),
            ("empty = []\nblank = [ # comment\n\n]", "{empty = [], blank = []}"),
        ])
    }

    func testTables() {
        check([
            ("[table-1]\nkey1 = \"some string\"\nkey2 = 123\n\n[table-2]\nkey1 = \"another string\"\nkey2 = 456",
             #"{table-1 = {key1 = "some string", key2 = 123}, table-2 = {key1 = "another string", key2 = 456}}"#),
            ("[dog.\"tater.man\"]\ntype.name = \"pug\"", #"{dog = {"tater.man" = {type = {name = "pug"}}}}"#),
            ("[a.b.c]\n[ d.e.f ]\n[ g .  h  . i ]\n[ j . \"ʞ\" . 'l' ]",
             #"{a = {b = {c = {}}}, d = {e = {f = {}}}, g = {h = {i = {}}}, j = {"ʞ" = {l = {}}}}"#),
            ("[x.y.z.w]\n[x]", "{x = {y = {z = {w = {}}}}}"),
            ("name = \"Fido\"\nbreed = \"pug\"\n\n[owner]\nname = \"Regina Dogman\"",
             #"{name = "Fido", breed = "pug", owner = {name = "Regina Dogman"}}"#),
            ("[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true",
             #"{fruit = {apple = {color = "red", taste = {sweet = true}, texture = {smooth = true}}}}"#),
            ("[a.b.c]\nz = 9\n[a]\nb.d = 1", "{a = {b = {c = {z = 9}, d = 1}}}"),
            ("[a] # header comment\n[b]\t\n", "{a = {}, b = {}}"),
        ])
    }

    func testInlineTables() {
        check([
            ("name = { first = \"Tom\", last = \"Preston-Werner\" }\npoint = { x = 1, y = 2 }\nanimal = { type.name = \"pug\" }",
             #"{name = {first = "Tom", last = "Preston-Werner"}, point = {x = 1, y = 2}, animal = {type = {name = "pug"}}}"#),
            ("a = {}\nb = {c = {d = [1, {e = 2}]}}", "{a = {}, b = {c = {d = [1, {e = 2}]}}}"),
            ("a = { b.c = 1, b.d = 2 }", "{a = {b = {c = 1, d = 2}}}"),
        ])
    }

    func testArraysOfTables() {
        check([
            ("[[products]]\nname = \"Hammer\"\nsku = 738594937\n\n[[products]]  # empty table within the array\n\n[[products]]\nname = \"Nail\"\nsku = 284758393\n\ncolor = \"gray\"",
             #"{products = [{name = "Hammer", sku = 738594937}, {}, {name = "Nail", sku = 284758393, color = "gray"}]}"#),
            ("""
            [[fruits]]
            name = "apple"

            [fruits.physical]  # subtable
            color = "red"
            shape = "round"

            [[fruits.varieties]]  # nested array of tables
            name = "red delicious"

            [[fruits.varieties]]
            name = "granny smith"

            [[fruits]]
            name = "banana"

            [[fruits.varieties]]
            name = "plantain"
            """,
             #"{fruits = [{name = "apple", physical = {color = "red", shape = "round"}, varieties = [{name = "red delicious"}, {name = "granny smith"}]}, {name = "banana", varieties = [{name = "plantain"}]}]}"#),
            ("points = [ { x = 1, y = 2, z = 3 },\n           { x = 7, y = 8, z = 9 } ]",
             "{points = [{x = 1, y = 2, z = 3}, {x = 7, y = 8, z = 9}]}"),
            ("[[a.b]]\nx = 1\n[a]\ny = 2", "{a = {b = [{x = 1}], y = 2}}"),
        ])
    }

    func testLineEndingsAndByteOrderMark() {
        check([
            ("[a]\r\nb = 1\r\nc = [\r\n  2,\r\n]\r\n# end\r\n", "{a = {b = 1, c = [2]}}"),
            ("\u{FEFF}a = 1", "{a = 1}"),
        ])
    }
}
