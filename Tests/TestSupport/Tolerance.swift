import XCTest

/// Asserts that `actual` and `expected` agree elementwise within `|a - e| ≤ atol + rtol·|e|`,
/// reporting the worst element.
public func assertClose(_ actual: [Float], _ expected: [Float], rtol: Float = 1e-4, atol: Float = 1e-6,
                        _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(message()): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    var worst = -1
    var worstExcess: Float = 0
    for i in actual.indices {
        let excess = abs(actual[i] - expected[i]) - (atol + rtol * abs(expected[i]))
        if !(excess <= 0) && (worst < 0 || !(excess <= worstExcess)) {
            worst = i
            worstExcess = excess
        }
    }
    if worst >= 0 {
        XCTFail("\(message()): element \(worst) is \(actual[worst]), expected \(expected[worst]) (rtol \(rtol), atol \(atol))",
                file: file, line: line)
    }
}

/// The same for one value.
public func assertClose(_ actual: Double, _ expected: Double, rtol: Double = 1e-4, atol: Double = 1e-6,
                        _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    if !(abs(actual - expected) <= atol + rtol * abs(expected)) {
        XCTFail("\(message()): \(actual), expected \(expected) (rtol \(rtol), atol \(atol))", file: file, line: line)
    }
}
