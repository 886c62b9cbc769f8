import Tensor
import TestSupport
import XCTest

/// The non-finite scan, reductions, the small elementwise kernels, and tensor views.
final class ElementwiseTests: XCTestCase {
    private func scan(_ values: [Float]) -> Int? {
        values.withUnsafeBufferPointer { firstNonFinite($0) }
    }

    func testFirstNonFinite() {
        XCTAssertNil(scan([]))
        let finite: [Float] = [0, -0, 1, -1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               .leastNonzeroMagnitude, -.leastNormalMagnitude, 3e38, -Float.leastNormalMagnitude / 4]
        XCTAssertNil(scan(finite))
        XCTAssertNil(scan([Float](repeating: 1.5, count: 1000)))
        for bad in [Float.nan, -.nan, .infinity, -.infinity, .signalingNaN] {
            for length in [1, 7, 1000] {
                for position in Set([0, length / 2, length - 1]) {
                    var values = (0..<length).map { Float($0) - 500 }
                    values[position] = bad
                    XCTAssertEqual(scan(values), position, "\(bad) at \(position) of \(length)")
                }
            }
        }
        var several = [Float](repeating: 2, count: 100)
        several[70] = .nan
        several[30] = -.infinity
        several[90] = .infinity
        XCTAssertEqual(scan(several), 30)
    }

    func testReductions() {
        let x = Tensor(shape: [6], values: [1.5, -4, 2, 0, 3.25, -1])
        XCTAssertEqual(sum(x), 1.75)
        XCTAssertEqual(maxAbs(x), 4)
        XCTAssertEqual(maxAbs(Tensor(zeros: [0])), 0)
        XCTAssertTrue(maxAbs(Tensor(shape: [3], values: [1, .nan, 2])).isNaN)
        XCTAssertTrue(maxAbs(Tensor(shape: [3], values: [.infinity, -.nan, 2])).isNaN, "NaN wins over Inf")
        XCTAssertEqual(maxAbs(Tensor(shape: [3], values: [1, -.infinity, 2])), .infinity)
        XCTAssertEqual(maxAbs(Tensor(shape: [2], values: [-0.0, -.leastNonzeroMagnitude])), .leastNonzeroMagnitude)
        XCTAssertEqual(maxAbs(Tensor(shape: [1], values: [-0.0])).bitPattern, 0, "+0, not -0")
        XCTAssertEqual(sum(Tensor(shape: [3], values: [1e8, 1, -1e8])), 1, "summed in Double")

        let m = Matrix(Tensor(shape: [12], values: [1, 3, 3, 0,
                                                    -2, -1, -1, 9,
                                                    5, 4, 5, 9]), start: 0, rows: 3, cols: 3, ld: 4)
        // The row maxima are at columns 1, 1 and 0: the first of equal maxima; column 3 is outside the window.
        for (labels, matches) in [([1, 1, 0], 3), ([2, 2, 2], 0), ([1, 3, 0], 2), ([0, 1, 2], 1)] as [([Int32], Int)] {
            XCTAssertEqual(labels.withUnsafeBufferPointer { countArgmaxMatches(m, labels: $0) }, matches, "labels \(labels)")
        }
    }

    func testAddBiasRowsOnAWindow() {
        var rng = SeededGenerator(seed: 41)
        let t = randomTensor([4 * 6], &rng)
        let bias = randomTensor([4], &rng)
        for relu in [false, true] {
            let m = Matrix(t, start: 0, rows: 3, cols: 4, ld: 6)
            let before = t.toArray()
            addBiasRows(m, bias: bias, relu: relu)
            for i in 0..<t.count {
                let r = i / 6, c = i % 6
                if r < 3 && c < 4 {
                    let z = before[i] + bias[c]
                    XCTAssertEqual(t[i], relu ? max(z, 0) : z)
                } else {
                    XCTAssertEqual(t[i], before[i], "element \(i) is outside the window")
                }
            }
        }
    }

    func testAddBiasAndResidualOnWindows() {
        var rng = SeededGenerator(seed: 42)
        let t = randomTensor([4 * 7], &rng), residual = randomTensor([3 * 5], &rng), bias = randomTensor([4], &rng)
        let m = Matrix(t, start: 7, rows: 3, cols: 4, ld: 7), res = Matrix(residual, start: 0, rows: 3, cols: 4, ld: 5)
        let before = t.toArray()
        addBiasAndResidual(m, bias: bias, residual: res)
        for i in 0..<t.count {
            let r = i / 7 - 1, c = i % 7
            if r >= 0 && c < 4 {
                XCTAssertEqual(t[i], before[i] + (bias[c] + residual[r * 5 + c]))
            } else {
                XCTAssertEqual(t[i], before[i], "element \(i) is outside the window")
            }
        }
    }

