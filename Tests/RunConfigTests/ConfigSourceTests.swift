import RunConfig
import XCTest

/// Where messages point: the file and line of the key (`c.toml:12:`), the `--set` that gave the
/// value, the file alone for a key left at its default; `file:line:column` for TOML syntax
/// errors, the inputs that aborted the process under TOMLKit among them; and how `--set` values
/// are read.
final class ConfigSourceTests: XCTestCase {
    /// A valid config, one key per line: the line numbers below are these.
    private let config = """
    [model]
    input = [1, 4, 4]
    layers = [
      { type = "flatten" },
      { type = "linear", in = 16, out = 3 },
    ]
    [data]
    dataset = "synthetic"
    classes = 3
    [train]
    batch = 8
    steps = 4
    [optimizer]
    lr = 0.1
    momentum = 0.5
    """

    private func message(_ text: String, _ overrides: [String] = []) -> String? {
        switch Result(catching: { () throws(ConfigError) in try TrainingConfig(Config.parse(text, source: "c.toml", overrides: overrides)) }) {
        case .success: nil
        case let .failure(error): error.description
        }
    }

    private func expect(_ text: String, _ overrides: [String], _ expected: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(message(text, overrides), expected, file: file, line: line)
    }

    private func expect(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        expect(text, [], expected, file: file, line: line)
    }

    private func replacing(_ old: String, _ new: String) -> String {
        precondition(config.contains(old), old)
        return config.replacingOccurrences(of: old, with: new)
    }

    func testTheConfigIsValid() throws {
        XCTAssertNil(message(config))
        let c = try Config.parse(config, source: "c.toml", overrides: ["train.steps=6"])
        XCTAssertEqual(c.origins["train.batch"], .file("c.toml", line: 11))
        XCTAssertEqual(c.origins["train.steps"], .override("train.steps=6", index: 0))
        XCTAssertNil(c.origins["train.epochs"], "a default has no origin")
        XCTAssertEqual(c.origin(of: "train.epochs").description, "c.toml")
        XCTAssertEqual(c.origin(of: "train.batch", "train.steps").description, "--set train.steps=6", "an override comes first")
        XCTAssertEqual(c.origin(of: "train.epochs", "optimizer.momentum", "train.batch").description, "c.toml:15",
                       "else the first key given in the file")
    }

    func testFileErrorsNameTheKeysLine() {
        expect(replacing("batch = 8", "batch = 0"), "c.toml:11: train.batch must be positive, got 0")
        expect(replacing("batch = 8", "bacth = 8"), "c.toml:11: unknown key train.bacth (did you mean train.batch?)")
        expect(replacing("lr = 0.1", "lr = \"fast\""), "c.toml:14: optimizer.lr must be a number, got a string (\"fast\")")
        expect(replacing("steps = 4", "steps = 4.5"), "c.toml:12: train.steps must be an integer, got a float (4.5)")
        expect(replacing("[optimizer]", "[optimiser]"), "c.toml:14: unknown key optimiser.lr (did you mean optimizer.lr?)")
        expect(config + "\n[trian]\n", "c.toml:16: unknown key trian")
        expect("\"train.batch\" = 3\n" + config, "c.toml:1: unknown key \"train.batch\" (did you mean train.batch?)")
        expect(replacing("[train]", "[train.batch]"), "c.toml:10: train.batch must be an integer, got a table")
        expect(replacing("classes = 3", "classes = 4"), "c.toml:9: the model ends in 3 scores but the data has 4 classes")
    }

    func testOverrideErrorsNameTheSet() {
        expect(config, ["train.batch=0"], "--set train.batch=0: train.batch must be positive, got 0")
        expect(config, ["train.batch=abc"], "--set train.batch=abc: train.batch must be an integer, got a string (\"abc\")")
        expect(config, ["optimizer.momentun=0.5"], "--set optimizer.momentun=0.5: unknown key optimizer.momentun (did you mean optimizer.momentum?)")
        expect(config, ["train.batch"], "--set train.batch: expected key=value")
        expect(config, ["=3"], "--set =3: expected key=value")
        // Found by fuzzing (Fuzz/Regressions/config/set-combining-mark): a --set that is a lone
        // combining mark, which the target's own check once misread.
        expect(config, ["\u{0340}"], "--set \u{0340}: expected key=value")
        expect(config, ["train.batch=1\ntrain.steps=2"], "--set train.batch=1\ntrain.steps=2: the value must be one TOML value")
        expect(config, ["train.batch=1 2"],
               "--set train.batch=1 2: expected a newline or a comment after the value of train.batch, found '2' (at column 3 of the value)")
        expect(config, ["model.name=\"tiny"], "--set model.name=\"tiny: unterminated string (at column 1 of the value)")
        expect(config, ["model.layers=[\n{type = \"flatten\"},\n}]"],
               "--set model.layers=[\n{type = \"flatten\"},\n}]: expected a value or ']' in the array, found '}' (at line 3, column 1 of the value)")
        // The later of two overrides of one key wins, and is the one named.
        expect(config, ["train.batch=0", "train.batch=-1"], "--set train.batch=-1: train.batch must be positive, got -1")
    }

