import Foundation
import TestSupport
import XCTest

/// A checkpoint of a world-4 run (per-rank batch 32, global batch 128) resumed at world 2
/// with the same config: the binary uses accumulate 2 to keep the global batch and the sample
/// order, so the final weights match the uninterrupted world-4 run. World 3 cannot keep the
/// global batch of 128 with batch 32 and is refused with exit 2.
final class ElasticResumeTests: XCTestCase {
    /// The world-4 run: checkpoints at steps 20 and 40, in a folder kept for the class.
    nonisolated(unsafe) private static var worldFour: String?
    nonisolated(unsafe) private static var worldFourFailure: String?
    static let settings = ["train.steps=40", "checkpoint.every_steps=20", "checkpoint.keep=5"]

    private var dir = ""

    override class func tearDown() {
        if let dir = worldFour { try? FileManager.default.removeItem(atPath: dir) }
        super.tearDown()
    }

    override func setUp() {
        dir = Lockstep.temporaryDirectory("elastic")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// The world-4 checkpoint folder.
    private func worldFourRun() throws -> String {
        if let d = Self.worldFour { return d }
        struct Failed: Error {}
        if let failure = Self.worldFourFailure { XCTFail(failure); throw Failed() }
        let d = Lockstep.temporaryDirectory("elastic-w4")
        let result = Lockstep.mpirun(4, Tiny.train(Self.settings + ["checkpoint.dir=\(d)"]), timeout: 120)
        guard result.status == 0 else {
            Self.worldFourFailure = "the world-4 run failed\n\(result.output)"
            XCTFail(Self.worldFourFailure!)
            throw Failed()
        }
        XCTAssertEqual(checkpointFiles(in: d), [checkpointName(step: 20), checkpointName(step: 40)])
        Self.worldFour = d
        return d
    }

    func testResumeAtWorld2MatchesTheWorld4Run() throws {
        let four = try worldFourRun()
        let result = Lockstep.mpirun(2, Tiny.train(Self.settings + ["checkpoint.dir=\(dir)/ckpt"],
                                                   ["--resume", "\(four)/\(checkpointName(step: 20))",
                                                    "--summary", dir + "/summary.json"], quiet: false), timeout: 120)
        assertSucceeded(result, "resume the world-4 checkpoint at world 2")
        XCTAssertTrue(result.stderr.contains("train.accumulate = 2"), "the adjustment is announced\n\(result.output)")
        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.int("world"), 2)
        XCTAssertEqual(summary.int("accumulate"), 2)
        XCTAssertEqual(summary.int("global_batch"), 128)
        XCTAssertEqual(summary.int("steps"), 40)
        let resumed = try SafeTensorsFile(path: "\(dir)/ckpt/\(checkpointName(step: 40))")
        let uninterrupted = try SafeTensorsFile(path: "\(four)/\(checkpointName(step: 40))")
        XCTAssertEqual(resumed.metadata["world_size"], "2")
        XCTAssertEqual(resumed.metadata["accumulate"], "2")
        XCTAssertEqual(resumed.metadata["sampler.global_position"], uninterrupted.metadata["sampler.global_position"])
        let worst = assertCheckpointsClose(resumed, uninterrupted, relative: 1e-5, "world 4 → 2 at step 20, final step 40")
        print("ElasticResumeTests: worst relative difference \(worst)")
    }

    /// The same checkpoint resumed into node-shared parameters (a sharded optimizer at world 2):
    /// rank 0 writes the node's one copy, and the run still ends where world 4 did.
    func testResumeIntoSharedParameters() throws {
        let four = try worldFourRun()
        let result = Lockstep.mpirun(2, Tiny.train(Self.settings + ["checkpoint.dir=\(dir)/ckpt", "optimizer.sharded=true"],
                                                   ["--resume", "\(four)/\(checkpointName(step: 20))",
                                                    "--summary", dir + "/summary.json"]), timeout: 120)
        assertSucceeded(result, "resume the world-4 checkpoint at world 2 with optimizer.sharded")
        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.string("algorithm"), "node shared memory (sharded optimizer)")
        XCTAssertEqual(summary.int("steps"), 40)
        let resumed = try SafeTensorsFile(path: "\(dir)/ckpt/\(checkpointName(step: 40))")
        let uninterrupted = try SafeTensorsFile(path: "\(four)/\(checkpointName(step: 40))")
        _ = assertCheckpointsClose(resumed, uninterrupted, relative: 1e-5, "world 4 → 2 sharded at step 20, final step 40")
    }

    func testResumeAtWorld3IsRefused() throws {
        let four = try worldFourRun()
        let path = "\(four)/\(checkpointName(step: 20))"
        let result = Lockstep.mpirun(3, Tiny.train(Self.settings + ["checkpoint.dir=\(dir)/ckpt"], ["--resume", path]), timeout: 120)
        assertFailed(result, code: 2, contains: [path, "world 3", "global batch 128", "1, 2, 4"], "resume at world 3")
        XCTAssertEqual(errorLines(result).count, 1, result.output)
        XCTAssertTrue(checkpointFiles(in: dir + "/ckpt").isEmpty, "a refused resume wrote checkpoints")
        // Any other advice must work too: a per-rank batch b at world 3 keeps the global batch
        // of 128 only if 3 · b · accumulate = 128, which no b does.
        let line = errorLines(result).first ?? ""
        if let range = line.range(of: "a train.batch that divides ") {
            let number = Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
            XCTAssertEqual(number * 3, 128, "the advice \"a train.batch that divides \(number)\" cannot keep the global batch of 128 at world 3: \(line)")
        }
    }
}
