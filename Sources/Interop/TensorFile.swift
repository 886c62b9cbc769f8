import Foundation

/// A safetensors file of any origin (`safetensors.torch.save_file`, numpy, Lockstep): every
/// tensor's name, dtype, shape and bytes. Unlike a checkpoint it may hold any dtype, so that a
/// file of the wrong one gets a message that names the tensor.
public struct TensorFile: Sendable {
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        /// Byte range within `data`.
        public var range: Range<Int>
    }

    public let path: String
    /// In data order.
    public let entries: [Entry]
    public let metadata: [String: String]
    /// The data section.
    public let data: [UInt8]

    /// Bytes per element of the dtypes safetensors defines.
    public static let dtypeSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "I16": 2, "F16": 2, "BF16": 2,
        "U32": 4, "I32": 4, "F32": 4, "U64": 8, "I64": 8, "F64": 8,
    ]

    /// Reads and checks `path`'s structure: the header, every entry's dtype, shape and size,
    /// and that the entries tile the data section.
    /// - Throws: `InteropError` naming the file and what is wrong with it.
    public init(path: String) throws(InteropError) {
        self.path = path
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw InteropError("\(path): \(FileManager.default.fileExists(atPath: path) ? "cannot read it" : "no such file")")
        }
        let file = [UInt8](bytes)
        guard file.count >= 8 else { throw InteropError("\(path): \(file.count) bytes, too short for a safetensors file") }
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(file[$1]) << (8 * UInt64($1)) }
        guard length <= UInt64(file.count - 8) else {
            throw InteropError("\(path): not a safetensors file (header length \(length) does not fit a file of \(file.count) bytes)")
        }
        let start = 8 + Int(length)
        guard let object = try? JSONSerialization.jsonObject(with: Data(file[8..<start])) as? [String: Any] else {
            throw InteropError("\(path): not a safetensors file (the header is not a JSON object)")
        }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                metadata = value as? [String: String] ?? [:]
                continue
            }
            guard let t = value as? [String: Any], let dtype = t["dtype"] as? String, let shape = t["shape"] as? [Int],
                  let offsets = t["data_offsets"] as? [Int], offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1],
                  shape.allSatisfy({ $0 >= 0 })
            else { throw InteropError("\(path): tensor \(name): malformed header entry") }
            guard let size = Self.dtypeSizes[dtype] else { throw InteropError("\(path): tensor \(name): unknown dtype \(dtype)") }
            guard shape.reduce(1, *) * size == offsets[1] - offsets[0] else {
                throw InteropError("\(path): tensor \(name): shape \(shape) of \(dtype) does not match its \(offsets[1] - offsets[0]) bytes")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, range: offsets[0]..<offsets[1]))
        }
        entries.sort { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
        var end = 0
        for e in entries {
            guard e.range.lowerBound == end else {
                throw InteropError("\(path): tensor \(e.name): data at byte \(e.range.lowerBound), expected \(end) (gaps or overlaps)")
            }
            end = e.range.upperBound
        }
        guard start + end == file.count else {
            throw InteropError("\(path): the header describes \(end) bytes of data, the file has \(file.count - start)")
        }
        self.entries = entries
        self.metadata = metadata
        data = Array(file[start...])
    }

    public subscript(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// The F32 tensor `entry` as Floats.
    public func floats(_ entry: Entry) -> [Float] {
        precondition(entry.dtype == "F32", "TensorFile.floats: \(entry.name) is \(entry.dtype)")
        return data.withUnsafeBytes { raw in
            (0..<(entry.range.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: entry.range.lowerBound + 4 * $0, as: UInt32.self).littleEndian) }
        }
    }
}

/// Writes safetensors files of F32 and I32 tensors, in the order given.
public enum TensorFileWriter {
    public enum Values: Sendable {
        case f32([Float])
        case i32([Int32])

        var dtype: String { if case .f32 = self { "F32" } else { "I32" } }
        var count: Int { switch self { case let .f32(v): v.count; case let .i32(v): v.count } }
    }

    public static func bytes(_ tensors: [(name: String, shape: [Int], values: Values)], metadata: [String: String] = [:]) -> [UInt8] {
        var parts: [String] = []
        var offset = 0
        for t in tensors {
            precondition(t.shape.reduce(1, *) == t.values.count, "TensorFileWriter: \(t.name) has \(t.values.count) values for \(t.shape)")
            let size = t.values.count * 4
            parts.append("\(json(t.name)):{\"dtype\":\"\(t.values.dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        let meta = metadata.keys.sorted().map { "\(json($0)):\(json(metadata[$0]!))" }.joined(separator: ",")
        var header = "{\"__metadata__\":{\(meta)}" + (parts.isEmpty ? "" : "," + parts.joined(separator: ",")) + "}"
        while header.utf8.count % 8 != 0 { header += " " }
        var out = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.utf8.count) >> (8 * UInt64($0))) } + Array(header.utf8)
        out.reserveCapacity(out.count + offset)
        for t in tensors {
            switch t.values {
            // Little-endian machines only (x86-64, AArch64), as the checkpoints.
            case let .f32(v): v.withUnsafeBytes { out.append(contentsOf: $0) }
            case let .i32(v): v.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// - Throws: `InteropError` naming the file.
    public static func write(_ tensors: [(name: String, shape: [Int], values: Values)], metadata: [String: String] = [:],
                             to path: String) throws(InteropError) {
        do {
            try Data(bytes(tensors, metadata: metadata)).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw InteropError("\(path): cannot write: \((error as NSError).localizedDescription)")
        }
    }

    static func json(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}

/// Why weights cannot be imported or a model exported; the text names the file and the tensor.
public struct InteropError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
