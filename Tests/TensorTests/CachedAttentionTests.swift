import Tensor
import TestSupport
import XCTest

/// The attention of new positions over a key-value cache gives the rows that the whole
/// sequence's forward gives, for positions appended one at a time and in runs of several, and
/// writes nothing outside the new rows of the cache, P and y.
final class CachedAttentionTests: XCTestCase {
    private let context = 9, heads = 3, embed = 12

    /// Appends a sequence's positions in runs of `runs` lengths and checks each run's y and P
    /// rows against `forward` over the whole sequence.
    private func check(runs: [Int], seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        let attention = CausalSelfAttention(context: context, heads: heads, embed: embed, tile: 4)
        var rng = SeededGenerator(seed: seed)
        let qkv = randomTensor([context * 3 * embed], &rng, -2, 2)
        let whole = Tensor(zeros: [context * embed]), wholeP = Tensor(zeros: [attention.probabilitiesPerSequence])
        attention.forward(qkv: qkv, probabilities: wholeP, into: whole, batch: 1)

        let keys = Tensor(zeros: [attention.cacheCount]), values = Tensor(zeros: [attention.cacheCount])
        let p = Tensor(zeros: [attention.probabilitiesPerSequence]), y = Tensor(zeros: [(context + 1) * embed])
        for t in [keys, values, p, y] { t.fill(.nan) }
        var start = 0
        for n in runs {
            y.fill(.nan)
            let rows = Matrix(qkv, start: start * 3 * embed, rows: n, cols: 3 * embed, ld: 3 * embed)
            attention.forward(appending: rows, at: start, keys: keys, values: values, probabilities: p,
                              into: Matrix(y, rows: n, cols: embed))
            let got = Array(y.toArray()[0..<(n * embed)])
            let expected = Array(whole.toArray()[(start * embed)..<((start + n) * embed)])
            assertClose(got, expected, rtol: 1e-5, atol: 1e-6, "y of positions \(start)..<\(start + n)", file: file, line: line)
            XCTAssertTrue(y.toArray()[(n * embed)...].allSatisfy(\.isNaN), "y past the new rows", file: file, line: line)
            for h in 0..<heads {
                for i in start..<(start + n) {
                    let row = (h * context + i) * context
                    assertClose(Array(p.toArray()[row...(row + i)]), Array(wholeP.toArray()[row...(row + i)]), rtol: 1e-5,
                                atol: 1e-7, "P row \(i) of head \(h)", file: file, line: line)
                }
            }
            start += n
        }
        // Each head's cache holds k and v of every position, in (heads, T, hs).
        let hs = embed / heads
        for h in 0..<heads {
            for t in 0..<start {
                for d in 0..<hs {
                    XCTAssertEqual(keys[(h * context + t) * hs + d], qkv[t * 3 * embed + embed + h * hs + d], file: file, line: line)
                    XCTAssertEqual(values[(h * context + t) * hs + d], qkv[t * 3 * embed + 2 * embed + h * hs + d], file: file, line: line)
                }
            }
        }
        XCTAssertTrue(keys.toArray().enumerated().allSatisfy { ($0.offset % (context * hs)) / hs < start || $0.element.isNaN },
                      "keys past the positions appended", file: file, line: line)
    }

    func testOnePositionAtATime() {
        check(runs: Array(repeating: 1, count: context), seed: 81)
    }

    func testRunsOfSeveralPositions() {
        check(runs: [4, 1, 3, 1], seed: 82)
        check(runs: [context], seed: 83)
        check(runs: [2, 5], seed: 84)
    }
}
