import Foundation
import TestSupport
import XCTest

/// Shared pieces of the tests that drive the real binary: Configs/tiny.toml runs, summaries
/// and checkpoints.
enum Tiny {
    static let config = Lockstep.path("Configs/tiny.toml")

    /// `train --config tiny.toml --quiet --set k=v …` plus `extra`.
    static func train(_ settings: [String], _ extra: [String] = [], quiet: Bool = true) -> [String] {
        ["train", "--config", config] + (quiet ? ["--quiet"] : []) + settings.flatMap { ["--set", $0] } + extra
    }
}

/// Words that only appear when a process crashed rather than failing cleanly.
let crashMarkers = ["Program crashed", "Fatal error", "Segmentation fault", "signal 11", "Backtrac", "Illegal instruction"]

/// Asserts that a run exited 0 without a crash, showing its output otherwise.
func assertSucceeded(_ result: ProcessResult, _ what: @autoclosure () -> String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(result.timedOut, "\(what()) timed out\n\(result.output)", file: file, line: line)
    XCTAssertEqual(result.status, 0, "\(what())\n\(result.output)", file: file, line: line)
}

/// Asserts that a run failed with `code`, cleanly (no crash), and that stderr has each of `contains`.
func assertFailed(_ result: ProcessResult, code: Int32, contains: [String] = [], _ what: @autoclosure () -> String = "",
                  file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(result.timedOut, "\(what()) timed out\n\(result.output)", file: file, line: line)
    XCTAssertEqual(result.status, code, "\(what()): exit code\n\(result.output)", file: file, line: line)
    for text in contains {
        XCTAssertTrue(result.stderr.contains(text), "\(what()): stderr lacks \"\(text)\"\n\(result.output)", file: file, line: line)
    }
    if let marker = crashMarkers.first(where: { result.stderr.contains($0) || result.stdout.contains($0) }) {
        XCTFail("\(what()): crashed (\"\(marker)\") instead of failing cleanly\n\(result.output)", file: file, line: line)
    }
}

/// The `lockstep: error:` lines of stderr.
func errorLines(_ result: ProcessResult) -> [String] {
    result.stderr.split(separator: "\n").map(String.init).filter { $0.contains("lockstep: error:") }
}

/// A run summary's fields, typed.
struct Summary {
    let json: [String: Any]

    init(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        do {
            json = try Lockstep.summary(at: path)
        } catch {
            XCTFail("cannot read the summary \(path): \(error)", file: file, line: line)
            throw error
        }
    }

    func int(_ key: String) -> Int? { (json[key] as? NSNumber)?.intValue }
    func double(_ key: String) -> Double? { (json[key] as? NSNumber)?.doubleValue }
    func doubles(_ key: String) -> [Double]? { (json[key] as? [NSNumber])?.map(\.doubleValue) }
    func string(_ key: String) -> String? { json[key] as? String }

    /// loss_history as (step, loss).
    var losses: [(step: Int, loss: Double)] {
        ((json["loss_history"] as? [[String: Any]]) ?? []).compactMap { point in
            guard let step = (point["step"] as? NSNumber)?.intValue, let loss = (point["loss"] as? NSNumber)?.doubleValue
            else { return nil }
            return (step, loss)
        }
    }

    var checkpoint: [String: Any]? { json["checkpoint"] as? [String: Any] }
}

/// Asserts two loss histories cover the same steps and agree within `relative` of each loss.
func assertLossesClose(_ actual: [(step: Int, loss: Double)], _ expected: [(step: Int, loss: Double)], relative: Double,
                       _ what: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.map(\.step), expected.map(\.step), "\(what()): logged steps", file: file, line: line)
    XCTAssertFalse(expected.isEmpty, "\(what()): no losses logged", file: file, line: line)
    for (a, e) in zip(actual, expected) where !(abs(a.loss - e.loss) <= relative * max(abs(e.loss), 1e-3)) {
        XCTFail("\(what()): loss at step \(e.step) is \(a.loss), expected \(e.loss) (relative \(relative))", file: file, line: line)
        return
    }
}

/// The checkpoint file names in `dir`, sorted.
func checkpointFiles(in dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("ckpt-") && $0.hasSuffix(".safetensors") }
        .sorted()
}

/// `ckpt-00000012.safetensors` for step 12, as Lockstep names them.
func checkpointName(step: Int) -> String { "ckpt-" + String(format: "%08d", step) + ".safetensors" }

/// The target of `dir/latest`, or nil.
func latestTarget(in dir: String) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/latest")
}

/// `lockstep checkpoint verify path`.
func verifyCheckpoint(_ path: String) -> ProcessResult { Lockstep.run(["checkpoint", "verify", path], timeout: 60) }
