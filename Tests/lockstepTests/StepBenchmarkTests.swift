import Foundation
import TestSupport
import XCTest

/// `lockstep bench step`: a step against its GEMMs replayed alone, one row per GEMM shape.
final class StepBenchmarkTests: XCTestCase {
    private var dir = ""

    override func setUp() { dir = Lockstep.temporaryDirectory("bench-step") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Runs `bench step` on `config` and returns its output, its JSON and the JSON's GEMM rows.
    private func benchStep(_ config: String, steps: Int, rounds: Int,
                           file: StaticString = #filePath, line: UInt = #line) throws -> (ProcessResult, [String: Any], [[String: Any]]) {
        let json = dir + "/step.json"
        let result = Lockstep.run(["bench", "step", "--config", config, "--steps", "\(steps)", "--rounds", "\(rounds)", "--json", json],
                                  timeout: 120)
        assertSucceeded(result, "bench step \(config)", file: file, line: line)
        let r = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        return (result, r, try XCTUnwrap(r["gemms"] as? [[String: Any]]))
    }

    /// The tiny MLP's step: two forward GEMMs, the second layer's weight and input gradients,
    /// and the first layer's weight gradient (it needs no input gradient) in the bucket plan's
    /// row blocks of 13, 16 and 3 rows: 7 shapes, each called once; the rows add up to the floor.
    func testTheMLPsGEMMsAddUpToTheFloor() throws {
        let (result, r, gemms) = try benchStep(Tiny.config, steps: 3, rounds: 2)
        XCTAssertEqual(gemms.compactMap { $0["shape"] as? String },
                       ["32×32×64 NT", "32×4×32 NT", "4×32×32 TN", "32×32×4 NN", "13×64×32 TN", "16×64×32 TN", "3×64×32 TN"])
        XCTAssertEqual(gemms.map { $0["calls"] as? Int }, Array(repeating: 1, count: 7), "\(gemms)")
        let floor = try XCTUnwrap((r["gemm_floor_ms"] as? NSNumber)?.doubleValue)
        let sum = gemms.compactMap { ($0["ms"] as? NSNumber)?.doubleValue }.reduce(0, +)
        XCTAssertGreaterThan(floor, 0)
        XCTAssertEqual(sum, floor, accuracy: floor * 1e-9 + 1e-12, "the rows' times add up to the floor")
        let step = try XCTUnwrap((r["step_ms_median"] as? NSNumber)?.doubleValue)
        XCTAssertEqual(try XCTUnwrap((r["ratio"] as? NSNumber)?.doubleValue), step / floor, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap((r["predictions_per_s"] as? NSNumber)?.doubleValue),
                       try XCTUnwrap((r["samples_per_s"] as? NSNumber)?.doubleValue), "one prediction per image")
        XCTAssertTrue(result.stdout.contains("samples/s; peak RSS"), result.output)
    }

    /// A GPT's step repeats each block's shapes: a row counts its calls, and the rate is also
    /// given in tokens.
    func testAGPTsRowsCountTheirCallsAndItsRateIsInTokens() throws {
        let (result, r, gemms) = try benchStep(TinyGPT.config, steps: 2, rounds: 1)
        XCTAssertEqual(Set(gemms.compactMap { $0["shape"] as? String }).count, gemms.count, "one row per shape")
        XCTAssertTrue(gemms.contains { ($0["calls"] as? Int ?? 0) > 1 }, "the blocks share shapes: \(gemms)")
        let samples = try XCTUnwrap((r["samples_per_s"] as? NSNumber)?.doubleValue)
        XCTAssertEqual(try XCTUnwrap((r["predictions_per_s"] as? NSNumber)?.doubleValue), samples * 16, accuracy: samples * 1e-9,
                       "context 16: 16 tokens per sample")
        XCTAssertTrue(result.stdout.contains(" tokens/s; peak RSS"), result.output)
    }
}
