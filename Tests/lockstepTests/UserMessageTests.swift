import Foundation
import TestSupport
import XCTest

/// Messages a user trips on, with their exact text: a mistyped command, the argument parser's
/// errors, resuming a run that is already finished, and the epoch as the resume note and
/// `checkpoint inspect` give it (1-based), inspect taking a folder's latest.
final class UserMessageTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("messages")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testUnknownCommandIsNamed() {
        let result = Lockstep.run(["trian", "--config", "x.toml"], timeout: 60)
        assertFailed(result, code: 2)
        XCTAssertEqual(result.stderr, """
            lockstep: error: unknown command 'trian' (did you mean 'train'?)
            Commands of lockstep: train, generate, bench, checkpoint, scale, report, cost-model, export
              See 'lockstep --help' for more information.

            """)
        let nested = Lockstep.run(["checkpoint", "inpsect", "x"], timeout: 60)
        assertFailed(nested, code: 2)
        XCTAssertEqual(nested.stderr, """
            lockstep: error: unknown command 'inpsect' (did you mean 'inspect'?)
            Commands of lockstep checkpoint: inspect, verify
              See 'lockstep checkpoint --help' for more information.

            """)
        let far = Lockstep.run(["frobnicate"], timeout: 60)
        assertFailed(far, code: 2, contains: ["lockstep: error: unknown command 'frobnicate'\n"])
    }

    /// The parser's message on the error line without its "Error: ", the usage below it.
    func testArgumentParserErrorsKeepTheirLines() {
        let usage = "Usage: lockstep train --config <config> [--set <key=value> ...] [--summary <summary>] [--timeline <timeline>] [--resume <resume>] [--metrics <metrics>] [--tensorboard <tensorboard>] [--check-identical-ranks] [--quiet]\n"
            + "  See 'lockstep train --help' for more information.\n"
        let unknown = Lockstep.run(["train", "--config", "x.toml", "--bogus"], timeout: 60)
        assertFailed(unknown, code: 2)
        XCTAssertEqual(unknown.stderr, "lockstep: error: Unknown option '--bogus'\n" + usage)
        let missing = Lockstep.run(["train"], timeout: 60)
        assertFailed(missing, code: 2)
        XCTAssertEqual(missing.stderr, "lockstep: error: Missing expected argument '--config <config>'\n"
                                       + "Help:  --config <config>  The TOML config.\n" + usage)
        for result in [unknown, missing] {
            XCTAssertFalse(result.stderr.contains("Error:"), result.output)
            XCTAssertEqual(errorLines(result).count, 1, result.output)
        }
    }

    /// Resuming a run whose checkpoint is at its last step has nothing to do: it says so and
    /// exits 0, without a throughput line of zeros.
    func testResumingAFinishedRunHasNothingToDo() throws {
        let checkpoints = dir + "/ckpt"
        let settings = ["train.steps=4", "checkpoint.every_steps=2", "checkpoint.dir=\(checkpoints)"]
        assertSucceeded(Lockstep.run(Tiny.train(settings), timeout: 60), "the first run")
        let again = Lockstep.run(Tiny.train(settings, ["--resume", "latest", "--summary", dir + "/s.json"], quiet: false), timeout: 60)
        assertSucceeded(again, "the resumed run")
        XCTAssertEqual(again.stderr, "lockstep: nothing to do: \(checkpoints)/\(checkpointName(step: 4)) is at step 4 and this run ends at step 4; raise train.steps or train.epochs to train further\n")
        XCTAssertFalse(again.stdout.contains("samples/s"), again.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/s.json"), "no summary of a run that did not run")
        XCTAssertEqual(checkpointFiles(in: checkpoints), [checkpointName(step: 2), checkpointName(step: 4)])
        let ranks = Lockstep.mpirun(2, Tiny.train(settings + ["train.batch=16"], ["--resume", "latest"]), timeout: 60)
        assertSucceeded(ranks, "the resumed run at world 2")
        XCTAssertEqual(ranks.stderr.components(separatedBy: "lockstep: nothing to do:").count, 2, "rank 0 says it once\n\(ranks.output)")
    }

    /// A checkpoint 2 steps into the second epoch (8 steps per epoch): inspect of its folder
    /// reads `latest` and says epoch 2, as the resume note does.
    func testEpochIsOneBasedInInspectAndTheResumeNote() throws {
        let checkpoints = dir + "/ckpt"
        // 256 samples in batches of 32: 8 steps per epoch.
        let settings = ["data.train_count=256", "checkpoint.every_steps=10", "checkpoint.dir=\(checkpoints)"]
        assertSucceeded(Lockstep.run(Tiny.train(settings + ["train.steps=10"]), timeout: 60), "the first run")
        let inspect = Lockstep.run(["checkpoint", "inspect", checkpoints], timeout: 60)
        assertSucceeded(inspect, "inspect")
        let lines = inspect.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "\(checkpoints)/latest: Lockstep \(lockstepVersion(inspect)) checkpoint, valid")
        XCTAssertEqual(lines.dropFirst().first, "step 10, epoch 2 (2 steps in), world 1, global batch 32, optimizer sgd after 10 steps")
        let resumed = Lockstep.run(Tiny.train(settings + ["train.steps=12"], ["--resume", "latest"]), timeout: 60)
        assertSucceeded(resumed, "the resumed run")
        XCTAssertTrue(resumed.stderr.contains("lockstep: note: resuming from \(checkpoints)/\(checkpointName(step: 10)) at step 10 (epoch 2)\n"),
                      resumed.output)
    }

    /// The version inspect printed, which the test need not know.
    private func lockstepVersion(_ result: ProcessResult) -> String {
        let first = result.stdout.split(separator: "\n").first.map(String.init) ?? ""
        guard let start = first.range(of: ": Lockstep "), let end = first.range(of: " checkpoint, valid") else { return "?" }
        return String(first[start.upperBound..<end.lowerBound])
    }
}
