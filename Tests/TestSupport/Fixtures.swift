import Foundation
import XCTest

/// Reference data that a test target ships in its `Fixtures` folder (`.copy("Fixtures")`),
/// written by scripts/fixtures/make_fixtures.py.
public enum Fixtures {
    /// Why a fixture could not be read.
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// The URL of `Fixtures/name` in `bundle` (the test target's `Bundle.module`).
    public static func url(_ name: String, in bundle: Bundle) throws -> URL {
        guard let url = bundle.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw Missing(description: "fixture Fixtures/\(name) is not in \(bundle.bundlePath); run /usr/bin/python3 scripts/fixtures/make_fixtures.py")
        }
        return url
    }

    /// Decodes the JSON file `Fixtures/name` of `bundle` as `T`.
    public static func load<T: Decodable>(_ type: T.Type, _ name: String, in bundle: Bundle) throws -> T {
        let data = try Data(contentsOf: try url(name, in: bundle))
        return try JSONDecoder().decode(T.self, from: data)
    }
}

/// Asserts that `body` throws an error whose description is exactly `expected`.
public func assertThrows<T>(_ expected: String, file: StaticString = #filePath, line: UInt = #line,
                            _ body: () throws -> T) {
    do {
        let value = try body()
        XCTFail("expected the error \"\(expected)\", got the value \(value)", file: file, line: line)
    } catch {
        XCTAssertEqual(String(describing: error), expected, file: file, line: line)
    }
}

/// The worst element of `actual` against `expected` under `|a - e| ≤ atol + rtol·|e|`, as a
/// message, or nil when every element passes. For checks that must also be shown to fail.
public func closenessFailure(_ actual: [Double], _ expected: [Double], rtol: Double, atol: Double) -> String? {
    guard actual.count == expected.count else { return "\(actual.count) values, expected \(expected.count)" }
    var worst = -1
    var worstExcess = 0.0
    for i in actual.indices {
        let excess = abs(actual[i] - expected[i]) - (atol + rtol * abs(expected[i]))
        if !(excess <= 0) && (worst < 0 || !(excess <= worstExcess)) {
            worst = i
            worstExcess = excess
        }
    }
    guard worst >= 0 else { return nil }
    return "element \(worst) is \(actual[worst]), expected \(expected[worst]) (rtol \(rtol), atol \(atol))"
}

/// Asserts that `actual` and `expected` agree elementwise within `|a - e| ≤ atol + rtol·|e|`.
public func assertClose(_ actual: [Double], _ expected: [Double], rtol: Double = 1e-4, atol: Double = 1e-6,
                        _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    if let failure = closenessFailure(actual, expected, rtol: rtol, atol: atol) {
        XCTFail("\(message()): \(failure)", file: file, line: line)
    }
}

/// The largest |x|, or 0 for no values.
public func maxMagnitude(_ x: [Double]) -> Double { x.reduce(0) { max($0, abs($1)) } }

/// ‖a - b‖₂ / ‖b‖₂ (or ‖a - b‖₂ when b is zero).
public func relativeDistance(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "relativeDistance: \(a.count) vs \(b.count) values")
    var diff = 0.0, norm = 0.0
    for i in a.indices {
        diff += (a[i] - b[i]) * (a[i] - b[i])
        norm += b[i] * b[i]
    }
    return norm > 0 ? (diff / norm).squareRoot() : diff.squareRoot()
}
