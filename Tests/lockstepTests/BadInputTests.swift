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
        expectError(["--config", path], code: 2, contains: ["\(path):", "config:"])
        // toml++ names the line of the broken table header.
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let brokenLine = lines.firstIndex { $0 == "[train" }! + 1
        let result = Lockstep.run(["train", "--config", path])
        XCTAssertTrue(result.stderr.contains("\(path):\(brokenLine):"), result.output)
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
        expectError(["--config", path], code: 2, contains: ["\(path): train.batch must be an integer, got a string (\"large\")"])
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

    func testUnknownCommandLineOption() {
        let result = Lockstep.run(["train", "--config", "x.toml", "--bogus"])
        XCTAssertEqual(result.status, 2, result.output)
        XCTAssertTrue(result.stderr.contains("lockstep: error:"), result.output)
    }
}
