import Foundation
import TestSupport
import XCTest

/// Configs/tiny.toml learns: from chance to its accuracy threshold within its two epochs.
final class ConvergenceTests: XCTestCase {
    func testTinyReachesItsThreshold() throws {
        let dir = Lockstep.temporaryDirectory("converge")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = Lockstep.run(["train", "--config", "Configs/tiny.toml", "--set", "train.eval_every=8",
                                   "--set", "train.target_accuracy=0.95", "--summary", dir + "/s.json"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.output)
        let summary = try Lockstep.summary(at: dir + "/s.json")
        let evals = try XCTUnwrap(summary["eval_history"] as? [[String: Any]])
        let first = try XCTUnwrap(evals.first?["accuracy"] as? Double)
        XCTAssertLessThan(first, 0.5, "after 8 steps the model is still far from trained (4 classes)")
        XCTAssertEqual(summary["stopped_by"] as? String, "target_accuracy", result.output)
        XCTAssertGreaterThanOrEqual(summary["test_accuracy"] as? Double ?? 0, 0.95)
        XCTAssertLessThan(summary["steps"] as? Int ?? .max, 256, "reached within the two epochs")
        XCTAssertNotNil(summary["time_to_target_s"] as? Double)
    }

    func testFashionMLPLearnsInAFewSteps() throws {
        let dir = Lockstep.temporaryDirectory("fashion")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = Lockstep.run(["train", "--config", "Configs/fashion-mlp.toml", "--set", "train.steps=60",
                                   "--set", "train.log_every=20", "--summary", dir + "/s.json"], timeout: 300)
        XCTAssertEqual(result.status, 0, result.output)
        let summary = try Lockstep.summary(at: dir + "/s.json")
        XCTAssertGreaterThan(summary["test_accuracy"] as? Double ?? 0, 0.7, "60 steps of SGD beat chance (0.1) by far")
        let losses = try XCTUnwrap(summary["loss_history"] as? [[String: Any]]).compactMap { $0["loss"] as? Double }
        XCTAssertEqual(losses.count, 3)
        XCTAssertLessThan(losses.last!, losses.first!, "the loss falls")
        XCTAssertTrue(result.stdout.contains("samples/s"), "progress lines show throughput")
        XCTAssertTrue(result.stdout.contains("ETA"), "progress lines show the ETA")
    }
}
