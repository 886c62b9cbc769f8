import Foundation
import TestSupport
import XCTest

/// Each bad input gets one clear line naming the file, key or line, and exit code 2 for
/// usage and config errors (1 for bad data), from the real binary. Never a crash or a trap.
final class BadInputTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("bad-input")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Writes a config that is Configs/tiny.toml with `edit` applied to its text.
    private func config(_ edit: (String) -> String) throws -> String {
        let text = try String(contentsOfFile: Lockstep.path("Configs/tiny.toml"), encoding: .utf8)
        let path = dir + "/bad.toml"
        try edit(text).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `lockstep train` (under mpirun when `ranks` > 1) and checks the exit code and the
    /// one error line.
    private func expectError(_ arguments: [String], ranks: Int = 1, code: Int32, contains expected: [String],
                             file: StaticString = #filePath, line: UInt = #line) {
        let result = ranks == 1 ? Lockstep.run(["train", "--quiet"] + arguments, timeout: 60)
                                : Lockstep.mpirun(ranks, ["train", "--quiet"] + arguments, timeout: 60)
        XCTAssertEqual(result.status, code, result.output, file: file, line: line)
        let errorLines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("lockstep: error:") }
        XCTAssertEqual(errorLines.count, 1, "expected one error line\n\(result.output)", file: file, line: line)
        for text in expected {
            XCTAssertTrue(result.stderr.contains(text), "stderr lacks \"\(text)\"\n\(result.output)", file: file, line: line)
        }
        for crash in ["Fatal error", "Backtrac", "Illegal instruction", "Segmentation"] {
            XCTAssertFalse(result.stderr.contains(crash), "crashed:\n\(result.output)", file: file, line: line)
        }
    }

    func testMissingConfigFile() {
        expectError(["--config", dir + "/nope.toml"], code: 2, contains: ["\(dir)/nope.toml: no such file"])
    }

    func testUnparsableConfig() throws {
        let path = try config { $0 + "\n[train\nbatch = 3\n" }
        // The reader names the line and column of the broken table header.
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let brokenLine = lines.firstIndex { $0 == "[train" }! + 1
        expectError(["--config", path], code: 2,
                    contains: ["lockstep: error: config: \(path):\(brokenLine):7: expected ']' to close the table header [train\n"])
    }

    /// Inputs on which TOMLKit's toml++ aborted the process: a line:column error, exit 2.
    func testInputsThatAbortedTOMLKit() throws {
        let header = try config { "[.a]\n" + $0 }
        expectError(["--config", header], code: 2,
                    contains: ["lockstep: error: config: \(header):1:2: expected a key in the table header, found '.'\n"])
        let array = try config { $0.replacingOccurrences(of: "  { type = \"relu\" },", with: "  },") }
        let lines = try String(contentsOfFile: array, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let brace = lines.firstIndex { $0 == "  }," }! + 1
        expectError(["--config", array], code: 2,
                    contains: ["lockstep: error: config: \(array):\(brace):3: expected a value or ']' in the array, found '}'\n"])
        expectError(["--config", Lockstep.path("Configs/tiny.toml"), "--set", "model.input=[}]"], code: 2,
                    contains: ["lockstep: error: config: --set model.input=[}]: expected a value or ']' in the array, found '}' (at column 2 of the value)\n"])
    }

    /// Values that trapped or overflowed before: exit 2 with the key and its source, from
    /// --set and from the file.
    func testValuesThatTrappedBefore() throws {
        let tiny = Lockstep.path("Configs/tiny.toml")
        for (setting, message) in [
            ("train.steps=9223372036854775807", "train.steps must be at most 1099511627776, got 9223372036854775807"),
            ("train.steps=4611686018427387904", "train.steps must be at most 1099511627776, got 4611686018427387904"),
            ("train.steps=1e12", "train.steps must be an integer, got a float (1000000000000.0)"),
            ("train.batch=100000000", "train.batch must be at most 1048576, got 100000000"),
            ("comm.bucket_mb=1e30", "comm.bucket_mb must be at most 4096, got 1e+30"),
            ("train.steps=9223372036854775808", "integer 9223372036854775808 does not fit in 64 bits (at column 1 of the value)"),
        ] {
            expectError(["--config", tiny, "--set", setting], code: 2, contains: ["lockstep: error: config: --set \(setting): \(message)\n"])
        }
        let path = try config { $0.replacingOccurrences(of: "batch = 32", with: "batch = 32\nsteps = 4611686018427387904") }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let line = lines.firstIndex { $0.hasPrefix("steps = ") }! + 1
        expectError(["--config", path], code: 2,
                    contains: ["lockstep: error: config: \(path):\(line): train.steps must be at most 1099511627776, got 4611686018427387904\n"])
    }

    /// A batch larger than the training set, and buffers larger than memory, are found before
    /// anything is allocated.
    func testLimitsThatDependOnTheDataAndTheMachine() {
        let tiny = Lockstep.path("Configs/tiny.toml")
        expectError(["--config", tiny, "--set", "train.batch=1000000"], code: 2,
                    contains: ["lockstep: error: config: --set train.batch=1000000: train.batch × accumulate = 1000000 per rank exceeds the 4096 training samples each of 1 ranks gets per epoch; lower train.batch or use fewer ranks\n"])
        // 5,120 synthetic images of 2^31 pixels: 11 TB, more than any machine this runs on.
        let input = "model.input=[1, 1048576, 2048]"
        expectError(["--config", tiny, "--set", input,
                     "--set", #"model.layers=[{type="maxpool2d",kernel=2048},{type="flatten"},{type="linear",in=512,out=4}]"#],
                    code: 2, contains: ["lockstep: error: config: --set \(input): the run's buffers need ", " per rank, but the node's available memory shared by 1 rank leaves ",
                                        "the largest, the synthetic images ((data.train_count + data.test_count) × 2147483648 bytes), take 11.1 TB\n"])
    }

    /// --summary and --timeline that cannot be written stop the run before its first step.
    func testUnwritableSummaryAndTimelineFailBeforeTraining() throws {
        let tiny = Lockstep.path("Configs/tiny.toml")
        let checkpoints = dir + "/ckpt"
        let common = ["--set", "checkpoint.dir=\(checkpoints)", "--set", "checkpoint.every_steps=1"]
        for (arguments, message) in [
            (["--summary", dir + "/absent/s.json"], "--summary \(dir)/absent/s.json: the folder \(dir)/absent does not exist"),
            (["--timeline", dir], "--timeline \(dir): is a folder"),
            (["--summary", dir + "/s.json", "--timeline", "/proc/lockstep/t.json"], "--timeline /proc/lockstep/t.json: the folder /proc/lockstep does not exist"),
        ] {
            let result = Lockstep.run(["train", "--config", tiny] + common + arguments, timeout: 60)
            assertFailed(result, code: 2, contains: ["lockstep: error: \(message)\n"])
            XCTAssertEqual(errorLines(result).count, 1, result.output)
            XCTAssertFalse(result.stdout.contains("step "), "no step ran\n\(result.output)")
            XCTAssertEqual(checkpointFiles(in: checkpoints), [], "no step ran")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/s.json"))
        }
        let ranks = Lockstep.mpirun(2, ["train", "--quiet", "--config", tiny, "--summary", dir + "/absent/s.json"], timeout: 60)
        assertFailed(ranks, code: 2, contains: ["lockstep: error: rank 0: --summary \(dir)/absent/s.json: the folder \(dir)/absent does not exist\n"])
        XCTAssertEqual(errorLines(ranks).count, 1, "rank 0 alone reports it\n\(ranks.output)")
        // The probe leaves nothing behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".lockstep-probe") }, [])
    }

    func testUnknownKeySuggestsTheRightOne() throws {
        let path = try config { $0.replacingOccurrences(of: "batch = 32", with: "bacth = 32") }
        expectError(["--config", path], code: 2, contains: ["unknown key train.bacth (did you mean train.batch?)"])
    }

    func testUnknownOverrideKey() {
        expectError(["--config", Lockstep.path("Configs/tiny.toml"), "--set", "optimizer.momentun=0.5"], code: 2,
                    contains: ["--set optimizer.momentun=0.5: unknown key optimizer.momentun (did you mean optimizer.momentum?)"])
    }

    func testWrongType() throws {
        let path = try config { $0.replacingOccurrences(of: "batch = 32", with: "batch = \"large\"") }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let line = lines.firstIndex { $0.hasPrefix("batch = ") }! + 1
        expectError(["--config", path], code: 2, contains: ["\(path):\(line): train.batch must be an integer, got a string (\"large\")"])
    }

    func testNonPositiveBatchLearningRateAndEpochs() {
        let tiny = Lockstep.path("Configs/tiny.toml")
        expectError(["--config", tiny, "--set", "train.batch=0"], code: 2, contains: ["train.batch must be positive, got 0"])
        expectError(["--config", tiny, "--set", "optimizer.lr=-0.1"], code: 2, contains: ["optimizer.lr must be positive, got -0.1"])
        expectError(["--config", tiny, "--set", "train.epochs=0"], code: 2, contains: ["train.epochs must be positive, got 0"])
    }

    func testUnknownChoice() {
        expectError(["--config", Lockstep.path("Configs/tiny.toml"), "--set", "optimizer.name=adam"], code: 2,
                    contains: ["optimizer.name must be one of \"sgd\", \"adamw\", got \"adam\""])
    }

    func testMissingDatasetPath() {
        expectError(["--config", Lockstep.path("Configs/fashion-mlp.toml"), "--set", "data.path=\(dir)/absent"], code: 1,
                    contains: ["\(dir)/absent: dataset folder not found"])
    }

    func testModelWhoseShapesDoNotChain() {
        let layers = #"[{type="conv2d",in=1,out=32,kernel=3,padding=1},{type="relu"},{type="maxpool2d",kernel=2},{type="flatten"},{type="linear",in=3136,out=10}]"#
        expectError(["--config", Lockstep.path("Configs/fashion-cnn.toml"), "--set", "model.layers=\(layers)"], code: 2,
                    contains: ["model.layers: layer 5 (fc1, linear): in is 3136 but its input has 6272 features"])
    }

    /// A config error found once the ranks are connected ends every rank cleanly, even when
    /// the communicator is dropped before its communication thread has started. Repeated,
    /// because that start is a race.
    func testBatchLargerThanEachRanksShardAtWorld8() {
        for _ in 0..<4 {
            expectError(["--config", Lockstep.path("Configs/tiny.toml"), "--set", "data.train_count=512",
                         "--set", "train.batch=100"], ranks: 8, code: 2,
                        contains: ["train.batch × accumulate = 100 per rank exceeds the 64 training samples each of 8 ranks gets per epoch"])
        }
    }

    /// Checkpoints whose metadata is out of range, with checksums to match (they guard against
    /// damage, not against a file made to mislead): refused with exit 1 naming the field. With
    /// global batch 0, resuming divided the epoch by zero; with a sampler position past the
    /// epoch, the run would read past the epoch's sample order.
    func testForgedCheckpointMetadata() throws {
        let checkpoints = dir + "/ckpt"
        assertSucceeded(Lockstep.run(Tiny.train(["train.steps=2", "checkpoint.every_steps=2", "checkpoint.dir=\(checkpoints)"]), timeout: 60))
        let original = try SafeTensorsFile(path: checkpoints + "/" + checkpointName(step: 2))
        for (key, value, message) in [
            ("global_batch", "0", "metadata global_batch is 0, not a positive integer"),
            ("epoch", "9223372036854775807", "metadata epoch is 9223372036854775807, not a count (0 to 2^62)"),
            // Tiny has 128 steps of 32 samples per epoch.
            ("sampler.global_position", "4128", "sampler position 4128 is past the end of this run's epoch, 128 steps of 32 samples"),
        ] {
            var metadata = original.metadata
            metadata[key] = value
            let lines = metadata.keys.sorted().filter { $0 != "metadata_sha256" }.map { "\($0)=\(metadata[$0]!)" }.joined(separator: "\n")
            try lines.write(toFile: dir + "/lines", atomically: true, encoding: .utf8)
            metadata["metadata_sha256"] = String(runProcess("/usr/bin/sha256sum", [dir + "/lines"]).stdout.prefix(64))
            let forged = dir + "/forged.safetensors"
            try SafeTensorsFile.write(original.tensors.map { ($0.name, $0.shape, $0.values) }, metadata: metadata, to: forged)
            let result = Lockstep.run(Tiny.train(["train.steps=4"], ["--resume", forged]), timeout: 60)
            let prefix = key == "sampler.global_position" ? "" : "checkpoint: "
            assertFailed(result, code: 1, contains: ["lockstep: error: \(prefix)\(forged): \(message)\n"], key)
            XCTAssertEqual(errorLines(result).count, 1, result.output)
        }
    }

    func testUnknownCommandLineOption() {
        let result = Lockstep.run(["train", "--config", "x.toml", "--bogus"])
        XCTAssertEqual(result.status, 2, result.output)
        XCTAssertTrue(result.stderr.contains("lockstep: error:"), result.output)
    }
}
