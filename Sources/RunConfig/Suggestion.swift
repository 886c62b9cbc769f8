/// "Did you mean …?": the candidate closest to a mistyped word.
public enum Suggestion {
    /// The candidate at the smallest edit distance from `word`, if that distance makes it a likely
    /// typo: at most 2, or a quarter of the word's length.
    public static func closest(to word: String, among candidates: [String]) -> String? {
        // Keys and commands are short; comparing a long string with every one would take long for nothing.
        guard word.count <= 64 else { return nil }
        let scored = candidates.map { ($0, editDistance($0, word)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, word.count / 4) else { return nil }
        return best
    }

    /// Levenshtein distance: insertions, deletions and substitutions of characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
