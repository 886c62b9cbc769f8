import Tensor
import TestSupport
import XCTest

/// im2col and col2im on channel-major images (C, B, H, W) against a direct convolution, their
/// adjoint identity, over whole batches and groups of images, and the convolution epilogues.
final class ConvGeometryTests: XCTestCase {
    /// Geometries with and without padding, strides 1–3, kernels 1–5 and non-square inputs.
    private let geometries = [
        ConvGeometry(channels: 2, height: 5, width: 7, kernel: 3, stride: 1, padding: 1),
        ConvGeometry(channels: 3, height: 6, width: 5, kernel: 3, stride: 2, padding: 1),
        ConvGeometry(channels: 1, height: 7, width: 7, kernel: 5, stride: 3, padding: 2),
        ConvGeometry(channels: 2, height: 4, width: 4, kernel: 1, stride: 1, padding: 0),
        ConvGeometry(channels: 2, height: 5, width: 6, kernel: 2, stride: 2, padding: 0),
        ConvGeometry(channels: 1, height: 3, width: 4, kernel: 3, stride: 1, padding: 2),
        // "Same" width at stride 1, which unfolds each patch row as one shifted copy.
        ConvGeometry(channels: 2, height: 6, width: 5, kernel: 5, stride: 1, padding: 2),
        ConvGeometry(channels: 1, height: 4, width: 2, kernel: 3, stride: 1, padding: 1),
    ]

    func testOutputSizesFollowPyTorch() {
        // floor((H + 2p - k) / s) + 1, as torch.nn.Conv2d documents it.
        for g in geometries {
            XCTAssertEqual(g.outHeight, Int((Double(g.height + 2 * g.padding - g.kernel) / Double(g.stride)).rounded(.down)) + 1)
            XCTAssertEqual(g.outWidth, Int((Double(g.width + 2 * g.padding - g.kernel) / Double(g.stride)).rounded(.down)) + 1)
            XCTAssertTrue(g.isValid)
        }
        XCTAssertEqual(ConvGeometry(channels: 1, height: 28, width: 28, kernel: 3, stride: 1, padding: 1).outputPlane, 784)
        XCTAssertEqual(ConvGeometry(channels: 32, height: 28, width: 28, kernel: 2, stride: 2).outputPlane, 196)
        XCTAssertFalse(ConvGeometry(channels: 1, height: 2, width: 5, kernel: 3).isValid)
        XCTAssertTrue(ConvGeometry(channels: 1, height: 2, width: 5, kernel: 3, padding: 1).isValid)
        XCTAssertFalse(ConvGeometry(channels: 1, height: 4, width: 4, kernel: 3, stride: 0).isValid)
        XCTAssertFalse(ConvGeometry(channels: 0, height: 4, width: 4, kernel: 3).isValid)
    }

    /// x[c, b, y, x] of a channel-major batch of `batch` images, with zero outside the image.
    private func pixel(_ x: Tensor, _ g: ConvGeometry, batch: Int, _ b: Int, _ c: Int, _ y: Int, _ xx: Int) -> Double {
        guard y >= 0, y < g.height, xx >= 0, xx < g.width else { return 0 }
        return Double(x[((c * batch + b) * g.height + y) * g.width + xx])
    }

