import NN
import XCTest

/// `LRSchedule` against values worked out by hand from its documented formulas.
final class LRScheduleTests: XCTestCase {
    private func rates(_ s: LRSchedule, _ steps: [Int]) -> [Float] { steps.map { s.lr(at: $0) } }

    private func assertRates(_ actual: [Float], _ expected: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            XCTAssertEqual(Double(a), e, accuracy: 1e-7 + 1e-6 * abs(e), "rate \(i)", file: file, line: line)
        }
    }

    func testConstant() {
        let s = LRSchedule(lr: 0.05, decay: .constant, warmupSteps: 0, totalSteps: 100, scaling: nil)
        assertRates(rates(s, [0, 1, 99, 1000]), [0.05, 0.05, 0.05, 0.05])
    }

    func testLinearWarmupThenConstant() {
        let s = LRSchedule(lr: 0.1, decay: .constant, warmupSteps: 5, totalSteps: 100, scaling: nil)
        // base · (step + 1) / 5 over steps 0…4, then base.
        assertRates(rates(s, [0, 1, 2, 3, 4, 5, 50]), [0.02, 0.04, 0.06, 0.08, 0.1, 0.1, 0.1])
    }

    func testStepDecay() {
        let s = LRSchedule(lr: 0.1, decay: .step(every: 10, gamma: 0.5), warmupSteps: 0, totalSteps: 100, scaling: nil)
        assertRates(rates(s, [0, 9, 10, 19, 20, 35]), [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125])
        // With warmup, the step count is the optimizer step, warmup included.
        let w = LRSchedule(lr: 0.1, decay: .step(every: 10, gamma: 0.1), warmupSteps: 4, totalSteps: 100, scaling: nil)
        assertRates(rates(w, [0, 3, 4, 9, 10, 20]), [0.025, 0.1, 0.1, 0.1, 0.01, 0.001])
    }

    func testCosine() {
        let s = LRSchedule(lr: 0.1, decay: .cosine(minLR: 0), warmupSteps: 0, totalSteps: 100, scaling: nil)
        // 0.1 · ½(1 + cos(π·t/100)): cos(π/4) = √2/2, cos(3π/4) = -√2/2.
        let half = 0.5 * 2.0.squareRoot() / 2
        assertRates(rates(s, [0, 25, 50, 75, 100, 150]),
                    [0.1, 0.05 + 0.1 * half, 0.05, 0.05 - 0.1 * half, 0, 0])

        let m = LRSchedule(lr: 0.1, decay: .cosine(minLR: 0.01), warmupSteps: 10, totalSteps: 110, scaling: nil)
        // Warmup to 0.1 over 10 steps, then 0.01 + 0.09 · ½(1 + cos(π·(step - 10)/100)).
        assertRates(rates(m, [0, 9, 10, 60, 110, 200]), [0.01, 0.1, 0.1, 0.055, 0.01, 0.01])
    }

    func testLinearScaling() {
        let s = LRSchedule(lr: 0.05, decay: .constant, warmupSteps: 0, totalSteps: 10, scaling: (globalBatch: 512, baseBatch: 128))
        XCTAssertEqual(s.base, 0.2, accuracy: 1e-12)
        assertRates(rates(s, [0, 9]), [0.2, 0.2])
        let w = LRSchedule(lr: 0.1, decay: .cosine(minLR: 0), warmupSteps: 2, totalSteps: 6,
                           scaling: (globalBatch: 64, baseBatch: 128))
        // base 0.05: warmup 0.025, 0.05, then 0.05 · ½(1 + cos(π·(step - 2)/4)).
        assertRates(rates(w, [0, 1, 2, 4, 6]), [0.025, 0.05, 0.05, 0.025, 0])
    }
}