    func testOverrideValuesAreTOMLOrBareStrings() throws {
        let c = try Config.parse(config, source: "c.toml", overrides: [
            "data.path=/data/fashion mnist", "checkpoint.dir=runs/ckpt-1.5", "model.name=\"quoted\"", "optimizer.name=adamw",
            "model.input=[1, 16, 1]", "train.shuffle=false", "optimizer.lr=1", "comm.bucket_mb=0x10",
        ])
        XCTAssertEqual(c["data.path"], .string("/data/fashion mnist"))
        XCTAssertEqual(c["checkpoint.dir"], .string("runs/ckpt-1.5"))
        XCTAssertEqual(c["model.name"], .string("quoted"))
        XCTAssertEqual(c["optimizer.name"], .string("adamw"))
        XCTAssertEqual(c["model.input"], .ints([1, 16, 1]))
        XCTAssertEqual(c["train.shuffle"], .bool(false))
        XCTAssertEqual(c["optimizer.lr"], .double(1))
        XCTAssertEqual(c["comm.bucket_mb"], .double(16))
        let layers = try Config.parse(config, source: "c.toml", overrides: [#"model.layers=[{type="flatten"},{type="linear",in=16,out=3}]"#])
        XCTAssertEqual(layers, try Config.parse(config, source: "c.toml"))
    }

    /// Inputs that made TOMLKit's toml++ abort the process are syntax errors at their line and
    /// column, from the file and through --set alike.
    func testInputsThatAbortedTOMLKit() {
        expect("[.a]\n", "c.toml:1:2: expected a key in the table header, found '.'")
        expect("[[.a]]\n", "c.toml:1:3: expected a key in the table header, found '.'")
        expect(config + "\n[=]\n", "c.toml:16:2: expected a key in the table header, found '='")
        expect("a = [}]\n", "c.toml:1:6: expected a value or ']' in the array, found '}'")
        expect(replacing("input = [1, 4, 4]", "input = [1, 4,}"), "c.toml:2:15: expected a value or ']' in the array, found '}'")
        expect(replacing("  { type = \"flatten\" },", "  },"), "c.toml:4:3: expected a value or ']' in the array, found '}'")
        expect("a = 1979-05-27 0#\n", "c.toml:1:5: dates and times are not supported (1979-05-27)")
        expect(config, ["model.input=[}]"], "--set model.input=[}]: expected a value or ']' in the array, found '}' (at column 2 of the value)")
        expect(config, ["model.layers=[{type=\"relu\"},}]"],
               "--set model.layers=[{type=\"relu\"},}]: expected a value or ']' in the array, found '}' (at column 16 of the value)")
        // A string key takes what is not TOML as it is.
        XCTAssertNil(message(config, ["model.name=[.a]"]))
    }

    func testOtherSyntaxErrorsKeepLineAndColumn() {
        expect(replacing("[train]", "[train"), "c.toml:10:7: expected ']' to close the table header [train")
        expect(replacing("batch = 8", "batch = 8\nbatch = 9"), "c.toml:12:1: duplicate key train.batch (first defined at line 11)")
        expect(replacing("steps = 4", "steps = 9223372036854775808"), "c.toml:12:9: integer 9223372036854775808 does not fit in 64 bits")
        expect(replacing("lr = 0.1", "lr = 1e400"), "c.toml:14:6: float 1e400 does not fit in 64 bits")
        XCTAssertEqual(errorText { () throws(ConfigError) in try Config.parse(bytes: Array(config.utf8) + [0xFF], source: "c.toml") },
                       "c.toml:15:15: invalid UTF-8 (byte 0xFF)")
    }

    func testTheFileMustBeARegularFileOfAReasonableSize() throws {
        let dir = NSTemporaryDirectory() + "lockstep-config-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(errorText { () throws(ConfigError) in try Config.load(path: dir + "/nope.toml") }, "\(dir)/nope.toml: no such file")
        XCTAssertEqual(errorText { () throws(ConfigError) in try Config.load(path: dir) }, "\(dir): cannot read it: not a regular file")
        XCTAssertEqual(errorText { () throws(ConfigError) in try Config.load(path: "/dev/zero") }, "/dev/zero: cannot read it: not a regular file")
        let big = dir + "/big.toml"
        try Data(repeating: UInt8(ascii: "#"), count: Config.maximumFileBytes + 1).write(to: URL(fileURLWithPath: big))
        XCTAssertEqual(errorText { () throws(ConfigError) in try Config.load(path: big) }, "\(big): 1048577 bytes is too large for a config (at most 1048576)")
    }

    private func errorText(_ body: () throws(ConfigError) -> Config) -> String? {
        switch Result(catching: body) {
        case .success: nil
        case let .failure(error): error.description
        }
    }
}
