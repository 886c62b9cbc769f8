import Foundation
import Tensor
import TestSupport
import XCTest

/// Causal self-attention against the definition in Double, forward and backward, for tiles
/// that divide T, that do not, of one row, and as large as T; the causal mask; and the FLOPs
/// its GEMMs perform against what `scoreArea` says.
final class CausalSelfAttentionTests: XCTestCase {
    private let batch = 2, context = 7, heads = 2, embed = 6

    /// The attention of one sequence in Double: y (T, C) and P per head, from qkv (T, 3C).
    private func reference(_ qkv: [Double]) -> (y: [Double], p: [[Double]]) {
        let hs = embed / heads, scale = 1 / Double(hs).squareRoot()
        var y = [Double](repeating: 0, count: context * embed)
        var ps: [[Double]] = []
        for h in 0..<heads {
            var p = [Double](repeating: 0, count: context * context)
            for i in 0..<context {
                var scores = (0...i).map { j in
                    (0..<hs).reduce(0.0) { $0 + qkv[i * 3 * embed + h * hs + $1] * qkv[j * 3 * embed + embed + h * hs + $1] } * scale
                }
                let m = scores.max()!
                scores = scores.map { exp($0 - m) }
                let z = scores.reduce(0, +)
                for j in 0...i { p[i * context + j] = scores[j] / z }
                for d in 0..<hs {
                    y[i * embed + h * hs + d] = (0...i).reduce(0.0) { $0 + p[i * context + $1] * qkv[$1 * 3 * embed + 2 * embed + h * hs + d] }
                }
            }
            ps.append(p)
        }
        return (y, ps)
    }

    /// The gradient of Σ r·y with respect to qkv, by the chain rule in Double.
    private func referenceBackward(_ qkv: [Double], _ r: [Double]) -> [Double] {
        let hs = embed / heads, scale = 1 / Double(hs).squareRoot()
        let (_, ps) = reference(qkv)
        var d = [Double](repeating: 0, count: qkv.count)
        func q(_ i: Int, _ h: Int, _ k: Int) -> Int { i * 3 * embed + h * hs + k }
        for h in 0..<heads {
            let p = ps[h]
            for i in 0..<context {
                // dP[i, j] = Σ_d r[i, d]·v[j, d]; dS = P ⊙ (dP - Σ P·dP)
                let dp = (0...i).map { j in (0..<hs).reduce(0.0) { $0 + r[i * embed + h * hs + $1] * qkv[q(j, h, $1) + 2 * embed] } }
                let dot = (0...i).reduce(0.0) { $0 + p[i * context + $1] * dp[$1] }
                for j in 0...i {
                    let ds = p[i * context + j] * (dp[j] - dot) * scale
                    for k in 0..<hs {
                        d[q(i, h, k)] += ds * qkv[q(j, h, k) + embed]
                        d[q(j, h, k) + embed] += ds * qkv[q(i, h, k)]
                        d[q(j, h, k) + 2 * embed] += p[i * context + j] * r[i * embed + h * hs + k]
                    }
                }
            }
        }
        return d
    }

    private func inputs(seed: UInt64) -> (qkv: Tensor, dy: Tensor) {
        var rng = SeededGenerator(seed: seed)
        return (randomTensor([batch * context * 3 * embed], &rng, -1.5, 1.5), randomTensor([batch * context * embed], &rng))
    }

    private func sequence(_ t: Tensor, _ b: Int, _ width: Int) -> [Double] {
        Array(t.toArray()[(b * context * width)..<((b + 1) * context * width)]).map(Double.init)
    }

