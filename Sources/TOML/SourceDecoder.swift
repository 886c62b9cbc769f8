/// Turns the bytes of a TOML file into Unicode scalars, the form the parser reads.
///
/// TOML files are UTF-8. Decoding checks the whole input first, so the parser never meets an
/// invalid sequence: a byte that does not start a valid sequence (a stray continuation byte, an
/// overlong form, a surrogate, a value past U+10FFFF, a sequence cut short) is an error at its line
/// and column. CRLF line endings become a single `\n`; a carriage return without its line feed is
/// an error, since TOML allows it nowhere. A UTF-8 byte order mark at the very start is skipped.
enum SourceDecoder {
    /// The scalars of `bytes`, with line endings as `\n`.
    static func decode(_ bytes: [UInt8]) throws(TOMLError) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(bytes.count)
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        var line = 1
        var column = 1
        var pendingCarriageReturn = false
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .emptyInput:
                if pendingCarriageReturn {
                    throw .loneCarriageReturn(at: TOMLPosition(line: line, column: column))
                }
                return scalars
            case let .error(length):
                let at = TOMLPosition(line: line, column: column)
                if pendingCarriageReturn { throw .loneCarriageReturn(at: at) }
                throw .invalidUTF8(bytes[offset..<offset + length], at: at)
            case let .valid(encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                if pendingCarriageReturn && scalar != "\n" {
                    throw .loneCarriageReturn(at: TOMLPosition(line: line, column: column))
                }
                offset += encoded.count
                if scalar == "\u{FEFF}" && offset == encoded.count { continue }
                if scalar == "\r" {
                    pendingCarriageReturn = true
                    continue
                }
                pendingCarriageReturn = false
                scalars.append(scalar)
                if scalar == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            }
        }
    }
}
