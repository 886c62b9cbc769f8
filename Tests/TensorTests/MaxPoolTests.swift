import Tensor
import TestSupport
import XCTest

/// Max pooling against a direct search of each window, with ties, padding and NaN, and its
/// backward against routing each gradient to the winner found independently.
final class MaxPoolTests: XCTestCase {
    private let geometries = [
        ConvGeometry(channels: 2, height: 6, width: 6, kernel: 2, stride: 2, padding: 0),
        ConvGeometry(channels: 2, height: 7, width: 5, kernel: 2, stride: 2, padding: 0),
        ConvGeometry(channels: 1, height: 7, width: 6, kernel: 3, stride: 2, padding: 1),
        ConvGeometry(channels: 3, height: 5, width: 5, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(channels: 1, height: 6, width: 7, kernel: 2, stride: 1, padding: 1),
        // 2×2 windows in vectors of eight: rows of 14 (two overlapping blocks), 8 (one), 7 and 5
        // (one block reaching into the next row, the last row one by one).
        ConvGeometry(channels: 2, height: 4, width: 28, kernel: 2, stride: 2, padding: 0),
        ConvGeometry(channels: 1, height: 4, width: 16, kernel: 2, stride: 2, padding: 0),
        ConvGeometry(channels: 3, height: 6, width: 14, kernel: 2, stride: 2, padding: 0),
        ConvGeometry(channels: 2, height: 5, width: 10, kernel: 2, stride: 2, padding: 0),
    ]

    /// The winner of each window as PyTorch picks it: the largest value, the first in row-major
    /// order among equals, NaN over anything; padding never wins.
    private func reference(_ x: Tensor, batch: Int, _ g: ConvGeometry) -> (values: [Float], index: [Int]) {
        var values: [Float] = [], index: [Int] = []
        for plane in 0..<(batch * g.channels) {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    var best: Float? = nil, bestIndex = -1
                    for i in 0..<g.kernel {
                        for j in 0..<g.kernel {
                            let y = oy * g.stride - g.padding + i, xx = ox * g.stride - g.padding + j
                            guard y >= 0, y < g.height, xx >= 0, xx < g.width else { continue }
                            let v = x[plane * g.height * g.width + y * g.width + xx]
                            if best == nil || v.isNaN || (!best!.isNaN && v > best!) {
                                best = v
                                bestIndex = y * g.width + xx
                            }
                        }
                    }
                    values.append(best!)
                    index.append(bestIndex)
                }
            }
        }
        return (values, index)
    }

    /// Values from a small set of integers, negative ones included, so that windows tie often
    /// and windows at the padding hold only negative values.
    private func tiedInput(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let x = Tensor(zeros: shape)
        for i in 0..<x.count { x[i] = Float(Int(rng.next() % 4)) - 3 }
        return x
    }

    func testForwardPicksTheFirstLargestValue() {
        for (n, g) in geometries.enumerated() {
            let batch = 2
            let x = tiedInput([batch + 1, g.channels, g.height, g.width], seed: UInt64(n))
            let outCount = batch * g.channels * g.outputPlane
            let y = Tensor(zeros: [batch + 1, g.channels, g.outHeight, g.outWidth])
            y.fill(99)
            let argmax = UnsafeMutableBufferPointer<Int32>.allocate(capacity: outCount)
            defer { argmax.deallocate() }
            maxPoolForward(x, planes: 0..<batch * g.channels, geometry: g, into: y, argmax: argmax)
            let (values, index) = reference(x, batch: batch, g)
            XCTAssertEqual(Array(y.toArray()[0..<outCount]), values, "\(g)")
            XCTAssertEqual(argmax.map(Int.init), index, "\(g)")
            XCTAssertEqual(Array(y.toArray()[outCount...]), [Float](repeating: 99, count: g.channels * g.outputPlane),
                           "only the first \(batch) images are pooled")
        }
    }

    func testNaNWins() {
        let g = ConvGeometry(channels: 1, height: 4, width: 4, kernel: 2, stride: 2)
        let x = Tensor(shape: [1, 1, 4, 4], values: [1, 2, 5, 6,
                                                     3, .nan, 7, 8,
                                                     -1, -2, .infinity, 0,
                                                     -3, -4, 1, 2])
        let y = Tensor(zeros: [1, 1, 2, 2])
        let argmax = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 4)
        defer { argmax.deallocate() }
        maxPoolForward(x, planes: 0..<1, geometry: g, into: y, argmax: argmax)
        let (values, index) = reference(x, batch: 1, g)
        XCTAssertTrue(y[0].isNaN)
        XCTAssertEqual(Array(y.toArray()[1...]), Array(values[1...]))
        XCTAssertEqual(argmax.map(Int.init), index)
        XCTAssertEqual(index, [5, 7, 8, 10])
    }

    /// A NaN at every position of planes whose rows are pooled in vectors (14 and 7 outputs
    /// wide): it wins its window, and every other window is pooled as without it.
    func testNaNWinsAtEveryPositionOfAVectorRow() {
        for g in [ConvGeometry(channels: 1, height: 4, width: 28, kernel: 2, stride: 2, padding: 0),
                  ConvGeometry(channels: 2, height: 4, width: 14, kernel: 2, stride: 2, padding: 0)] {
            let planes = g.channels, inPlane = g.height * g.width, outCount = planes * g.outputPlane
            let argmax = UnsafeMutableBufferPointer<Int32>.allocate(capacity: outCount)
            defer { argmax.deallocate() }
            for position in 0..<(planes * inPlane) {
                let x = tiedInput([1, g.channels, g.height, g.width], seed: UInt64(position))
                x[position] = .nan
                let y = Tensor(zeros: [1, g.channels, g.outHeight, g.outWidth])
                maxPoolForward(x, planes: 0..<planes, geometry: g, into: y, argmax: argmax)
                let (values, index) = reference(x, batch: 1, g)
                XCTAssertEqual(y.toArray().map(\.bitPattern), values.map(\.bitPattern), "\(g), NaN at \(position)")
                XCTAssertEqual(argmax.map(Int.init), index, "\(g), NaN at \(position)")
            }
        }
    }

    /// A NaN whose row holds negative values: their sign bits must not hide it.
    func testNaNAmongNegativesWins() {
        let g = ConvGeometry(channels: 1, height: 2, width: 4, kernel: 2, stride: 2)
        let x = Tensor(shape: [1, 1, 2, 4], values: [-1, .nan, -5, -6,
                                                     -2, -3, -7, -8])
        let y = Tensor(zeros: [1, 1, 1, 2])
        let argmax = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 2)
        defer { argmax.deallocate() }
        maxPoolForward(x, planes: 0..<1, geometry: g, into: y, argmax: argmax)
        XCTAssertTrue(y[0].isNaN, "\(y.toArray())")
        XCTAssertEqual(y[1], -5)
        XCTAssertEqual(argmax.map(Int.init), [1, 2])
    }

    func testBackwardRoutesToTheWinnerAndAccumulatesOverlaps() {
        var rng = SeededGenerator(seed: 21)
        for (n, g) in geometries.enumerated() {
            let batch = 2
            let x = tiedInput([batch, g.channels, g.height, g.width], seed: UInt64(100 + n))
            let outCount = batch * g.channels * g.outputPlane
            let y = Tensor(zeros: [batch, g.channels, g.outHeight, g.outWidth])
            let argmax = UnsafeMutableBufferPointer<Int32>.allocate(capacity: outCount)
            defer { argmax.deallocate() }
            maxPoolForward(x, planes: 0..<batch * g.channels, geometry: g, into: y, argmax: argmax)
            let dy = randomTensor(y.shape, &rng)
            let dx = Tensor(zeros: x.shape)
            dx.fill(5)  // overwritten, not accumulated into
            maxPoolBackward(dy, argmax: UnsafeBufferPointer(argmax), planes: 0..<batch * g.channels, geometry: g, into: dx)

            let (_, index) = reference(x, batch: batch, g)
            var expected = [Double](repeating: 0, count: x.count)
            let inPlane = g.height * g.width
            for q in 0..<outCount {
                let plane = q / g.outputPlane
                expected[plane * inPlane + index[q]] += Double(dy[q])
            }
            assertClose(dx.toArray().doubles, expected, rtol: 1e-6, atol: 1e-6, "\(g)")
        }
    }

    /// A range of planes, as a convolution pools one group of images at a time: only those
    /// planes of y, argmax and dx are written, and they match pooling everything at once.
    func testPlaneRangeTouchesOnlyItsPlanes() {
        var rng = SeededGenerator(seed: 22)
        for (n, g) in geometries.enumerated() {
            let planes = 3 * g.channels, part = 1..<(planes - 1)
            let x = tiedInput([planes, g.height, g.width], seed: UInt64(200 + n))
            let whole = Tensor(zeros: [planes, g.outHeight, g.outWidth]), some = Tensor(zeros: whole.shape)
            some.fill(99)
            let allArgmax = UnsafeMutableBufferPointer<Int32>.allocate(capacity: whole.count)
            let someArgmax = UnsafeMutableBufferPointer<Int32>.allocate(capacity: whole.count)
            defer { allArgmax.deallocate(); someArgmax.deallocate() }
            someArgmax.initialize(repeating: -7)
            maxPoolForward(x, planes: 0..<planes, geometry: g, into: whole, argmax: allArgmax)
            maxPoolForward(x, planes: part, geometry: g, into: some, argmax: someArgmax)
            let outPlane = g.outputPlane, inPlane = g.height * g.width
            for plane in 0..<planes {
                let outputs = (plane * outPlane)..<((plane + 1) * outPlane)
                if part.contains(plane) {
                    XCTAssertEqual(Array(some.toArray()[outputs]), Array(whole.toArray()[outputs]), "\(g) plane \(plane)")
                    XCTAssertEqual(Array(someArgmax[outputs]), Array(allArgmax[outputs]), "\(g) plane \(plane)")
                } else {
                    XCTAssertEqual(Array(some.toArray()[outputs]), [Float](repeating: 99, count: outPlane), "\(g) plane \(plane)")
                    XCTAssertEqual(Array(someArgmax[outputs]), [Int32](repeating: -7, count: outPlane), "\(g) plane \(plane)")
                }
            }

            let dy = randomTensor(whole.shape, &rng)
            let dxAll = Tensor(zeros: x.shape), dxSome = Tensor(zeros: x.shape)
            dxSome.fill(5)
            maxPoolBackward(dy, argmax: UnsafeBufferPointer(allArgmax), planes: 0..<planes, geometry: g, into: dxAll)
            maxPoolBackward(dy, argmax: UnsafeBufferPointer(allArgmax), planes: part, geometry: g, into: dxSome)
            for plane in 0..<planes {
                let inputs = (plane * inPlane)..<((plane + 1) * inPlane)
                let expected = part.contains(plane) ? Array(dxAll.toArray()[inputs]) : [Float](repeating: 5, count: inPlane)
                XCTAssertEqual(Array(dxSome.toArray()[inputs]), expected, "\(g) plane \(plane)")
            }
        }
    }
}
