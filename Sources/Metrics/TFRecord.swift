/// TFRecord framing, the container of TensorBoard's event files. Each record is
///
///     uint64  length of data, little-endian
///     uint32  masked CRC-32C of those 8 length bytes
///     bytes   data
///     uint32  masked CRC-32C of data
public enum TFRecord {
    /// One framed record around `data`.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        let length = littleEndian(UInt64(data.count))
        return length + littleEndian(CRC32C.masked(length)) + data + littleEndian(CRC32C.masked(data))
    }

    /// The records of `bytes`, each checked against both CRCs.
    /// - Throws: `MetricsError` at the first record that is cut short or fails its CRC.
    public static func records(_ bytes: [UInt8]) throws(MetricsError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            guard i + 12 <= bytes.count else { throw MetricsError("TFRecord: record \(out.count) is cut short in its header") }
            let lengthBytes = Array(bytes[i..<(i + 8)])
            let length = lengthBytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            guard readUInt32(bytes, i + 8) == CRC32C.masked(lengthBytes) else {
                throw MetricsError("TFRecord: record \(out.count): the length's CRC does not match")
            }
            let start = i + 12
            guard length <= UInt64(bytes.count - start), bytes.count - start - Int(length) >= 4 else {
                throw MetricsError("TFRecord: record \(out.count) is cut short")
            }
            let data = Array(bytes[start..<(start + Int(length))])
            guard readUInt32(bytes, start + Int(length)) == CRC32C.masked(data) else {
                throw MetricsError("TFRecord: record \(out.count): the data's CRC does not match")
            }
            out.append(data)
            i = start + Int(length) + 4
        }
        return out
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    private static func readUInt32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
    }
}

/// Why a metrics file cannot be written or read; the text names the file.
public struct MetricsError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
