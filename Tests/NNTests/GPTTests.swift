import NN
import Tensor
import TestSupport
import XCTest

/// The GPT's layout and initialisation, the order and completeness of its gradient reports, its
/// FLOP counts against the GEMMs it runs, and its causality.
final class GPTTests: XCTestCase {
    private let small = GPTConfig(vocab: 64, context: 16, layers: 2, heads: 2, embed: 32)

    func testLayoutAndParameterCount() throws {
        let model = try GPT(config: small, maxBatch: 1)
        let names = model.parameters.slices.map(\.name)
        XCTAssertEqual(Array(names.prefix(4)), ["transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight",
                                                "transformer.h.0.ln_1.bias"])
        XCTAssertEqual(names.count, 2 + 12 * 2 + 2)
        XCTAssertEqual(names[13], "transformer.h.0.mlp.c_proj.bias")
        XCTAssertEqual(Array(names.suffix(2)), ["transformer.ln_f.weight", "transformer.ln_f.bias"])
        XCTAssertEqual(model.parameters.slices[4].shape, [96, 32], "c_attn is [3C, C]")
        XCTAssertEqual(model.parameters.slices[12].shape, [32, 128], "mlp.c_proj is [C, 4C]")
        XCTAssertEqual(model.parameters.totalCount, small.parameterCount)
        // The baby GPT at vocabulary 256 with biases: 10.75M without the position embedding
        // (what nanoGPT's get_num_params counts), 10.84M in all.
        XCTAssertEqual(GPTConfig.baby.parameterCount - 256 * 384, 10_745_856)
        XCTAssertEqual(GPTConfig.baby.parameterCount, 10_844_160)
    }

    func testInitializationStatisticsAndDeterminism() throws {
        let config = GPTConfig(vocab: 256, context: 64, layers: 3, heads: 2, embed: 64)
        let model = try GPT(config: config, maxBatch: 1)
        model.parameters.values.fill(.nan)
        model.initialize(seed: 7)
        let all = model.parameters.values.toArray()
        for slice in model.parameters.slices {
            let v = all[slice.range].map(Double.init)
            if slice.name.hasSuffix(".bias") {
                XCTAssertTrue(v.allSatisfy { $0 == 0 }, "\(slice.name) is zero")
            } else if slice.shape.count == 1 {
                XCTAssertTrue(v.allSatisfy { $0 == 1 }, "\(slice.name) is one")
            } else {
                let std = slice.name.hasSuffix("c_proj.weight") ? 0.02 / (2.0 * 3).squareRoot() : 0.02
                let n = Double(v.count)
                let mean = v.reduce(0, +) / n
                let variance = v.reduce(0) { $0 + $1 * $1 } / n
                XCTAssertEqual(mean, 0, accuracy: 5 * std / n.squareRoot(), "\(slice.name) mean")
                // The sample variance of n normal draws has a relative standard deviation of √(2/n).
                XCTAssertEqual(variance, std * std, accuracy: 5 * (2 / n).squareRoot() * std * std, "\(slice.name) variance")
                XCTAssertGreaterThan(maxMagnitude(v), 3 * std, "\(slice.name): normal tails")
            }
        }
        model.initialize(seed: 8)
        let other = model.parameters.values.toArray()
        model.initialize(seed: 7)
        XCTAssertEqual(model.parameters.values.toArray(), all, "the same seed gives the same values")
        let weights = model.parameters.slices.filter { $0.shape.count == 2 }.flatMap { Array($0.range) }
        XCTAssertLessThan(weights.filter { all[$0] == other[$0] }.count, weights.count / 1000, "another seed, other values")
        let again = try GPT(config: config, maxBatch: 2)
        again.initialize(seed: 7)
        XCTAssertEqual(again.parameters.values.toArray(), all, "independent of the model's buffers")
    }

    /// Records what backward reports, in order, and each block's gradient at the moment it is
    /// reported, as a reducer would send it.
    final class ReportRecorder: GradientObserver {
        let store: ParameterStore
        let blockRows: Int
        var reports: [(parameter: Int, rows: Range<Int>, values: [Float])] = []

        init(_ store: ParameterStore, blockRows: Int) {
            self.store = store
            self.blockRows = blockRows
        }

        func rowBlocks(ofParameter index: Int) -> [Range<Int>] {
            let rows = store.slices[index].rows
            // Last rows first, as the bucket plan cuts them.
            return stride(from: rows, to: 0, by: -blockRows).map { max($0 - blockRows, 0)..<$0 }
        }

        func gradientReady(parameter index: Int, rows: Range<Int>) {
            let slice = store.slices[index]
            let range = (slice.offset + rows.lowerBound * slice.rowLength)..<(slice.offset + rows.upperBound * slice.rowLength)
            reports.append((index, rows, Array(store.gradients.toArray()[range])))
        }
    }

