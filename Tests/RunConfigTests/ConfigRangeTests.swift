import RunConfig
import XCTest

/// Every key's range, with the exact message: integers within `ConfigLimits` (so that nothing
/// computed from them overflows), floats finite and within theirs, a float where an integer is
/// needed and an integer beyond 64 bits each said as such.
final class ConfigRangeTests: XCTestCase {
    private let config = minimalConfig + "\n[train]\nsteps = 4\nbatch = 8\n"

    private func message(_ text: String, _ overrides: [String]) -> String? {
        switch Result(catching: { () throws(ConfigError) in try TrainingConfig(Config.parse(text, source: "c.toml", overrides: overrides)) }) {
        case .success: nil
        case let .failure(error): error.description
        }
    }

    /// `--set key=value` gives "--set key=value: key <expected>".
    private func expect(_ setting: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let key = setting.prefix { $0 != "=" }
        XCTAssertEqual(message(config, [setting]), "--set \(setting): \(key) \(expected)", file: file, line: line)
    }

    /// The five inputs that trapped or overflowed before, as a user would give them.
    func testFormerTraps() {
        expect("train.steps=9223372036854775807", "must be at most 1099511627776, got 9223372036854775807")
        expect("train.steps=4611686018427387904", "must be at most 1099511627776, got 4611686018427387904")
        expect("train.steps=1e12", "must be an integer, got a float (1000000000000.0)")
        expect("train.batch=100000000", "must be at most 1048576, got 100000000")
        expect("comm.bucket_mb=1e30", "must be at most 4096, got 1e+30")
        XCTAssertEqual(message(config, ["train.steps=9223372036854775808"]),
                       "--set train.steps=9223372036854775808: integer 9223372036854775808 does not fit in 64 bits (at column 1 of the value)")
        XCTAssertEqual(message(config.replacingOccurrences(of: "steps = 4", with: "steps = 4611686018427387904"), []),
                       "c.toml:8: train.steps must be at most 1099511627776, got 4611686018427387904")
        XCTAssertEqual(message(config.replacingOccurrences(of: "steps = 4", with: "steps = 1e12"), []),
                       "c.toml:8: train.steps must be an integer, got a float (1000000000000.0)")
    }

    func testIntegerLimits() {
        for key in ["train.steps", "train.log_every", "train.eval_every", "schedule.warmup_steps", "schedule.step_every",
                    "schedule.base_batch", "checkpoint.every_steps", "data.val_windows"] {
            expect("\(key)=1099511627777", "must be at most 1099511627776, got 1099511627777")
            XCTAssertNil(message(config, ["\(key)=1099511627776"]), key)
        }
        expect("train.epochs=1048577", "must be at most 1048576, got 1048577")
        expect("train.batch=1048577", "must be at most 1048576, got 1048577")
        expect("train.chunk=1048577", "must be at most 1048576, got 1048577")
        expect("train.accumulate=65537", "must be at most 65536, got 65537")
        expect("data.train_count=2147483649", "must be at most 2147483648, got 2147483649")
        expect("data.test_count=2147483649", "must be at most 2147483648, got 2147483649")
        expect("data.classes=1048577", "must be at most 1048576, got 1048577")
        expect("data.noise=256", "must be at most 255, got 256")
        expect("model.vocab=2147483649", "must be at most 2147483648, got 2147483649")
        expect("model.context=1048577", "must be at most 1048576, got 1048577")
        expect("model.heads=65537", "must be at most 65536, got 65537")
        expect("model.embed=1048577", "must be at most 1048576, got 1048577")
        expect("model.layers=65537", "must be at most 65536, got 65537")
        expect("comm.ranks_per_node=1048577", "must be at most 1048576, got 1048577")
        expect("comm.poll_us=1000001", "must be at most 1000000, got 1000001")
        expect("checkpoint.keep=1048577", "must be at most 1048576, got 1048577")
        // Seeds take any non-negative integer.
        XCTAssertNil(message(config, ["train.seed=9223372036854775807", "data.seed=9223372036854775807"]))
        expect("train.seed=-1", "must not be negative, got -1")
        expect("train.steps=-9223372036854775808", "must not be negative, got -9223372036854775808")
    }

