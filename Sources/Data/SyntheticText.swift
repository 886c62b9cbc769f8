import Tensor

/// A seeded, learnable stand-in for a text corpus, for tests and quick runs: `words` seeded
/// words of 2 to 7 lowercase letters, strung together by one seeded cycle of `period` of them
/// that repeats, separated by spaces, with a newline after each cycle. Within a word each
/// letter follows from the ones before, and the cycle makes every word follow from the words
/// before it, so a small model's loss falls well below that of byte frequencies alone.
public enum SyntheticText {
    /// The first `count` bytes of the text.
    /// - Precondition: `count` ≥ 0, and `words` and `period` ≥ 1.
    public static func make(count: Int, words: Int = 16, period: Int = 64, seed: UInt64) -> [UInt8] {
        precondition(count >= 0 && words > 0 && period > 0, "SyntheticText: \(count) bytes, \(words) words, period \(period)")
        var rng = SeededGenerator(seed: seed)
        let vocabulary: [[UInt8]] = (0..<words).map { _ in
            (0..<(2 + Int(rng.next() % 6))).map { _ in UInt8(ascii: "a") + UInt8(rng.next() % 26) }
        }
        var cycle: [UInt8] = []
        for i in 0..<period {
            cycle += vocabulary[Int(rng.next() % UInt64(words))]
            cycle.append(i == period - 1 ? UInt8(ascii: "\n") : UInt8(ascii: " "))
        }
        return (0..<count).map { cycle[$0 % cycle.count] }
    }
}
