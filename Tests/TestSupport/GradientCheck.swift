import XCTest

/// Compares an analytic gradient with central finite differences: each element within
/// `atol + rtol·|numeric|`, the whole vector within `normTolerance` relative distance, and the
/// same check must fail on the analytic gradient scaled by 1.03, so that a gradient wrong by 3%
/// cannot pass. Entries of `numeric` that are nil (a stencil across a ReLU kink) are left out;
/// at least `minimumChecked` of them must be defined, and the largest must exceed 1e-2.
public func checkGradient(_ analytic: [Double], _ numeric: [Double?], _ label: String, minimumChecked: Double = 1,
                          atol: Double = 2e-4, rtol: Double = 1e-2, normTolerance: Double = 2e-3,
                          file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(analytic.count, numeric.count, label, file: file, line: line)
    let pairs = zip(analytic, numeric).compactMap { a, n in n.map { (a, $0) } }
    let a = pairs.map(\.0), n = pairs.map(\.1)
    XCTAssertGreaterThanOrEqual(Double(pairs.count), minimumChecked * Double(numeric.count),
                                "\(label): too many elements at a ReLU kink", file: file, line: line)
    XCTAssertGreaterThan(maxMagnitude(n), 1e-2, "\(label): the gradient is too small to test", file: file, line: line)
    if let failure = closenessFailure(a, n, rtol: rtol, atol: atol) {
        XCTFail("\(label): \(failure)", file: file, line: line)
    }
    let distance = relativeDistance(a, n)
    XCTAssertLessThan(distance, normTolerance, "\(label): relative distance", file: file, line: line)
    // The same check must reject a gradient that is 3% off.
    let wrong = a.map { $0 * 1.03 }
    XCTAssertTrue(closenessFailure(wrong, n, rtol: rtol, atol: atol) != nil || relativeDistance(wrong, n) >= normTolerance,
                  "\(label): the check cannot see a 3% error", file: file, line: line)
}