    func testForwardAndBackwardMatchTheDefinitionForEveryTiling() {
        for tile in [1, 3, 4, 7, 64] {
            let attention = CausalSelfAttention(context: context, heads: heads, embed: embed, tile: tile)
            let (qkv, dy) = inputs(seed: 71)
            // One sequence more than the batch, holding garbage that must not be read or written.
            let probabilities = Tensor(zeros: [(batch + 1) * attention.probabilitiesPerSequence])
            let y = Tensor(zeros: [(batch + 1) * context * embed]), dqkv = Tensor(zeros: [(batch + 1) * context * 3 * embed])
            probabilities.fill(.nan)
            y.fill(.nan)
            dqkv.fill(.nan)
            let scratch = Tensor(zeros: [attention.scratchCount])
            scratch.fill(.nan)
            attention.forward(qkv: qkv, probabilities: probabilities, into: y, batch: batch)
            attention.backward(outputGradient: dy, qkv: qkv, probabilities: probabilities, scratch: scratch, into: dqkv, batch: batch)
            for b in 0..<batch {
                let (expectedY, expectedP) = reference(sequence(qkv, b, 3 * embed))
                assertClose(sequence(y, b, embed), expectedY, rtol: 1e-5, atol: 1e-6, "tile \(tile) y of sequence \(b)")
                let p = probabilities.toArray().map(Double.init)
                for h in 0..<heads {
                    let start = (b * heads + h) * context * context
                    for i in 0..<context {
                        // Entries above the diagonal inside the diagonal tile are zeros; those beyond it are not computed.
                        let tileEnd = min((i / tile + 1) * tile, context)
                        let computed = Array(p[(start + i * context)..<(start + i * context + tileEnd)])
                        assertClose(computed, Array(expectedP[h][(i * context)..<(i * context + tileEnd)]), rtol: 1e-5, atol: 1e-7,
                                    "tile \(tile) P row \(i) of head \(h), sequence \(b)")
                    }
                }
                let expectedD = referenceBackward(sequence(qkv, b, 3 * embed), sequence(dy, b, embed))
                assertClose(sequence(dqkv, b, 3 * embed), expectedD, rtol: 1e-4, atol: 1e-6, "tile \(tile) dqkv of sequence \(b)")
            }
            XCTAssertTrue(sequence(y, batch, embed).allSatisfy(\.isNaN), "y past the batch")
            XCTAssertTrue(sequence(dqkv, batch, 3 * embed).allSatisfy(\.isNaN), "dqkv past the batch")
        }
    }

    /// Changing the q, k and v of a later position changes no earlier output.
    func testLaterPositionsDoNotReachEarlierOutputs() {
        let attention = CausalSelfAttention(context: context, heads: heads, embed: embed, tile: 3)
        let (qkv, _) = inputs(seed: 72)
        let probabilities = Tensor(zeros: [batch * attention.probabilitiesPerSequence])
        let y = Tensor(zeros: [batch * context * embed])
        attention.forward(qkv: qkv, probabilities: probabilities, into: y, batch: batch)
        let before = y.toArray()
        let position = 4
        for b in 0..<batch {
            for k in 0..<(3 * embed) { qkv[(b * context + position) * 3 * embed + k] += 0.75 }
        }
        attention.forward(qkv: qkv, probabilities: probabilities, into: y, batch: batch)
        let after = y.toArray()
        for b in 0..<batch {
            for t in 0..<context {
                let range = ((b * context + t) * embed)..<((b * context + t + 1) * embed)
                if t < position {
                    XCTAssertEqual(Array(after[range]), Array(before[range]), "sequence \(b) position \(t) changed")
                } else {
                    XCTAssertNotEqual(Array(after[range]), Array(before[range]), "sequence \(b) position \(t) did not change")
                }
            }
        }
    }

    /// The staircase covers rows·r1 per tile; the GEMMs do what the FLOP counts say.
    func testScoreAreaAndFlopsMatchTheGEMMsRun() {
        XCTAssertEqual(CausalSelfAttention(context: 256, heads: 6, embed: 384, tile: 64).scoreArea, 64 * (64 + 128 + 192 + 256))
        XCTAssertEqual(CausalSelfAttention(context: 7, heads: 1, embed: 2, tile: 3).scoreArea, 3 * 3 + 3 * 6 + 1 * 7)
        XCTAssertEqual(CausalSelfAttention(context: 7, heads: 1, embed: 2, tile: 7).scoreArea, 49)
        for tile in [2, 7] {
            let attention = CausalSelfAttention(context: context, heads: heads, embed: embed, tile: tile)
            let (qkv, dy) = inputs(seed: 73)
            let probabilities = Tensor(zeros: [batch * attention.probabilitiesPerSequence])
            let y = Tensor(zeros: [batch * context * embed]), dqkv = Tensor(zeros: [batch * context * 3 * embed])
            let trace = GEMMTrace()
            GEMMTrace.active = trace
            attention.forward(qkv: qkv, probabilities: probabilities, into: y, batch: batch)
            let forward = trace.calls.reduce(0) { $0 + $1.flops }
            trace.calls.removeAll()
            attention.backward(outputGradient: dy, qkv: qkv, probabilities: probabilities,
                               scratch: Tensor(zeros: [attention.scratchCount]), into: dqkv, batch: batch)
            let backward = trace.calls.reduce(0) { $0 + $1.flops }
            GEMMTrace.active = nil
            XCTAssertEqual(forward, Double(batch * attention.forwardFlopsPerSequence), "tile \(tile) forward")
            XCTAssertEqual(backward, Double(batch * attention.backwardFlopsPerSequence), "tile \(tile) backward")
        }
    }
}