    func testIm2colTimesWeightsIsTheDirectConvolution() {
        var rng = SeededGenerator(seed: 11)
        let outChannels = 4
        for g in geometries {
            let batch = 3, capacity = 4
            let x = randomTensor([g.channels, capacity, g.height, g.width], &rng)
            let w = randomTensor([outChannels, g.channels, g.kernel, g.kernel], &rng)
            let n = batch * g.outputPlane
            let col = Tensor(zeros: [g.patchSize, n])
            im2col(x, batch: batch, samples: 0..<batch, geometry: g, into: col)
            // A group of images unfolds to the same columns as the whole batch has for them.
            let group = Tensor(zeros: [g.patchSize, 2 * g.outputPlane])
            im2col(x, batch: batch, samples: 1..<3, geometry: g, into: group)
            for row in 0..<g.patchSize {
                let whole = Array(col.toArray()[(row * n + g.outputPlane)..<(row * n + n)])
                let part = Array(group.toArray()[(row * 2 * g.outputPlane)..<((row + 1) * 2 * g.outputPlane)])
                XCTAssertEqual(part, whole, "\(g): row \(row) of images 1..<3")
            }

            // Each column entry is the documented pixel.
            let k = g.kernel
            for c in 0..<g.channels {
                for i in 0..<k {
                    for j in 0..<k {
                        for b in 0..<batch {
                            for oy in 0..<g.outHeight {
                                for ox in 0..<g.outWidth {
                                    let row = (c * k + i) * k + j, column = (b * g.outHeight + oy) * g.outWidth + ox
                                    let expected = pixel(x, g, batch: batch, b, c, oy * g.stride - g.padding + i, ox * g.stride - g.padding + j)
                                    if Double(col[row * n + column]) != expected {
                                        XCTFail("\(g): col[\(row), \(column)] is \(col[row * n + column]), expected \(expected)")
                                        return
                                    }
                                }
                            }
                        }
                    }
                }
            }

            // W (out, C·k·k) · col = the convolution, laid out (out, B·OH·OW).
            let y = Tensor(zeros: [outChannels, n])
            gemm(Matrix(w, rows: outChannels, cols: g.patchSize), .none, Matrix(col, rows: g.patchSize, cols: n), .none,
                 into: Matrix(y, rows: outChannels, cols: n))
            var expected: [Double] = [], actual: [Double] = []
            for o in 0..<outChannels {
                for b in 0..<batch {
                    for oy in 0..<g.outHeight {
                        for ox in 0..<g.outWidth {
                            var s = 0.0
                            for c in 0..<g.channels {
                                for i in 0..<k {
                                    for j in 0..<k {
                                        s += Double(w[((o * g.channels + c) * k + i) * k + j])
                                            * pixel(x, g, batch: batch, b, c, oy * g.stride - g.padding + i, ox * g.stride - g.padding + j)
                                    }
                                }
                            }
                            expected.append(s)
                            actual.append(Double(y[o * n + (b * g.outHeight + oy) * g.outWidth + ox]))
                        }
                    }
                }
            }
            assertClose(actual, expected, rtol: 1e-5, atol: 1e-5, "convolution \(g)")
        }
    }

    func testCol2imIsTheAdjointOfIm2col() {
        var rng = SeededGenerator(seed: 12)
        for g in geometries {
            for batch in [1, 3] {
                let x = randomTensor([g.channels, batch, g.height, g.width], &rng)
                let c = randomTensor([g.patchSize, batch * g.outputPlane], &rng)
                let unfolded = Tensor(zeros: c.shape)
                let folded = Tensor(zeros: x.shape)
                folded.fill(7)  // col2im overwrites, it does not accumulate into old contents
                im2col(x, batch: batch, samples: 0..<batch, geometry: g, into: unfolded)
                col2im(c, batch: batch, samples: 0..<batch, geometry: g, into: folded)
                let lhs = dot(unfolded, c, count: c.count)
                let rhs = dot(x, folded, count: x.count)
                XCTAssertEqual(lhs, rhs, accuracy: 1e-5 * max(1, abs(lhs)), "⟨im2col(x), c⟩ vs ⟨x, col2im(c)⟩ for \(g), batch \(batch)")
            }
        }
    }

    /// A group inside the batch on the "same" width path, which unfolds and folds the whole
    /// group at once: still the adjoint of im2col there, and the other images are left alone.
    func testSameWidthGroupIsTheAdjointAndLeavesOtherImagesAlone() {
        var rng = SeededGenerator(seed: 14)
        for g in geometries where g.stride == 1 && g.outWidth == g.width {
            let batch = 4, samples = 1..<3, image = g.height * g.width
            let x = randomTensor([g.channels, batch, g.height, g.width], &rng)
            let c = randomTensor([g.patchSize, samples.count * g.outputPlane], &rng)
            let unfolded = Tensor(zeros: c.shape)
            im2col(x, batch: batch, samples: samples, geometry: g, into: unfolded)
            let lhs = dot(unfolded, c, count: c.count)
            let folded = Tensor(zeros: x.shape)
            folded.fill(7)
            col2im(c, batch: batch, samples: samples, geometry: g, into: folded)
            var rhs = 0.0
            for ch in 0..<g.channels {
                for b in 0..<batch {
                    let plane = (ch * batch + b) * image
                    if samples.contains(b) {
                        for t in 0..<image { rhs += Double(x[plane + t]) * Double(folded[plane + t]) }
                    } else {
                        XCTAssertEqual(Array(folded.toArray()[plane..<(plane + image)]), [Float](repeating: 7, count: image),
                                       "\(g): channel \(ch), image \(b) is outside the group")
                    }
                }
            }
            XCTAssertEqual(lhs, rhs, accuracy: 1e-5 * max(1, abs(lhs)), "⟨im2col(x), c⟩ vs ⟨x, col2im(c)⟩ for \(g), images \(samples)")
        }
    }

