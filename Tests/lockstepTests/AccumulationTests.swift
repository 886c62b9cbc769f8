import Foundation
import TestSupport
import XCTest

/// Gradient accumulation: 4 micro-batches of 32 per step are one batch of 128. The losses of
/// every step and the final weights and optimizer state must agree within 1e-4, at world 1
/// and at world 2 (global batch 256 there).
final class AccumulationTests: XCTestCase {
    static let steps = 10
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("accumulate")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs `world` ranks with `batch` × `accumulate` and returns the summary and final checkpoint.
    private func run(world: Int, batch: Int, accumulate: Int, file: StaticString = #filePath, line: UInt = #line) throws
        -> (Summary, SafeTensorsFile)? {
        let name = "w\(world)-b\(batch)-a\(accumulate)"
        let settings = ["train.steps=\(Self.steps)", "train.batch=\(batch)", "train.accumulate=\(accumulate)",
                        "train.log_every=1", "checkpoint.dir=\(dir)/\(name)"]
        let arguments = Tiny.train(settings, ["--summary", "\(dir)/\(name).json"])
        let result = world == 1 ? Lockstep.run(arguments, timeout: 120) : Lockstep.mpirun(world, arguments, timeout: 120)
        assertSucceeded(result, name, file: file, line: line)
        guard result.status == 0 else { return nil }
        let summary = try Summary("\(dir)/\(name).json")
        XCTAssertEqual(summary.int("accumulate"), accumulate, name, file: file, line: line)
        XCTAssertEqual(summary.int("global_batch"), batch * accumulate * world, name, file: file, line: line)
        return (summary, try SafeTensorsFile(path: "\(dir)/\(name)/latest"))
    }

    private func compare(world: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        guard let (accumulated, accumulatedCheckpoint) = try run(world: world, batch: 32, accumulate: 4, file: file, line: line),
              let (whole, wholeCheckpoint) = try run(world: world, batch: 128, accumulate: 1, file: file, line: line)
        else { return }
        XCTAssertEqual(accumulated.losses.count, Self.steps, file: file, line: line)
        assertLossesClose(accumulated.losses, whole.losses, relative: 1e-4, "world \(world): accumulate 4 × 32 vs 1 × 128",
                          file: file, line: line)
        assertCheckpointsClose(accumulatedCheckpoint, wholeCheckpoint, relative: 1e-4,
                               "world \(world): accumulate 4 × 32 vs 1 × 128", file: file, line: line)
    }

    func testWorld1() throws { try compare(world: 1) }
    func testWorld2() throws { try compare(world: 2) }
}
