import Data
import Foundation
import Tensor
import TestSupport
import XCTest

/// `TrainingWindows` (counter-based draws by seed, step and position) and `ValidationWindows`
/// (fixed windows shared out by rank), on a file of distinct tokens written here.
final class TokenWindowTests: XCTestCase {
    private var dir = ""
    /// Tokens i % 1000 for i in 0..<count: a window's start can be read off its first tokens.
    private var tokens: [Int32] = []

    override func setUp() {
        dir = Lockstep.temporaryDirectory("windows")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A corpus of `count` tokens (i % 1000) in two uint16 files, so that windows cross files.
    private func corpus(_ count: Int, context: Int, validationFraction: Double = 0.5) throws -> TokenCorpus {
        tokens = (0..<count).map { Int32($0 % 1000) }
        let half = count / 2
        _ = try TokenFiles.write(TokenFiles.littleEndian(tokens[..<half].map(UInt16.init)), dir, "part-0.bin")
        _ = try TokenFiles.write(TokenFiles.littleEndian(tokens[half...].map(UInt16.init)), dir, "part-1.bin")
        return try TokenCorpus(path: dir, format: .uint16, vocab: 1000, context: context, validationFraction: validationFraction)
    }

    /// Every row of a batch loaded with `load`, as (inputs, targets).
    private func rows(_ buffers: BatchBuffers, _ count: Int) -> [[Int32]] {
        (0..<count).map { buffers.row($0).inputs + buffers.row($0).targets }
    }

    func testWindowsAreTheSplitsTokens() throws {
        let corpus = try corpus(3000, context: 16, validationFraction: 0.25)
        let windows = TrainingWindows(split: corpus.train, context: 16, seed: 9)
        XCTAssertEqual(windows.startCount, 2250 - 16)
        let buffers = BatchBuffers(capacity: 8, context: 16)
        windows.load(step: 4, positions: 10..<18, into: buffers.batch)
        // A window across the two files, as the sampler may draw.
        corpus.train.loadWindow(start: 1490, into: buffers.batch, row: 7)
        XCTAssertEqual(buffers.row(7).targets, Array(tokens[1491...1506]))
        windows.load(step: 4, positions: 10..<18, into: buffers.batch)
        for row in 0..<8 {
            let start = windows.start(step: 4, position: 10 + row)
            XCTAssertEqual(buffers.row(row).inputs, Array(tokens[start..<(start + 16)]), "row \(row)")
            XCTAssertEqual(buffers.row(row).targets, Array(tokens[(start + 1)..<(start + 17)]), "row \(row)")
        }
    }

    func testDrawsAreDeterministicAndDifferBySeedStepAndPosition() throws {
        let corpus = try corpus(20_000, context: 8)
        let a = TrainingWindows(split: corpus.train, context: 8, seed: 1)
        let again = TrainingWindows(split: corpus.train, context: 8, seed: 1)
        let b = TrainingWindows(split: corpus.train, context: 8, seed: 2)
        let step3 = (0..<32).map { a.start(step: 3, position: $0) }
        XCTAssertEqual(step3, (0..<32).map { again.start(step: 3, position: $0) }, "a resume draws the same windows")
        XCTAssertNotEqual(step3, (0..<32).map { b.start(step: 3, position: $0) })
        XCTAssertNotEqual(step3, (0..<32).map { a.start(step: 4, position: $0) })
        XCTAssertGreaterThan(Set(step3).count, 28, "positions draw different windows")
        // The documented rule, so that a run resumed by a later build continues on the same
        // windows. (Lemire's rejection has a chance of n / 2⁶⁴ here, so the first draw is it.)
        for (step, position) in [(0, 0), (0, 1), (3, 7), (100_000, 511), (-1, 2)] {
            var seedGenerator = SeededGenerator(seed: 1)
            var stepGenerator = SeededGenerator(seed: seedGenerator.next() ^ UInt64(bitPattern: Int64(step)))
            var generator = SeededGenerator(seed: stepGenerator.next() ^ UInt64(position))
            XCTAssertEqual(a.start(step: step, position: position),
                           Int(generator.next().multipliedFullWidth(by: UInt64(a.startCount)).high), "step \(step) position \(position)")
        }
    }

    /// Positions [a, b) of a step, loaded together, are those positions loaded alone; the
    /// ranks of a world of 1, 2 or 3, each loading its part of the global batch, together
    /// load world 1's batch, whatever the parts' sizes.
    func testRanksLoadTheGlobalBatchAtAnyWorldSize() throws {
        let corpus = try corpus(5000, context: 12)
        let windows = TrainingWindows(split: corpus.train, context: 12, seed: 77)
        let global = 12
        let whole = BatchBuffers(capacity: global, context: 12)
        windows.load(step: 5, positions: 0..<global, into: whole.batch)
        let expected = rows(whole, global)

        let alone = BatchBuffers(capacity: 1, context: 12)
        for position in 0..<global {
            windows.load(step: 5, positions: position..<(position + 1), into: alone.batch)
            XCTAssertEqual(rows(alone, 1)[0], expected[position], "position \(position) alone")
        }
        for parts in [[12], [6, 6], [4, 4, 4], [5, 7], [5, 4, 3], [1, 10, 1]] {
            var union: [[Int32]] = []
            var first = 0
            for part in parts {
                let buffers = BatchBuffers(capacity: 8, context: 12)
                let rank = TrainingWindows(split: corpus.train, context: 12, seed: 77)
                if part > 8 {
                    for chunk in stride(from: first, to: first + part, by: 8) {
                        rank.load(step: 5, positions: chunk..<min(chunk + 8, first + part), into: buffers.batch)
                        union += rows(buffers, min(8, first + part - chunk))
                    }
                } else {
                    rank.load(step: 5, positions: first..<(first + part), into: buffers.batch)
                    union += rows(buffers, part)
                }
                first += part
            }
            XCTAssertEqual(union, expected, "parts \(parts)")
        }
    }

    /// Starts stay in range, down to a split of exactly one window, and spread evenly: a
    /// chi-square test over 97 starts (not a power of two) with a loose bound.
    func testStartsAreInRangeAndUniform() throws {
        let corpus = try corpus(208, context: 7, validationFraction: 0.5)
        XCTAssertEqual(corpus.train.count, 104)
        let windows = TrainingWindows(split: corpus.train, context: 7, seed: 3)
        XCTAssertEqual(windows.startCount, 97)
        var counts = [Int](repeating: 0, count: 97)
        for step in 0..<200 {
            for position in 0..<100 {
                let start = windows.start(step: step, position: position)
                XCTAssertTrue(start >= 0 && start < 97, "step \(step) position \(position): \(start)")
                if start >= 0 && start < 97 { counts[start] += 1 }
            }
        }
        let expected = 20_000.0 / 97
        let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        // 96 degrees of freedom: mean 96, standard deviation 13.9.
        XCTAssertLessThan(chiSquare, 180, "\(counts)")
        XCTAssertGreaterThan(chiSquare, 40, "too even to be random: \(counts)")

        let one = try TokenCorpus(trainPath: dir + "/part-0.bin", validationPath: dir + "/part-1.bin", format: .uint16,
                                  vocab: 1000, context: 103)
        let single = TrainingWindows(split: one.train, context: 103, seed: 3)
        XCTAssertEqual(single.startCount, 1)
        XCTAssertEqual(Set((0..<50).map { single.start(step: $0, position: $0 * 7) }), [0])
    }

    func testValidationWindowCount() throws {
        let corpus = try corpus(2002, context: 8)
        XCTAssertEqual(corpus.validation.count, 1001)
        XCTAssertEqual(ValidationWindows(split: corpus.validation, context: 8).count, 125)  // ⌊1000 / 8⌋
        XCTAssertEqual(ValidationWindows(split: corpus.validation, context: 8, limit: 40).count, 40)
        XCTAssertEqual(ValidationWindows(split: corpus.validation, context: 8, limit: 500).count, 125)
        XCTAssertEqual(ValidationWindows(split: corpus.validation, context: 1000).count, 1)
    }

    /// At worlds 1 to 4 the ranks' windows are each window once, and window i is tokens
    /// i·T ..< i·T + T + 1 of the split: the targets tile the split after its first token.
    func testValidationWindowsAreCountedOnceAcrossRanks() throws {
        let corpus = try corpus(1400, context: 10)
        let validation = ValidationWindows(split: corpus.validation, context: 10, limit: 45)
        let split = TokenFiles.tokens(corpus.validation)
        for world in 1...4 {
            var seen = [Int](repeating: 0, count: validation.count)
            var targets: [Int32] = []
            for rank in 0..<world {
                let mine = Array(validation.indices(rank: rank, world: world))
                XCTAssertEqual(mine.count, (validation.count - rank + world - 1) / world, "world \(world) rank \(rank)")
                let buffers = BatchBuffers(capacity: 4, context: 10)
                for batch in stride(from: 0, to: mine.count, by: 4) {
                    let chunk = mine[batch..<min(batch + 4, mine.count)]
                    XCTAssertEqual(validation.load(chunk, into: buffers.batch), chunk.count)
                    for (row, window) in chunk.enumerated() {
                        seen[window] += 1
                        XCTAssertEqual(buffers.row(row).inputs, Array(split[(window * 10)..<(window * 10 + 10)]))
                        XCTAssertEqual(buffers.row(row).targets, Array(split[(window * 10 + 1)..<(window * 10 + 11)]))
                        if world == 1 { targets += buffers.row(row).targets }
                    }
                }
            }
            XCTAssertEqual(seen, [Int](repeating: 1, count: 45), "world \(world)")
            if world == 1 { XCTAssertEqual(targets, Array(split[1...450])) }
        }
        XCTAssertEqual(validation.load(EmptyCollection(), into: BatchBuffers(capacity: 1, context: 10).batch), 0)
    }
}
