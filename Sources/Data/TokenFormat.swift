/// How the files of a token corpus hold their tokens, as a config names it.
///
/// With `.tokens`, each file is recognised by its first four bytes: a file of at least 4 bytes
/// whose first little-endian int32 is one of llm.c's magics (20240520 or 20240801) is an llm.c
/// file, and any other file is raw uint16. Read as uint16 tokens, those magics are the token
/// pairs (55432, 308) and (55713, 308), so for vocabularies of up to 55,432 ids (GPT-2's
/// 50,257 among them) no valid raw file can be taken for an llm.c one: its first token would
/// be outside the vocabulary. Larger vocabularies in raw uint16 files name `.uint16`.
public enum TokenFormat: String, Sendable, CaseIterable {
    /// Each byte is a token (vocabulary 256): `data.dataset = "text"`.
    case text
    /// Pre-tokenized files, each recognised as above: `data.dataset = "tokens"`.
    case tokens
    /// Flat little-endian uint16 tokens with no header, as nanoGPT's train.bin and val.bin
    /// (`np.memmap(path, dtype=np.uint16)`).
    case uint16
    /// llm.c's `.bin` (dev/data/data_common.py): 256 little-endian int32 of header (magic,
    /// version, token count, then zeros), then the tokens.
    case llmc
}

/// How one file holds its tokens, as found when it was opened.
public enum TokenLayout: Sendable, Equatable, CustomStringConvertible {
    /// One token per byte.
    case bytes
    /// Little-endian uint16 tokens from the first byte.
    case uint16
    /// llm.c magic 20240520, version 1: GPT-2 tokens as uint16 after the header.
    case llmcUInt16
    /// llm.c magic 20240801, version 7: LLaMA 3 tokens as uint32 after the header.
    case llmcUInt32

    /// Bytes before the first token.
    var headerBytes: Int {
        switch self {
        case .bytes, .uint16: 0
        case .llmcUInt16, .llmcUInt32: LLMCHeader.bytes
        }
    }

    /// Bytes per token.
    var width: Int {
        switch self {
        case .bytes: 1
        case .uint16, .llmcUInt16: 2
        case .llmcUInt32: 4
        }
    }

    public var description: String {
        switch self {
        case .bytes: "bytes"
        case .uint16: "uint16"
        case .llmcUInt16: "llm.c uint16"
        case .llmcUInt32: "llm.c uint32"
        }
    }
}

/// llm.c's header: 256 little-endian int32, of which [0] is the magic, [1] the version and
/// [2] the number of tokens that follow. Each magic has one version and one token width.
enum LLMCHeader {
    static let bytes = 256 * 4
    static let gpt2 = (magic: Int32(20_240_520), version: Int32(1))
    static let llama3 = (magic: Int32(20_240_801), version: Int32(7))

    /// The little-endian int32 at `index` of the header.
    static func field(_ index: Int, of file: UnsafeRawBufferPointer) -> Int32 {
        Int32(littleEndian: file.loadUnaligned(fromByteOffset: 4 * index, as: Int32.self))
    }

    /// Whether `file` starts with one of llm.c's magics.
    static func isMagic(_ file: UnsafeRawBufferPointer) -> Bool {
        guard file.count >= 4 else { return false }
        let magic = field(0, of: file)
        return magic == gpt2.magic || magic == llama3.magic
    }

    /// The layout and token count of `file`, an llm.c file.
    /// - Throws: `DataError` for a wrong magic, a short header, an unsupported version, or a
    ///   token count that disagrees with the file's size.
    static func read(_ file: UnsafeRawBufferPointer, path: String) throws(DataError) -> (TokenLayout, count: Int) {
        if file.count >= 4 && !isMagic(file) {
            throw DataError("\(path): magic \(field(0, of: file)) is not llm.c's (\(gpt2.magic) for GPT-2 uint16 tokens, \(llama3.magic) for LLaMA 3 uint32 tokens)")
        }
        guard file.count >= bytes else {
            throw DataError("\(path): truncated llm.c header: \(file.count) bytes, the header needs \(bytes)")
        }
        let magic = field(0, of: file), version = field(1, of: file), count = Int(field(2, of: file))
        let (expected, layout, name) = magic == gpt2.magic ? (gpt2.version, TokenLayout.llmcUInt16, "GPT-2 uint16 tokens")
                                                           : (llama3.version, TokenLayout.llmcUInt32, "LLaMA 3 uint32 tokens")
        guard version == expected else {
            throw DataError("\(path): llm.c version \(version) is not supported for magic \(magic) (it takes version \(expected): \(name))")
        }
        let body = file.count - bytes
        guard count * layout.width == body else {
            throw DataError("\(path): the llm.c header says \(count) tokens (\(count * layout.width) bytes after the \(bytes)-byte header), the file has \(body)")
        }
        guard count > 0 else { throw DataError("\(path): no tokens after the llm.c header") }
        return (layout, count)
    }
}
