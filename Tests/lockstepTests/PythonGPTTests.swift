import Foundation
import TestSupport
import XCTest

/// A GPT trained by Lockstep loads into PyTorch: scripts/gpt_check.py builds a nanoGPT-layout
/// model with Debian's torch 1.13, loads the checkpoint with `load_state_dict(strict=True)`,
/// and scores the same validation windows to the same loss.
final class PythonGPTTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("python-gpt")
        TinyGPT.writeText(to: dir + "/text.txt")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testPyTorchLoadsTheCheckpointAndMatchesTheValidationLoss() throws {
        let train = Lockstep.mpirun(2, TinyGPT.train(text: dir + "/text.txt",
                                                     ["train.steps=30", "train.batch=4", "checkpoint.dir=\(dir)/ckpt"],
                                                     ["--summary", dir + "/summary.json"]), timeout: 120)
        assertSucceeded(train, "training")
        let lockstepLoss = try XCTUnwrap(try Summary(dir + "/summary.json").double("val_loss"))
        let check = runProcess("/usr/bin/python3", [Lockstep.path("scripts/gpt_check.py"), "\(dir)/ckpt/latest"], timeout: 120)
        XCTAssertEqual(check.status, 0, check.output)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any], check.output)
        XCTAssertEqual(report["missing"] as? [String], [])
        XCTAssertEqual(report["unexpected"] as? [String], [])
        XCTAssertEqual(report["windows"] as? Int, 16, "data.val_windows of Configs/tiny-gpt.toml")
        let torchLoss = try XCTUnwrap((report["val_loss"] as? NSNumber)?.doubleValue)
        XCTAssertEqual(torchLoss, lockstepLoss, accuracy: 1e-4 * lockstepLoss, "PyTorch's validation loss against Lockstep's")
        XCTAssertLessThan(lockstepLoss, log(256.0), "the model has learned something")
    }
}