    func testEveryBlockIsReportedOnceWhenFinalWithWteLast() throws {
        let f = try GPTFixture.load()
        let model = try GPTFixtureTests.model(f)
        let recorder = ReportRecorder(model.parameters, blockRows: 5)
        model.parameters.zeroGradients()
        model.forward(batch: f.batch)
        _ = model.lossAndGradient(batch: f.batch, gradientScale: 1 / Float(f.batch * f.config.context))
        model.backward(batch: f.batch, observer: recorder)
        let final = model.parameters.gradients.toArray()
        let slices = model.parameters.slices
        for (index, slice) in slices.enumerated() {
            let reported = recorder.reports.filter { $0.parameter == index }.map(\.rows)
            XCTAssertEqual(reported, recorder.rowBlocks(ofParameter: index), "\(slice.name): each block once, in the observer's order")
        }
        for report in recorder.reports {
            let slice = slices[report.parameter]
            let start = slice.offset + report.rows.lowerBound * slice.rowLength
            XCTAssertEqual(report.values, Array(final[start..<(start + report.values.count)]),
                           "\(slice.name)[\(report.rows)] changed after it was reported")
        }
        // From the head back: a parameter's first report never comes after that of a parameter
        // more than one slice before it (a bias is reported just before its weight).
        var firsts: [Int] = []
        for report in recorder.reports where firsts.last != report.parameter { firsts.append(report.parameter) }
        XCTAssertEqual(firsts.count, slices.count, "one run of reports per parameter")
        for (a, b) in zip(firsts, firsts.dropFirst()) { XCTAssertLessThanOrEqual(b, a + 1, "\(slices[a].name) then \(slices[b].name)") }
        XCTAssertEqual(Array(firsts.suffix(2)), [1, 0], "wpe, then wte last")
        XCTAssertEqual(Array(firsts.prefix(2)), [slices.count - 1, slices.count - 2], "ln_f first")
    }

    /// The GEMMs of a step do exactly the FLOPs GPTConfig counts, forward and backward.
    func testFlopCountsMatchTheGEMMsRun() throws {
        let config = GPTConfig(vocab: 40, context: 20, layers: 2, heads: 3, embed: 24)
        let batch = 2
        let model = try GPT(config: config, maxBatch: batch)
        model.initialize(seed: 1)
        let trace = GEMMTrace()
        GEMMTrace.active = trace
        defer { GEMMTrace.active = nil }
        model.forward(batch: batch)
        let forward = trace.calls.reduce(0) { $0 + $1.flops }
        trace.calls.removeAll()
        _ = model.lossAndGradient(batch: batch, gradientScale: 1)
        model.backward(batch: batch, observer: WholeGradients(model.parameters))
        let backward = trace.calls.reduce(0) { $0 + $1.flops }
        let flops = config.flopsPerSequence
        XCTAssertEqual(forward, Double(batch * flops.forward))
        XCTAssertEqual(backward, Double(batch * flops.backward))
        XCTAssertEqual(flops.linearForward, 20 * 2 * (2 * 12 * 24 * 24 + 40 * 24))
        // Tiles of 64 rows cover the whole 20 × 20 square here.
        XCTAssertEqual(flops.attentionForward, 2 * 4 * 24 * 400)
        XCTAssertEqual(config.modelFlopsPerToken, 6 * (2 * 12 * 24 * 24 + 40 * 24) + 12 * 2 * 24 * 20)
        // The baby GPT's staircase covers 62.5% of each 256 × 256 square.
        XCTAssertEqual(GPTConfig.baby.flopsPerSequence.attentionForward, 6 * 4 * 384 * 40_960)
    }

    /// A later token changes no earlier logits, and does change its own and later ones.
    func testChangingALaterTokenLeavesEarlierLogitsAlone() throws {
        let model = try GPT(config: small, maxBatch: 2)
        model.initialize(seed: 3)
        for i in 0..<model.tokens.count { model.tokens[i] = Int32((i * 7) % 64) }
        model.forward(batch: 2)
        let before = model.logits.toArray()
        let position = 9, v = small.vocab
        model.tokens[16 + position] = (model.tokens[16 + position] + 1) % 64
        model.forward(batch: 2)
        let after = model.logits.toArray()
        XCTAssertEqual(Array(after[0..<(16 * v)]), Array(before[0..<(16 * v)]), "the other sequence")
        XCTAssertEqual(Array(after[(16 * v)..<((16 + position) * v)]), Array(before[(16 * v)..<((16 + position) * v)]),
                       "positions before the change")
        for t in position..<16 {
            let row = ((16 + t) * v)..<((17 + t) * v)
            XCTAssertNotEqual(Array(after[row]), Array(before[row]), "position \(t)")
        }
    }
}
