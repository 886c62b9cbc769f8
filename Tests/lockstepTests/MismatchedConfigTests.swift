import Foundation
import TestSupport
import XCTest

/// Ranks started with different configs (an MPMD launch, or a stale file on one node) must
/// stop at start-up with exit 5 and name the rank and what differs, instead of hanging in an
/// all-reduce of different sizes or silently training different models.
final class MismatchedConfigTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("mismatch")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// `mpirun -np 1 lockstep train A : -np 1 lockstep train B`.
    private func mpmd(_ first: [String], _ second: [String]) -> ProcessResult {
        runProcess("/usr/bin/mpirun", ["--oversubscribe", "-np", "1", Lockstep.binary] + first + [":", "-np", "1", Lockstep.binary]
                   + second, environment: Lockstep.environment, currentDirectory: Lockstep.root, timeout: 60)
    }

    func testConfigFileDiffersInOneKey() throws {
        let text = try String(contentsOfFile: Tiny.config, encoding: .utf8)
        XCTAssertTrue(text.contains("lr = 0.05"))
        let other = dir + "/other.toml"
        try text.replacingOccurrences(of: "lr = 0.05", with: "lr = 0.04").write(toFile: other, atomically: true, encoding: .utf8)
        let result = mpmd(["train", "--config", Tiny.config, "--quiet", "--set", "train.steps=5"],
                          ["train", "--config", other, "--quiet", "--set", "train.steps=5"])
        assertFailed(result, code: 5, contains: ["rank 1", "config", "optimizer.lr = 0.05 on rank 0, 0.04 on rank 1"], "MPMD with optimizer.lr 0.05 and 0.04")
        XCTAssertEqual(errorLines(result).count, 1, "one error line\n\(result.output)")
    }

    func testOverrideDiffersOnOneRank() {
        let result = mpmd(["train", "--config", Tiny.config, "--quiet", "--set", "train.steps=5"],
                          ["train", "--config", Tiny.config, "--quiet", "--set", "train.steps=5", "--set", "comm.bucket_mb=1"])
        assertFailed(result, code: 5, contains: ["rank 1", "config", "comm.bucket_mb = 0.004 on rank 0, 1.0 on rank 1"], "MPMD with comm.bucket_mb differing")
    }
}
