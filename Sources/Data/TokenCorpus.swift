import Glibc

/// A language model's token data, memory-mapped: a training split and a validation split,
/// each long enough for one window of `context` + 1 tokens.
///
/// A path is a file or a folder. A folder's files are its regular files (symbolic links
/// followed), in the byte order of their names; hidden files (names starting with ".") and
/// subfolders are skipped. The files of a path are one stream of tokens (see `TokenSplit`),
/// and every file is checked when it is opened (see `TokenFormat` for how each is read).
public struct TokenCorpus: Sendable {
    /// T: a window is `context` + 1 tokens.
    public let context: Int
    public let train: TokenSplit
    public let validation: TokenSplit
    public let summary: CorpusSummary

    /// One corpus whose last ⌊count · `validationFraction`⌋ tokens are the validation split and
    /// the rest the training split; no window crosses from one into the other.
    /// - Precondition: `context` ≥ 1 and `vocab` in 1...2³¹ (the model's parameters).
    /// - Throws: `DataError` naming the path and what is wrong.
    public init(path: String, format: TokenFormat, vocab: Int, context: Int, validationFraction: Double) throws(DataError) {
        Self.check(vocab: vocab, context: context)
        guard validationFraction > 0 && validationFraction < 1 else {
            throw DataError("\(path): validation fraction \(validationFraction) is not between 0 and 1")
        }
        let files = try Self.files(path, format: format, vocab: vocab)
        let total = files.reduce(0) { $0 + $1.count }
        let cut = total - Int((Double(total) * validationFraction).rounded(.down))
        let train = TokenSplit(source: path, files: files, range: 0..<cut)
        let validation = TokenSplit(source: path, files: files, range: cut..<total)
        try Self.check(train, context: context, "the training split (all but the last \(validationFraction) of \(total) tokens) has ")
        try Self.check(validation, context: context, "the validation split (the last \(validationFraction) of \(total) tokens) has ")
        self.init(context: context, train: train, validation: validation, files: files)
    }

    /// A corpus whose training and validation splits are read from two paths.
    /// - Precondition: `context` ≥ 1 and `vocab` in 1...2³¹ (the model's parameters).
    /// - Throws: `DataError` naming the path and what is wrong.
    public init(trainPath: String, validationPath: String, format: TokenFormat, vocab: Int, context: Int) throws(DataError) {
        Self.check(vocab: vocab, context: context)
        let trainFiles = try Self.files(trainPath, format: format, vocab: vocab)
        let validationFiles = try Self.files(validationPath, format: format, vocab: vocab)
        let train = TokenSplit(source: trainPath, files: trainFiles, range: 0..<trainFiles.reduce(0) { $0 + $1.count })
        let validation = TokenSplit(source: validationPath, files: validationFiles,
                                    range: 0..<validationFiles.reduce(0) { $0 + $1.count })
        for split in [train, validation] { try Self.check(split, context: context) }
        self.init(context: context, train: train, validation: validation, files: trainFiles + validationFiles)
    }

    private init(context: Int, train: TokenSplit, validation: TokenSplit, files: [TokenFile]) {
        self.context = context
        self.train = train
        self.validation = validation
        summary = CorpusSummary(files: files.map { CorpusSummary.File(path: $0.path, layout: $0.layout, tokens: $0.count) },
                                trainTokens: train.count, validationTokens: validation.count)
    }

    private static func check(vocab: Int, context: Int) {
        precondition(vocab >= 1 && vocab <= 1 << 31 && context >= 1 && context < Int(Int32.max),
                     "TokenCorpus: vocab \(vocab), context \(context)")
    }

    /// Throws unless `split` holds one window; `which` names the split before "N tokens".
    private static func check(_ split: TokenSplit, context: Int, _ which: String = "") throws(DataError) {
        guard split.count > context else {
            throw DataError("\(split.source): \(which)\(split.count) tokens, fewer than one window of context \(context) + 1 = \(context + 1)",
                            isShorterThanAWindow: true)
        }
    }

    /// The files of `path`, a file or a folder, opened.
    private static func files(_ path: String, format: TokenFormat, vocab: Int) throws(DataError) -> [TokenFile] {
        var opened: [TokenFile] = []
        for file in try paths(path) { opened.append(try TokenFile(path: file, format: format, vocab: vocab)) }
        return opened
    }

    /// `path` if it is a file; a folder's files, as the type's documentation says.
    private static func paths(_ path: String) throws(DataError) -> [String] {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw DataError(errno == ENOENT ? "\(path): not found" : "\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            return [path]
        case S_IFDIR:
            break
        default:
            throw DataError("\(path): not a regular file or a folder")
        }
        guard let folder = opendir(path) else { throw DataError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.assumingMemoryBound(to: CChar.self).baseAddress!) }
            guard !name.hasPrefix(".") else { continue }
            let child = path.hasSuffix("/") ? path + name : path + "/" + name
            if stat(child, &status) == 0 && status.st_mode & S_IFMT == S_IFREG { names.append(child) }
        }
        guard !names.isEmpty else { throw DataError("\(path): no files in the folder (hidden files and subfolders are skipped)") }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
