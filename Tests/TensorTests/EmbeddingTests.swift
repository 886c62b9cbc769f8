import Tensor
import TestSupport
import XCTest

/// Token and position embeddings: the gather forward, and the scatter-add backward with tokens
/// that repeat, into wider tables whose unused rows stay untouched.
final class EmbeddingTests: XCTestCase {
    func testGatherAndScatterAdd() {
        let vocab = 5, maxContext = 4, context = 3, c = 6, sequences = 2
        var rng = SeededGenerator(seed: 81)
        let wte = randomTensor([vocab * c], &rng), wpe = randomTensor([maxContext * c], &rng)
        let tokens: [Int32] = [4, 1, 4, 0, 4, 2, 3]  // one past the batch, never read
        let x = Tensor(zeros: [(sequences * context + 1) * c])
        x.fill(.nan)
        tokens.withUnsafeBufferPointer {
            embeddingForward(tokens: $0, tokenTable: Matrix(wte, rows: vocab, cols: c), positionTable: Matrix(wpe, rows: maxContext, cols: c),
                             sequences: sequences, context: context, into: x)
        }
        for row in 0..<(sequences * context) {
            for j in 0..<c {
                XCTAssertEqual(x[row * c + j], wte[Int(tokens[row]) * c + j] + wpe[(row % context) * c + j], "x[\(row), \(j)]")
            }
        }
        XCTAssertTrue(x.toArray()[(sequences * context * c)...].allSatisfy(\.isNaN), "rows past the batch")

        let dx = randomTensor([sequences * context * c], &rng)
        let dwte = randomTensor([vocab * c], &rng), dwpe = randomTensor([maxContext * c], &rng)
        var expectedWte = dwte.toArray().map(Double.init), expectedWpe = dwpe.toArray().map(Double.init)
        for row in 0..<(sequences * context) {
            for j in 0..<c {
                expectedWte[Int(tokens[row]) * c + j] += Double(dx[row * c + j])
                expectedWpe[(row % context) * c + j] += Double(dx[row * c + j])
            }
        }
        tokens.withUnsafeBufferPointer {
            embeddingBackward(dx, tokens: $0, sequences: sequences, context: context, tokenGradient: Matrix(dwte, rows: vocab, cols: c),
                              positionGradient: Matrix(dwpe, rows: maxContext, cols: c))
        }
        assertClose(dwte.toArray().map(Double.init), expectedWte, rtol: 1e-6, atol: 1e-6, "token gradient")
        assertClose(dwpe.toArray().map(Double.init), expectedWpe, rtol: 1e-6, atol: 1e-6, "position gradient")
        XCTAssertEqual(Array(dwpe.toArray()[(context * c)...]).map(Double.init), Array(expectedWpe[(context * c)...]),
                       "the unused position row is untouched")
    }

    /// Positions from `firstPosition` on: an incremental forward's new tokens.
    func testFromAFirstPosition() {
        let vocab = 5, maxContext = 6, c = 4
        var rng = SeededGenerator(seed: 82)
        let wte = randomTensor([vocab * c], &rng), wpe = randomTensor([maxContext * c], &rng)
        let tokens: [Int32] = [3, 0]
        let x = Tensor(zeros: [tokens.count * c])
        tokens.withUnsafeBufferPointer {
            embeddingForward(tokens: $0, tokenTable: Matrix(wte, rows: vocab, cols: c), positionTable: Matrix(wpe, rows: maxContext, cols: c),
                             sequences: 1, context: 2, firstPosition: 4, into: x)
        }
        for row in 0..<2 {
            for j in 0..<c { XCTAssertEqual(x[row * c + j], wte[Int(tokens[row]) * c + j] + wpe[(4 + row) * c + j], "x[\(row), \(j)]") }
        }
    }
}
