import Foundation
import TestSupport
import XCTest

/// --metrics and --tensorboard: JSON Lines records at every logged step and evaluation, and
/// TensorBoard event files that TensorBoard's own EventAccumulator reads as the same scalars
/// at the same steps; `lockstep report --metrics` draws them.
final class MetricsFilesTests: XCTestCase {
    private var dir = ""

    override func setUp() { dir = Lockstep.temporaryDirectory("metrics") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func records(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
        }
    }

    func testTensorBoardReadsTheSameScalarsAsTheJSONLines() throws {
        try InteropPython.requireVenv()
        let run = Lockstep.mpirun(2, Tiny.train(["train.steps=60", "train.eval_every=30"], ["--metrics", dir + "/m.jsonl",
                                                                                            "--tensorboard", dir + "/tb"]), timeout: 120)
        assertSucceeded(run)
        let lines = try records(dir + "/m.jsonl")
        let train = lines.filter { $0["kind"] as? String == "train" }, evals = lines.filter { $0["kind"] as? String == "eval" }
        XCTAssertEqual(train.compactMap { $0["step"] as? Int }, [20, 40, 60], "train.log_every = 20")
        XCTAssertEqual(evals.compactMap { $0["step"] as? Int }, [30, 60], "train.eval_every = 30, and the last step")
        for key in ["epoch", "loss", "lr", "grad_norm", "samples_per_s", "mfu", "wall_s", "time"] {
            XCTAssertNotNil(train.first?[key] as? NSNumber, "train record: \(key)")
        }
        for key in ["epoch", "val_loss", "val_accuracy", "wall_s", "time"] {
            XCTAssertNotNil(evals.first?[key] as? NSNumber, "eval record: \(key)")
        }
        XCTAssertEqual((train[0]["lr"] as? Double) ?? 0, 0.05, accuracy: 1e-7)
        XCTAssertGreaterThan((train[0]["grad_norm"] as? Double) ?? 0, 0)
        let r = try InteropPython.run("check_tensorboard.py", [dir + "/tb", dir + "/m.jsonl"], framework: "tensorboard")
        XCTAssertEqual(r["tags"] as? [String], ["train/grad_norm", "train/loss", "train/lr", "train/mfu", "train/samples_per_s", "val/accuracy", "val/loss"])
        XCTAssertEqual(r["scalars"] as? Int, 3 * 5 + 2 * 2)
        XCTAssertEqual((r["mismatches"] as? [Any])?.count, 0, "\(r)")
    }

    func testALanguageModelLogsTokensAndBits() throws {
        TinyGPT.writeText(to: dir + "/text.txt")
        let run = Lockstep.run(TinyGPT.train(text: dir + "/text.txt", ["train.steps=10"], ["--metrics", dir + "/m.jsonl"]), timeout: 120)
        assertSucceeded(run)
        let lines = try records(dir + "/m.jsonl")
        XCTAssertNotNil(lines.first { $0["kind"] as? String == "train" }?["tokens_per_s"] as? NSNumber)
        XCTAssertNotNil(lines.first { $0["kind"] as? String == "eval" }?["val_bits_per_token"] as? NSNumber)
        let report = Lockstep.run(["report", "--metrics", dir + "/m.jsonl", "--out", dir + "/report"])
        assertSucceeded(report)
        let md = try String(contentsOfFile: dir + "/report/metrics-report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("bits/token"), md)
        XCTAssertTrue(md.contains("tokens/s"), md)
    }

    func testReportDrawsTheCurves() throws {
        let run = Lockstep.run(Tiny.train(["train.steps=100", "train.eval_every=50"], ["--metrics", dir + "/m.jsonl"]), timeout: 120)
        assertSucceeded(run)
        let report = Lockstep.run(["report", "--metrics", dir + "/m.jsonl"])
        assertSucceeded(report)
        XCTAssertTrue(report.stdout.contains("wrote \(dir)/metrics-report.md and 4 charts"), report.output)
        for chart in ["metrics-loss.svg", "metrics-validation.svg", "metrics-throughput.svg", "metrics-grad-norm.svg"] {
            let svg = try String(contentsOfFile: "\(dir)/\(chart)", encoding: .utf8)
            XCTAssertTrue(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"), chart)
            XCTAssertTrue(svg.contains("<polyline") || svg.contains("<circle"), "\(chart) draws something")
        }
        let md = try String(contentsOfFile: "\(dir)/metrics-report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("![Training and validation loss](metrics-loss.svg)"), md)
        XCTAssertTrue(md.contains("| 50 | 1 |"), "the evaluation at step 50\n\(md)")
        let again = Lockstep.run(["report", "--metrics", dir + "/m.jsonl", "--out", dir + "/again"])
        assertSucceeded(again)
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/again/metrics-report.md", encoding: .utf8), md, "a pure function of the file")

        let bad = dir + "/bad.jsonl"
        try Data("{\"kind\":\"train\",\"step\":1}\nnot json\n".utf8).write(to: URL(fileURLWithPath: bad))
        assertFailed(Lockstep.run(["report", "--metrics", bad]), code: 2, contains: ["\(bad):2: not a metrics record"])
        assertFailed(Lockstep.run(["report"]), code: 2, contains: ["give the folder of a scaling study, or --metrics FILE"])
    }

    /// A metrics file that cannot be written fails before the first step; a TensorBoard folder
    /// that cannot be made fails with its reason.
    func testUnwritablePathsFailAtOnce() throws {
        let file = dir + "/missing/m.jsonl"
        assertFailed(Lockstep.mpirun(2, Tiny.train([], ["--metrics", file]), timeout: 60), code: 2,
                     contains: ["lockstep: error: rank 0: --metrics \(file): the folder \(dir)/missing does not exist"])
        try Data().write(to: URL(fileURLWithPath: dir + "/plain"))
        assertFailed(Lockstep.run(Tiny.train([], ["--tensorboard", dir + "/plain/tb"]), timeout: 60), code: 1,
                     contains: ["lockstep: error: \(dir)/plain/tb: cannot create the TensorBoard folder"])
    }

    /// Records reach the file as they are logged: a run killed mid-way keeps them.
    func testAKilledRunKeepsItsRecords() throws {
        let process = try BackgroundProcess(Lockstep.binary, Tiny.train(["train.steps=100000000", "train.log_every=200"],
                                                                        ["--metrics", dir + "/m.jsonl"]),
                                            environment: Lockstep.environment)
        defer { if process.isRunning { process.killTree(SIGKILL) } }
        let deadline = Date().addingTimeInterval(60)
        var count = 0
        while Date() < deadline {
            count = ((try? String(contentsOfFile: dir + "/m.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").count
            if count >= 3 { break }
            usleep(50_000)
        }
        process.killTree(SIGKILL)
        let ended = process.wait(timeout: 30)
        XCTAssertNotEqual(ended.status, 0, "killed, not finished")
        XCTAssertGreaterThanOrEqual(count, 3, "records written while the run went on")
        let lines = try records(dir + "/m.jsonl")
        XCTAssertGreaterThanOrEqual(lines.count, 3)
        let steps = lines.compactMap { $0["step"] as? Int }
        XCTAssertEqual(steps, steps.sorted(), "in step order")
        XCTAssertTrue(steps.allSatisfy { $0 % 200 == 0 || $0 % 128 == 0 }, "every 200 steps and at epoch ends (128 steps): \(steps)")
    }
}
