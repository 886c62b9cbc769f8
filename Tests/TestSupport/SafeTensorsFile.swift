import Foundation
import XCTest

/// A safetensors file read independently of Lockstep's own reader, for tests that compare
/// checkpoints: 8 bytes little-endian header length, a JSON header (name -> dtype, shape,
/// data_offsets; "__metadata__" -> strings), then the raw little-endian data.
/// Reads F32 tensors only (all Lockstep writes).
public struct SafeTensorsFile {
    public struct Tensor {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let values: [Float]
    }

    /// Why a file could not be read.
    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
    }

    public let path: String
    /// The tensors in data order.
    public let tensors: [Tensor]
    public let metadata: [String: String]
    /// The file offset of the data section.
    public let dataOffset: Int

    public init(path: String) throws {
        self.path = path
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard bytes.count >= 8 else { throw ReadError(description: "\(path): \(bytes.count) bytes, too short") }
        let length = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        guard length >= 2, 8 + length <= bytes.count else {
            throw ReadError(description: "\(path): header length \(length) does not fit \(bytes.count) bytes")
        }
        dataOffset = 8 + length
        guard let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<dataOffset])) as? [String: Any] else {
            throw ReadError(description: "\(path): the header is not a JSON object")
        }
        metadata = header["__metadata__"] as? [String: String] ?? [:]
        var read: [(offset: Int, tensor: Tensor)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw ReadError(description: "\(path): malformed entry \(name)") }
            guard dtype == "F32" else { throw ReadError(description: "\(path): \(name) is \(dtype), only F32 is read") }
            let begin = dataOffset + offsets[0], end = dataOffset + offsets[1]
            guard begin <= end, end <= bytes.count, (end - begin) == 4 * shape.reduce(1, *) else {
                throw ReadError(description: "\(path): \(name) has offsets \(offsets) for shape \(shape) in \(bytes.count) bytes")
            }
            var values = [Float](repeating: 0, count: (end - begin) / 4)
            for i in values.indices {
                let at = begin + 4 * i
                let bits = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
                values[i] = Float(bitPattern: bits)
            }
            read.append((offsets[0], Tensor(name: name, dtype: dtype, shape: shape, values: values)))
        }
        tensors = read.sorted { $0.offset < $1.offset }.map(\.tensor)
    }

    public var names: [String] { tensors.map(\.name) }

    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name } }

    /// Writes F32 `tensors` (in order) and `metadata` as a safetensors file, as a foreign tool would.
    public static func write(_ tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String],
                             to path: String) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var data = Data()
        for t in tensors {
            precondition(t.values.count == t.shape.reduce(1, *), "\(t.name): \(t.values.count) values for \(t.shape)")
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [data.count, data.count + 4 * t.values.count]]
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        var json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var file = Data((0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64($0))) })
        file.append(contentsOf: json)
        file.append(data)
        try file.write(to: URL(fileURLWithPath: path))
    }
}

/// Asserts that two checkpoints hold the same tensor names and shapes, and that every
/// tensor of `actual` is within `relative` × (the largest |value| of that tensor in
/// `expected`) of `expected`, element by element, but for the elements `ignoring` names.
/// Returns the worst relative difference.
@discardableResult
public func assertCheckpointsClose(_ actual: SafeTensorsFile, _ expected: SafeTensorsFile, relative: Double,
                                   _ message: @autoclosure () -> String = "",
                                   ignoring: (_ tensor: String) -> Range<Int>? = { _ in nil },
                                   file: StaticString = #filePath, line: UInt = #line) -> Double {
    XCTAssertEqual(actual.names, expected.names, "\(message()): tensor names", file: file, line: line)
    var worstOverall = 0.0
    for e in expected.tensors {
        guard let a = actual[e.name] else { continue }
        XCTAssertEqual(a.shape, e.shape, "\(message()): shape of \(e.name)", file: file, line: line)
        guard a.values.count == e.values.count else { continue }
        let scale = max(e.values.reduce(0.0) { max($0, abs(Double($1))) }, 1e-12)
        var worst = 0.0, worstIndex = 0
        let ignored = ignoring(e.name) ?? 0..<0
        for i in e.values.indices where !ignored.contains(i) {
            let d = abs(Double(a.values[i]) - Double(e.values[i]))
            if !(d <= worst) { worst = d; worstIndex = i }
        }
        worstOverall = max(worstOverall, worst / scale)
        if !(worst <= relative * scale) {
            XCTFail("\(message()): \(e.name)[\(worstIndex)] is \(a.values[worstIndex]), expected \(e.values[worstIndex]): difference \(worst) exceeds \(relative) × scale \(scale)",
                    file: file, line: line)
        }
    }
    return worstOverall
}

/// Asserts that two checkpoints hold bitwise-identical tensors under the same names and shapes.
public func assertCheckpointsBitwiseEqual(_ actual: SafeTensorsFile, _ expected: SafeTensorsFile,
                                          _ message: @autoclosure () -> String = "", file: StaticString = #filePath,
                                          line: UInt = #line) {
    XCTAssertEqual(actual.names, expected.names, "\(message()): tensor names", file: file, line: line)
    for e in expected.tensors {
        guard let a = actual[e.name] else { continue }
        XCTAssertEqual(a.shape, e.shape, "\(message()): shape of \(e.name)", file: file, line: line)
        let differing = zip(a.values, e.values).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
        if let first = differing.first {
            XCTFail("\(message()): \(e.name) differs bitwise in \(differing.count) of \(e.values.count) elements; first at \(first.offset): \(first.element.0) vs \(first.element.1)",
                    file: file, line: line)
        }
    }
}
