/// What a token corpus holds, for a run's banner and summary.
public struct CorpusSummary: Sendable, Equatable, CustomStringConvertible {
    /// One file of the corpus.
    public struct File: Sendable, Equatable {
        public let path: String
        public let layout: TokenLayout
        public let tokens: Int
    }

    /// The files as they were opened: the training path's, then the validation path's (a
    /// file named by both is listed twice); each once for a corpus split by a fraction.
    public let files: [File]
    public let trainTokens: Int
    public let validationTokens: Int

    public var totalTokens: Int { trainTokens + validationTokens }

    /// One line, such as "3 files (bytes), 1200 tokens: 1080 training, 120 validation".
    public var description: String {
        var layouts: [String] = []
        for file in files where !layouts.contains(file.layout.description) { layouts.append(file.layout.description) }
        let count = files.count == 1 ? "1 file" : "\(files.count) files"
        return "\(count) (\(layouts.joined(separator: ", "))), \(totalTokens) tokens: \(trainTokens) training, \(validationTokens) validation"
    }
}
