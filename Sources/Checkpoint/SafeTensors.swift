import Foundation

/// The safetensors format, which PyTorch, JAX and numpy users read without Lockstep:
///
///     8 bytes   N, the header length, little-endian UInt64
///     N bytes   a JSON object: name -> {"dtype", "shape", "data_offsets": [begin, end]},
///               plus "__metadata__": {string: string}; padded with spaces to 8-byte alignment
///     …         the data section: each tensor's little-endian bytes at its offsets
///
/// Lockstep writes F32 tensors only, back to back in the order given.
public enum SafeTensors {
    /// One tensor's entry in the header.
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        /// Byte range within the data section.
        public var range: Range<Int>
    }

    /// A parsed header: the entries in data order, the metadata, and where the data starts.
    public struct Header: Equatable, Sendable {
        public var entries: [Entry]
        public var metadata: [String: String]
        /// File offset of the data section.
        public var dataOffset: Int
        /// Length of the data section the entries cover.
        public var dataLength: Int
    }

    /// The header bytes (length prefix included) for F32 tensors of `shapes`, in order.
    public static func encodeHeader(_ shapes: [(name: String, shape: [Int])], metadata: [String: String]) -> [UInt8] {
        var parts: [String] = []
        var offset = 0
        for (name, shape) in shapes {
            let bytes = shape.reduce(1, *) * 4
            parts.append("\(quote(name)):{\"dtype\":\"F32\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        let meta = metadata.keys.sorted().map { "\(quote($0)):\(quote(metadata[$0]!))" }.joined(separator: ",")
        var json = "{\"__metadata__\":{\(meta)}" + (parts.isEmpty ? "" : "," + parts.joined(separator: ",")) + "}"
        while (8 + json.utf8.count) % 8 != 0 { json += " " }
        let length = UInt64(json.utf8.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + Array(json.utf8)
    }

    /// Parses and checks the header at the start of a file of `fileSize` bytes.
    /// - Parameter read: reads `count` bytes at `offset`.
    /// - Throws: a reason, e.g. "the header says 900 bytes of data, the file has 512".
    public static func parseHeader(fileSize: Int, read: (Int, Int) throws -> [UInt8]) throws -> Header {
        guard fileSize >= 8 else { throw SafeTensorsError("truncated: \(fileSize) bytes, too short for a safetensors header") }
        let prefix = try read(0, 8)
        let length = prefix.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(fileSize - 8), length < 100_000_000 else {
            throw SafeTensorsError("not a safetensors file (header length \(length) does not fit a file of \(fileSize) bytes)")
        }
        let bytes = try read(8, Int(length))
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw SafeTensorsError("not a safetensors file (the header is not a JSON object)")
        }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw SafeTensorsError("__metadata__ is not a string map") }
                metadata = m
                continue
            }
            guard let t = value as? [String: Any], let dtype = t["dtype"] as? String, let shape = t["shape"] as? [Int],
                  let offsets = t["data_offsets"] as? [Int], offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1]
            else { throw SafeTensorsError("tensor \(name): malformed header entry") }
            guard dtype == "F32" else { throw SafeTensorsError("tensor \(name): dtype \(dtype), Lockstep reads F32 only") }
            guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) * 4 == offsets[1] - offsets[0] else {
                throw SafeTensorsError("tensor \(name): shape \(shape) does not match its \(offsets[1] - offsets[0]) bytes")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, range: offsets[0]..<offsets[1]))
        }
        entries.sort { $0.range.lowerBound < $1.range.lowerBound }
        var end = 0
        for e in entries {
            guard e.range.lowerBound == end else {
                throw SafeTensorsError("tensor \(e.name): data at byte \(e.range.lowerBound), expected \(end) (gaps or overlaps)")
            }
            end = e.range.upperBound
        }
        let dataOffset = 8 + Int(length)
        guard dataOffset + end <= fileSize else {
            throw SafeTensorsError("truncated: the header describes \(end) bytes of data, the file has \(fileSize - dataOffset)")
        }
        guard dataOffset + end == fileSize else {
            throw SafeTensorsError("\(fileSize - dataOffset - end) bytes after the last tensor")
        }
        return Header(entries: entries, metadata: metadata, dataOffset: dataOffset, dataLength: end)
    }

    private static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 { out += String(format: "\\u%04x", c.value) } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }
}

/// Why bytes are not a readable safetensors file.
public struct SafeTensorsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