    func testInputShapeAndLayerLimits() {
        expect("model.input=[1, 1048577, 1]", "must list dimensions of at most 1048576, got 1048577")
        expect("model.input=[1048576, 1048576, 1048576]", "[1048576, 1048576, 1048576] is more than 2147483648 values per sample")
        expect("model.input=[2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]",
               "[2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2] is more than 2147483648 values per sample")
        let layers = { (second: String) in
            self.config.replacingOccurrences(of: #"{ type = "linear", in = 16, out = 3 }"#, with: second)
        }
        XCTAssertEqual(message(layers(#"{ type = "linear", in = 16, out = 16777217 }"#), []),
                       "c.toml:3: model.layers[2].out must be at most 16777216, got 16777217")
        XCTAssertEqual(message(layers(#"{ type = "linear", in = 9223372036854775807, out = 3 }"#), []),
                       "c.toml:3: model.layers[2].in must be at most 16777216, got 9223372036854775807")
        XCTAssertEqual(message(layers(#"{ type = "maxpool2d", kernel = 65537 }"#), []),
                       "c.toml:3: model.layers[2].kernel must be at most 65536, got 65537")
        XCTAssertEqual(message(layers(#"{ type = "linear", in = -16, out = 3 }"#), []),
                       "c.toml:3: model.layers: layer 2 (fc1, linear): in and out must be positive, got in = -16, out = 3")
        // A conv whose output per sample is beyond 2^31 values, though each key is within its limit.
        let conv = config.replacingOccurrences(of: "input = [1, 4, 4]", with: "input = [1, 1048576, 1024]")
            .replacingOccurrences(of: #"layers = [{ type = "flatten" }, { type = "linear", in = 16, out = 3 }]"#,
                                  with: "layers = [\n  { type = \"conv2d\", in = 1, out = 64, kernel = 1 },\n  { type = \"flatten\" },\n]")
        XCTAssertEqual(message(conv, []),
                       "c.toml:4: model.layers: layer 1 (conv1, conv2d): its output 64×1048576×1024 is more than 2147483648 values per sample")
    }

    func testFloatsAreFiniteAndWithinRange() {
        for key in ["optimizer.lr", "optimizer.momentum", "optimizer.weight_decay", "optimizer.eps", "optimizer.clip_norm",
                    "optimizer.beta1", "optimizer.beta2", "schedule.gamma", "schedule.min_lr", "comm.bucket_mb", "comm.timeout_s",
                    "data.val_fraction", "train.target_accuracy"] {
            expect("\(key)=inf", "must be a finite number, got inf")
            expect("\(key)=-inf", "must be a finite number, got -inf")
            expect("\(key)=nan", "must be a finite number, got nan")
        }
        expect("comm.bucket_mb=4097", "must be at most 4096, got 4097")
        XCTAssertNil(message(config, ["comm.bucket_mb=4096"]))
        expect("comm.timeout_s=1e7", "must be at most 1000000, got 10000000.0")
        expect("optimizer.lr=0", "must be positive, got 0")
        expect("optimizer.momentum=-0.5", "must not be negative, got -0.5")
        expect("data.val_fraction=1.5", "must be between 0 and 1.0, got 1.5")
        XCTAssertEqual(message(config, ["optimizer.beta2=1"]), "--set optimizer.beta2=1: optimizer.beta2 must be below 1, got 1.0")
    }

    func testTypes() {
        expect("train.batch=8.0", "must be an integer, got a float (8.0)")
        expect("train.batch=true", "must be an integer, got a boolean (true)")
        expect("train.batch=[8]", "must be an integer, got an array of integers ([8])")
        expect("train.batch={a = 1}", "must be an integer, got a table")
        expect("optimizer.lr=\"0.1\"", "must be a number, got a string (\"0.1\")")
        expect("train.shuffle=1", "must be true or false, got an integer (1)")
        expect("model.input=[1, 4.0, 4]", "must be an array of integers or of tables")
        expect("model.layers=[1, {type = \"relu\"}]", "must be an array of integers or of tables")
        expect("model.layers={type = \"relu\"}", "must be an array of layer tables (or, for a GPT, a number of blocks), got a table")
    }

    /// A GPT's validation split needs a fraction strictly inside (0, 1) when no val_path is given.
    func testGPTValidationFraction() {
        let gpt = "[model]\ntype = \"gpt\"\nlayers = 2\nheads = 2\nembed = 16\ncontext = 8\n[data]\ndataset = \"text\"\npath = \"t.txt\"\nval_fraction = 0\n"
        XCTAssertEqual(message(gpt, []), "c.toml:10: data.val_fraction must be above 0 and below 1 when data.val_path is empty, got 0.0")
        XCTAssertEqual(message(gpt, ["data.val_fraction=1"]),
                       "--set data.val_fraction=1: data.val_fraction must be above 0 and below 1 when data.val_path is empty, got 1.0")
        XCTAssertNil(message(gpt, ["data.val_path=v.txt"]))
    }
}