    func testReluAndItsBackward() {
        let x = Tensor(shape: [6], values: [-1, 0, 2, -0.5, 3, 7])
        let y = Tensor(zeros: [6])
        y.fill(9)
        relu(x, into: y, count: 5)
        XCTAssertEqual(y.toArray(), [0, 0, 2, 0, 3, 9])
        let dy = Tensor(shape: [6], values: [1, 2, 3, 4, 5, 6])
        let dx = Tensor(zeros: [6])
        dx.fill(9)
        reluBackward(dy, output: y, into: dx, count: 5)
        XCTAssertEqual(dx.toArray(), [0, 0, 3, 0, 5, 9])
        reluBackward(dy, output: y, into: dy, count: 6)
        XCTAssertEqual(dy.toArray(), [0, 0, 3, 0, 5, 6], "in place")
    }

    func testColumnSums() {
        let m = Matrix(Tensor(shape: [8], values: [1, 2, 100, 3, 4, 100, 5, 6]), start: 0, rows: 3, cols: 2, ld: 3)
        let sums = Tensor(shape: [2], values: [10, 20])
        accumulateColumnSums(m, into: Matrix(sums, rows: 1, cols: 2))
        XCTAssertEqual(sums.toArray(), [19, 32] as [Float], "10 + 1 + 3 + 5 and 20 + 2 + 4 + 6")
    }

    func testGatherNormalizedBytes() {
        let source: [UInt8] = [0, 255, 51, 1, 2, 3, 128, 64, 32]
        let rows = [2, 0]
        let dst = Tensor(zeros: [3 * 3])
        dst.fill(-7)
        source.withUnsafeBufferPointer { s in
            rows.withUnsafeBufferPointer { r in gatherNormalizedBytes(s, rowLength: 3, rows: r, into: dst) }
        }
        let expected: [Float] = [128, 64, 32, 0, 255, 51].map { Float($0) / 255 }
        for i in 0..<6 { XCTAssertEqual(dst[i], expected[i], accuracy: 1e-7) }
        XCTAssertEqual(Array(dst.toArray()[6...]), [-7, -7, -7])

        source.withUnsafeBufferPointer { s in
            [1].withUnsafeBufferPointer { r in gatherNormalizedBytes(s, rowLength: 3, rows: r, into: dst, scale: 2, shift: -1) }
        }
        XCTAssertEqual(Array(dst.toArray()[0..<3]), [1, 3, 5])

        // Two images of 3 channels × 2 pixels land channel-major: (channel, sample, pixel).
        let images: [UInt8] = [1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60]
        let planes = Tensor(zeros: [12])
        images.withUnsafeBufferPointer { s in
            [1, 0].withUnsafeBufferPointer { r in
                gatherNormalizedBytes(s, rowLength: 6, channels: 3, rows: r, into: planes, scale: 1, shift: 0)
            }
        }
        XCTAssertEqual(planes.toArray(), [10, 20, 1, 2, 30, 40, 3, 4, 50, 60, 5, 6])
    }

    func testViewsShareStorage() {
        let t = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let flat = t.reshaped([6])
        let tail = t.view(at: 2, shape: [2, 2])
        XCTAssertEqual(tail.toArray(), [3, 4, 5, 6])
        tail[1] = 40
        XCTAssertEqual(t[3], 40)
        XCTAssertEqual(flat[3], 40)
        tail.fill(0)
        XCTAssertEqual(t.toArray(), [1, 2, 0, 0, 0, 0])
        tail.assign([7, 8, 9, 10])
        XCTAssertEqual(flat.toArray(), [1, 2, 7, 8, 9, 10])
        XCTAssertEqual(tail.shape, [2, 2])
        XCTAssertEqual(tail.count, 4)
        XCTAssertEqual(Tensor.elementCount([3, 0, 2]), 0)
        let storage = TensorStorage(count: 5)
        XCTAssertEqual(Int(bitPattern: storage.base) % 64, 0, "64-byte aligned")
        XCTAssertEqual(Array(UnsafeBufferPointer(start: storage.base, count: 5)), [0, 0, 0, 0, 0])
    }

    func testSeededGeneratorIsDeterministicAndUniform() {
        var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5), c = SeededGenerator(seed: 6)
        let first = (0..<4).map { _ in a.next() }
        XCTAssertEqual(first, (0..<4).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<4).map { _ in c.next() })
        var copy = a
        XCTAssertEqual(copy, a)
        XCTAssertEqual(copy.next(), a.next(), "a copy continues the same sequence")

        var rng = SeededGenerator(seed: 77)
        var total = 0.0, low = Float.infinity, high = -Float.infinity
        let n = 100_000
        for _ in 0..<n {
            let u = rng.uniform(-2, 3)
            total += Double(u)
            low = min(low, u)
            high = max(high, u)
        }
        XCTAssertGreaterThanOrEqual(low, -2)
        XCTAssertLessThan(high, 3)
        XCTAssertLessThan(low, -1.99)
        XCTAssertGreaterThan(high, 2.99)
        // The mean of U(-2, 3) is 0.5, with a standard error of 5/√(12n) ≈ 0.0046.
        XCTAssertEqual(total / Double(n), 0.5, accuracy: 0.025)
    }
}
