import CZlib
import Glibc

/// Reads the IDX format of MNIST-style datasets, gzip'd or raw (zlib reads both).
///
/// An IDX file is a 4-byte magic `00 00 TT NN` (TT = element type, 0x08 for unsigned bytes;
/// NN = number of dimensions), NN big-endian UInt32 dimension sizes, then the elements.
public enum IDXReader {
    /// An IDX array of unsigned bytes.
    public struct Array: Sendable {
        public let dimensions: [Int]
        public let bytes: [UInt8]
    }

    /// Reads `path`, checking the magic, the element type, the dimension count if given, and
    /// that the data is exactly as long as the dimensions say.
    public static func read(_ path: String, expectedDimensions: Int? = nil) throws(DataError) -> Array {
        let contents = try readAll(path)
        guard contents.count >= 4 else {
            throw DataError("\(path): truncated: \(contents.count) bytes, too short for an IDX header")
        }
        guard contents[0] == 0, contents[1] == 0 else {
            throw DataError("\(path): not an IDX file (magic \(hex(contents[0..<4])), expected 00 00 08 0N)")
        }
        guard contents[2] == 0x08 else {
            throw DataError("\(path): IDX element type 0x\(String(contents[2], radix: 16)) is not supported (only unsigned bytes, 0x08)")
        }
        let rank = Int(contents[3])
        if let expectedDimensions, rank != expectedDimensions {
            throw DataError("\(path): IDX magic \(hex(contents[0..<4])) gives \(rank) dimensions, expected \(expectedDimensions)")
        }
        let headerSize = 4 + 4 * rank
        guard contents.count >= headerSize else {
            throw DataError("\(path): truncated: the header needs \(headerSize) bytes, the file has \(contents.count)")
        }
        var dimensions: [Int] = []
        for d in 0..<rank {
            let at = 4 + 4 * d
            dimensions.append(contents[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) })
        }
        let shape = dimensions.map(String.init).joined(separator: "×")
        // Sizes of up to 2³² - 1 each can overflow Int, even beside a 0.
        var nonZeroProduct = 1
        for d in dimensions where d > 0 {
            let (product, overflow) = nonZeroProduct.multipliedReportingOverflow(by: d)
            guard !overflow else { throw DataError("\(path): IDX sizes \(shape) are too large") }
            nonZeroProduct = product
        }
        let expected = dimensions.contains(0) ? 0 : nonZeroProduct
        let actual = contents.count - headerSize
        guard actual == expected else {
            let what = actual < expected ? "truncated" : "has trailing bytes"
            throw DataError("\(path): \(what): the header says \(shape) = \(expected) bytes of data, the file has \(actual)")
        }
        return Array(dimensions: dimensions, bytes: [UInt8](contents[headerSize...]))
    }

    /// The whole (decompressed) contents of `path`.
    static func readAll(_ path: String) throws(DataError) -> [UInt8] {
        guard let file = gzopen(path, "rb") else {
            throw DataError("\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        defer { gzclose(file) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 {
                throw DataError("\(path): corrupt or truncated gzip data: \(gzipError(file, path: path).message)")
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<Int(n)])
        }
        // gzread reports a gzip stream cut short as a clean end; gzerror tells.
        let (code, message) = gzipError(file, path: path)
        if code != Z_OK && code != Z_STREAM_END {
            throw DataError("\(path): corrupt or truncated gzip data: \(message)")
        }
        return result
    }

    /// zlib's error code and message for `file`, without the "path: " zlib puts in front.
    private static func gzipError(_ file: gzFile, path: String) -> (code: Int32, message: String) {
        var code: Int32 = 0
        let message = String(cString: gzerror(file, &code))
        return (code, message.hasPrefix(path + ": ") ? String(message.dropFirst(path.count + 2)) : message)
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map { String(format2: $0) }.joined(separator: " ")
    }
}

private extension String {
    init(format2 byte: UInt8) {
        let s = String(byte, radix: 16)
        self = s.count == 1 ? "0" + s : s
    }
}
