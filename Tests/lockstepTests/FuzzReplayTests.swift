import Foundation
import TestSupport
import XCTest

/// Each fuzz target, as an ordinary build makes it, replays its seed corpus and its regression
/// inputs (Fuzz/Corpus/<target>, Fuzz/Regressions/<target>) without a trap: the readers of
/// configs, checkpoints, IDX files and token files keep every promise their target checks.
final class FuzzReplayTests: XCTestCase {
    private func replay(_ product: String, _ target: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let binary = URL(fileURLWithPath: Lockstep.binary).deletingLastPathComponent().appendingPathComponent(product).path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            return XCTFail("\(binary) is not built; swift build builds every fuzz target", file: file, line: line)
        }
        var inputs = 0
        for folder in ["Fuzz/Corpus/\(target)", "Fuzz/Regressions/\(target)"] {
            inputs += ((try? FileManager.default.contentsOfDirectory(atPath: Lockstep.path(folder))) ?? []).count
        }
        let result = runProcess(binary, [], currentDirectory: Lockstep.root, timeout: 120)
        assertSucceeded(result, product, file: file, line: line)
        XCTAssertEqual(result.stdout, "replayed \(inputs) inputs without a crash\n", result.output, file: file, line: line)
    }

    func testConfig() throws { try replay("FuzzConfig", "config") }
    func testCheckpoint() throws { try replay("FuzzCheckpoint", "checkpoint") }
    func testIDX() throws { try replay("FuzzIDX", "idx") }
    func testTokens() throws { try replay("FuzzTokens", "tokens") }
    func testTOML() throws { try replay("FuzzTOML", "toml") }
}
