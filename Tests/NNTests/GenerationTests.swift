import NN
import Tensor
import TestSupport
import XCTest

/// Generation with a key-value cache against whole forwards: the next-token logits at every
/// position up to the context and across crops, greedy decoding, and seeded sampling.
final class GenerationTests: XCTestCase {
    private let config = GPTConfig(vocab: 64, context: 16, layers: 2, heads: 2, embed: 32)

    /// A seeded GPT whose parameters are all N(0, 0.3²), so that attention is far from uniform.
    private func model(seed: UInt64) throws -> GPT {
        let model = try GPT(config: config, maxBatch: 1)
        var rng = SeededGenerator(seed: seed)
        rng.fillNormal(model.parameters.values.buffer, mean: 0, std: 0.3)
        return model
    }

    private func tokens(_ count: Int, seed: UInt64) -> [Int32] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Int32(rng.next() % UInt64(config.vocab)) }
    }

    /// A second model with the same parameters, which runs whole forwards.
    private func reference(_ model: GPT) throws -> GPT {
        let reference = try GPT(config: config, maxBatch: 1)
        reference.parameters.values.assign(model.parameters.values)
        return reference
    }

    /// The logits after `window` by a whole forward: row window.count - 1.
    private func wholeForwardLogits(_ reference: GPT, _ window: [Int32]) -> [Float] {
        reference.tokens.update(repeating: 0)
        _ = reference.tokens.update(fromContentsOf: window)
        reference.forward(batch: 1)
        let v = config.vocab, row = window.count - 1
        return Array(reference.logits.toArray()[(row * v)..<((row + 1) * v)])
    }

    private func values(_ m: Matrix) -> [Float] { (0..<m.cols).map { m.tensor[m.start + $0] } }

    private func assertLogits(_ generator: TokenGenerator, _ reference: GPT, _ what: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        let expected = wholeForwardLogits(reference, Array(generator.window))
        let scale = expected.map(abs).max()!
        assertClose(values(generator.nextLogits), expected, rtol: 1e-5, atol: 1e-5 * scale, what, file: file, line: line)
    }

    /// One token at a time from position 0 to T - 1, then a prompt of several tokens at once.
    func testIncrementalLogitsMatchWholeForwardAtEveryPosition() throws {
        let model = try model(seed: 101), reference = try reference(model)
        let sequence = tokens(config.context, seed: 102)
        let generator = TokenGenerator(model: model)
        generator.start([sequence[0]])
        assertLogits(generator, reference, "position 0")
        for t in 1..<config.context {
            generator.append(sequence[t])
            XCTAssertEqual(Array(generator.window), Array(sequence[0...t]))
            assertLogits(generator, reference, "position \(t)")
        }
        for length in [5, config.context] {
            generator.start(Array(sequence.prefix(length)))
            XCTAssertEqual(generator.cache.count, length)
            assertLogits(generator, reference, "a prompt of \(length)")
        }
    }

    /// Past the context the window is cropped to its last `keep` tokens plus the new one, and the
    /// logits are those of a whole forward over that window: with the default keep, over the
    /// last T tokens of the sequence, as nanoGPT's generate.
    func testIncrementalLogitsMatchWholeForwardAcrossCrops() throws {
        let model = try model(seed: 103), reference = try reference(model)
        let sequence = tokens(3 * config.context + 5, seed: 104)
        for keep in [nil, 9, 0] {
            let generator = TokenGenerator(model: model, keep: keep)
            XCTAssertEqual(generator.keep, keep ?? config.context - 1)
            generator.start(Array(sequence.prefix(3)))
            var expectedWindow = Array(sequence.prefix(3))
            for t in 3..<sequence.count {
                generator.append(sequence[t])
                if expectedWindow.count == config.context { expectedWindow = Array(expectedWindow.suffix(generator.keep)) }
                expectedWindow.append(sequence[t])
                XCTAssertEqual(Array(generator.window), expectedWindow, "keep \(generator.keep), token \(t)")
                if keep == nil { XCTAssertEqual(expectedWindow, Array(sequence[0...t].suffix(config.context))) }
                assertLogits(generator, reference, "keep \(generator.keep), token \(t)")
            }
        }
        // A prompt longer than the context: the model sees its last T tokens.
        let generator = TokenGenerator(model: model)
        generator.start(sequence)
        XCTAssertEqual(Array(generator.window), Array(sequence.suffix(config.context)))
        assertLogits(generator, reference, "a prompt longer than the context")
    }

    /// Greedy decoding with the cache gives the tokens that greedy decoding by a whole forward
    /// over the last T tokens gives, well past the context.
    func testGreedyDecodingWithTheCacheEqualsGreedyByWholeForwards() throws {
        let model = try model(seed: 105), reference = try reference(model)
        let prompt = tokens(3, seed: 106), count = 3 * config.context
        let generator = TokenGenerator(model: model)
        var sampler = TokenSampler(vocab: config.vocab, temperature: 0, seed: 1)
        generator.start(prompt)
        var cached: [Int32] = []
        for i in 0..<count {
            cached.append(sampler.next(generator.nextLogits))
            if i < count - 1 { generator.append(cached.last!) }
        }
        var sequence = prompt
        for _ in 0..<count {
            let logits = wholeForwardLogits(reference, Array(sequence.suffix(config.context)))
            sequence.append(Int32(logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!))
        }
        XCTAssertEqual(cached, Array(sequence.dropFirst(prompt.count)))
        XCTAssertGreaterThan(Set(cached).count, 3, "the greedy tokens are not one token repeated")
    }

    /// The same seed draws the same tokens; another seed others; top-k 1 is greedy.
    func testSeededSamplingIsReproducible() throws {
        let model = try model(seed: 107)
        func sample(seed: UInt64, temperature: Float, topK: Int? = nil) -> [Int32] {
            let generator = TokenGenerator(model: model)
            var sampler = TokenSampler(vocab: config.vocab, temperature: temperature, topK: topK, seed: seed)
            generator.start(tokens(2, seed: 108))
            return (0..<40).map { _ in
                let token = sampler.next(generator.nextLogits)
                generator.append(token)
                return token
            }
        }
        XCTAssertEqual(sample(seed: 1, temperature: 1), sample(seed: 1, temperature: 1))
        XCTAssertNotEqual(sample(seed: 1, temperature: 1), sample(seed: 2, temperature: 1))
        XCTAssertEqual(sample(seed: 3, temperature: 0.8, topK: 1), sample(seed: 4, temperature: 0))
        XCTAssertEqual(sample(seed: 5, temperature: 1.5, topK: 5), sample(seed: 5, temperature: 1.5, topK: 5))
    }
}
