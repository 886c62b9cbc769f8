/// One file of a token corpus: mapped, its layout recognised, and every token checked once
/// against the model's vocabulary when it is opened, so that reads later need no checks.
struct TokenFile: Sendable {
    let mapping: MappedFile
    let layout: TokenLayout
    /// Tokens in the file; at least 1.
    let count: Int

    var path: String { mapping.path }

    /// Maps `path` and reads it as `format` says.
    /// - Throws: `DataError` if the file cannot be mapped, is empty, does not hold whole
    ///   tokens of its layout, or holds an id ≥ `vocab`.
    init(path: String, format: TokenFormat, vocab: Int) throws(DataError) {
        mapping = try MappedFile(path: path)
        let bytes = mapping.bytes
        switch format {
        case .text:
            (layout, count) = (.bytes, bytes.count)
        case .llmc:
            (layout, count) = try LLMCHeader.read(bytes, path: path)
        case .tokens where LLMCHeader.isMagic(bytes):
            (layout, count) = try LLMCHeader.read(bytes, path: path)
        case .tokens, .uint16:
            guard bytes.count % 2 == 0 else {
                throw DataError("\(path): \(bytes.count) bytes, an odd count for uint16 tokens")
            }
            (layout, count) = (.uint16, bytes.count / 2)
        }
        let outside: (position: Int, id: UInt64)?
        switch layout.width {
        case 1: outside = firstOutside(UInt8.self, vocab: vocab)
        case 2: outside = firstOutside(UInt16.self, vocab: vocab)
        default: outside = firstOutside(UInt32.self, vocab: vocab)
        }
        if let outside {
            throw DataError("\(path): token id \(outside.id) at position \(outside.position) is not below the vocabulary size \(vocab)")
        }
    }

    /// The first token ≥ `vocab`, by chunks whose largest token is found first (a loop that
    /// vectorises); nil at once when no id of the width can reach `vocab`.
    private func firstOutside<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, vocab: Int) -> (position: Int, id: UInt64)? {
        guard vocab <= Int(T.max) else { return nil }
        let limit = T(vocab)
        let tokens = UnsafeBufferPointer(start: (mapping.bytes.baseAddress! + layout.headerBytes).bindMemory(to: T.self, capacity: count),
                                         count: count)
        var chunk = 0
        while chunk < count {
            let end = min(chunk + 1 << 16, count)
            var largest: T = 0
            for i in chunk..<end { largest = max(largest, T(littleEndian: tokens[i])) }
            if largest >= limit {
                for i in chunk..<end where T(littleEndian: tokens[i]) >= limit { return (i, UInt64(T(littleEndian: tokens[i]))) }
            }
            chunk = end
        }
        return nil
    }

    /// Writes tokens `first..<first + n` of the file into `destination` as Int32.
    func copy(from first: Int, count n: Int, into destination: UnsafeMutablePointer<Int32>) {
        let start = mapping.bytes.baseAddress! + layout.headerBytes + first * layout.width
        switch layout.width {
        case 1:
            let tokens = start.assumingMemoryBound(to: UInt8.self)
            for i in 0..<n { destination[i] = Int32(tokens[i]) }
        case 2:
            let tokens = start.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n { destination[i] = Int32(UInt16(littleEndian: tokens[i])) }
        default:
            let tokens = start.assumingMemoryBound(to: UInt32.self)
            for i in 0..<n { destination[i] = Int32(truncatingIfNeeded: UInt32(littleEndian: tokens[i])) }
        }
    }
}