    func testCol2imSumsOverlappingPatchesAndLeavesOtherImagesAlone() {
        let g = ConvGeometry(channels: 2, height: 3, width: 3, kernel: 2, stride: 1, padding: 0)
        // Every column entry 1: each pixel receives the number of windows that cover it.
        let col = Tensor(zeros: [g.patchSize, 2 * g.outputPlane])
        col.fill(1)
        let dx = Tensor(zeros: [2, 3, 3, 3])  // (C, B, H, W) with B = 3
        dx.fill(-1)
        col2im(col, batch: 3, samples: 1..<3, geometry: g, into: dx)
        let coverage: [Float] = [1, 2, 1, 2, 4, 2, 1, 2, 1]
        let untouched = [Float](repeating: -1, count: 9)
        for c in 0..<2 {
            XCTAssertEqual(Array(dx.toArray()[((c * 3) * 9)..<((c * 3 + 1) * 9)]), untouched, "channel \(c), image 0")
            XCTAssertEqual(Array(dx.toArray()[((c * 3 + 1) * 9)..<((c * 3 + 2) * 9)]), coverage, "channel \(c), image 1")
            XCTAssertEqual(Array(dx.toArray()[((c * 3 + 2) * 9)..<((c * 3 + 3) * 9)]), coverage, "channel \(c), image 2")
        }
    }

    func testBiasPerRowAndItsBackward() {
        var rng = SeededGenerator(seed: 13)
        let (rows, cols, ld) = (3, 7, 9)
        let m = randomTensor([rows, ld], &rng)
        let bias = randomTensor([rows], &rng)
        for relu in [false, true] {
            let y = Tensor(zeros: m.shape)
            y.assign(m)
            addBiasPerRow(Matrix(y, start: 0, rows: rows, cols: cols, ld: ld), bias: bias, relu: relu)
            var negatives = 0
            for r in 0..<rows {
                for j in 0..<ld {
                    let z = m[r * ld + j] + bias[r]
                    if z < 0 && j < cols { negatives += 1 }
                    XCTAssertEqual(y[r * ld + j], j >= cols ? m[r * ld + j] : relu ? max(z, 0) : z, "r \(r) j \(j) relu \(relu)")
                }
            }
            XCTAssertGreaterThan(negatives, 0, "the data must exercise the ReLU")

            let dy = randomTensor([rows, ld], &rng)
            let original = dy.toArray()
            let biasGrad = Tensor(shape: [rows], values: [0.5, -1, 2])
            reluBackwardWithRowSums(Matrix(dy, start: 0, rows: rows, cols: cols, ld: ld),
                                    output: Matrix(y, start: 0, rows: rows, cols: cols, ld: ld), relu: relu, biasGrad: biasGrad)
            var sums = [0.5, -1, 2]
            for r in 0..<rows {
                for j in 0..<ld {
                    let i = r * ld + j
                    let expected: Float = j >= cols ? original[i] : relu && !(y[i] > 0) ? 0 : original[i]
                    XCTAssertEqual(dy[i], expected, "r \(r) j \(j) relu \(relu)")
                    if j < cols { sums[r] += Double(expected) }
                }
            }
            assertClose(biasGrad.toArray().doubles, sums, rtol: 1e-6, atol: 1e-6, "bias gradient accumulates, relu \(relu)")
        }
    }

    func testTransposePlanesRoundTrips() {
        var rng = SeededGenerator(seed: 14)
        let (channels, batch, plane) = (3, 2, 5)
        let x = randomTensor([channels, batch, plane], &rng)
        let y = Tensor(zeros: [batch, channels * plane])
        transposePlanes(x, channels: channels, batch: batch, plane: plane, into: y)
        for c in 0..<channels {
            for b in 0..<batch {
                for q in 0..<plane {
                    XCTAssertEqual(y[(b * channels + c) * plane + q], x[(c * batch + b) * plane + q], "c \(c) b \(b) q \(q)")
                }
            }
        }
        let back = Tensor(zeros: x.shape)
        transposePlanes(y, channels: channels, batch: batch, plane: plane, into: back, reverse: true)
        XCTAssertEqual(back.toArray(), x.toArray())
    }
}
