/// The few fields of TensorFlow's `Event` protobuf (tensorflow/core/util/event.proto) that a
/// scalar curve needs, encoded by hand:
///
///     message Event   { double wall_time = 1; int64 step = 2;
///                       oneof what { string file_version = 3; Summary summary = 5; } }
///     message Summary { repeated Value value = 1; }
///     message Value   { string tag = 1; float simple_value = 2; }
///
/// Why by hand rather than with swift-protobuf and generated code: these are five fields of
/// three messages, whose wire format (varint keys, fixed64 doubles, fixed32 floats,
/// length-delimited strings and messages) fits in this file; a protobuf runtime would add a
/// package dependency and a code generator to the build for them. A test decodes what this
/// writes, and TensorBoard's own EventAccumulator reads it (InteropTests, scripts/interop).
public enum TensorBoardEvent {
    /// The first record of every event file: the format version TensorBoard expects.
    public static func fileVersion(wallTime: Double) -> [UInt8] {
        var e = ProtoWriter()
        e.double(field: 1, wallTime)
        e.string(field: 3, "brain.Event:2")
        return e.bytes
    }

    /// One event holding `scalars` (tag, value) at `step`.
    public static func scalars(_ scalars: [(tag: String, value: Float)], step: Int, wallTime: Double) -> [UInt8] {
        var summary = ProtoWriter()
        for (tag, value) in scalars {
            var v = ProtoWriter()
            v.string(field: 1, tag)
            v.float(field: 2, value)
            summary.message(field: 1, v.bytes)
        }
        var e = ProtoWriter()
        e.double(field: 1, wallTime)
        e.varint(field: 2, UInt64(bitPattern: Int64(step)))
        e.message(field: 5, summary.bytes)
        return e.bytes
    }

    /// A decoded event: its wall time, step, file version (if any) and scalars. For tests and
    /// for reading back what was written.
    public struct Decoded: Equatable, Sendable {
        public var wallTime = 0.0
        public var step = 0
        public var fileVersion: String?
        public var scalars: [String: Float] = [:]
    }

    /// Decodes the fields above from an `Event`, skipping any others.
    public static func decode(_ bytes: [UInt8]) throws(MetricsError) -> Decoded {
        var out = Decoded()
        var r = ProtoReader(bytes)
        while let (field, value) = try r.next() {
            switch (field, value) {
            case let (1, .fixed64(bits)): out.wallTime = Double(bitPattern: bits)
            case let (2, .varint(v)): out.step = Int(Int64(bitPattern: v))
            case let (3, .bytes(b)): out.fileVersion = String(decoding: b, as: UTF8.self)
            case let (5, .bytes(summary)):
                var s = ProtoReader(summary)
                while let (sf, sv) = try s.next() {
                    guard sf == 1, case let .bytes(valueBytes) = sv else { continue }
                    var v = ProtoReader(valueBytes)
                    var tag = "", number: Float?
                    while let (vf, vv) = try v.next() {
                        if vf == 1, case let .bytes(t) = vv { tag = String(decoding: t, as: UTF8.self) }
                        if vf == 2, case let .fixed32(bits) = vv { number = Float(bitPattern: bits) }
                    }
                    if let number { out.scalars[tag] = number }
                }
            default: break
            }
        }
        return out
    }
}

/// Protocol-buffer wire format, the parts the events use.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    private mutating func raw(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { raw(UInt64(field) << 3 | wireType) }

    mutating func varint(field: Int, _ v: UInt64) {
        key(field, 0)
        raw(v)
    }

    mutating func double(field: Int, _ v: Double) {
        key(field, 1)
        bytes += TFRecord.littleEndian(v.bitPattern)
    }

    mutating func float(field: Int, _ v: Float) {
        key(field, 5)
        bytes += TFRecord.littleEndian(v.bitPattern)
    }

    mutating func message(field: Int, _ b: [UInt8]) {
        key(field, 2)
        raw(UInt64(b.count))
        bytes += b
    }

    mutating func string(field: Int, _ s: String) { message(field: field, Array(s.utf8)) }
}

struct ProtoReader {
    enum Value {
        case varint(UInt64), fixed64(UInt64), fixed32(UInt32), bytes([UInt8])
    }

    private let bytes: [UInt8]
    private var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private mutating func raw() throws(MetricsError) -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard i < bytes.count, shift < 64 else { throw MetricsError("protobuf: a varint runs past the end") }
            let b = bytes[i]
            i += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    private mutating func fixed(_ n: Int) throws(MetricsError) -> UInt64 {
        guard i + n <= bytes.count else { throw MetricsError("protobuf: a fixed-width field runs past the end") }
        defer { i += n }
        return (0..<n).reduce(UInt64(0)) { $0 | UInt64(bytes[i + $1]) << (8 * UInt64($1)) }
    }

    mutating func next() throws(MetricsError) -> (Int, Value)? {
        guard i < bytes.count else { return nil }
        let key = try raw()
        let field = Int(key >> 3)
        switch key & 7 {
        case 0: return (field, .varint(try raw()))
        case 1: return (field, .fixed64(try fixed(8)))
        case 5: return (field, .fixed32(UInt32(try fixed(4))))
        case 2:
            let n = Int(try raw())
            guard n >= 0, i + n <= bytes.count else { throw MetricsError("protobuf: a length-delimited field runs past the end") }
            defer { i += n }
            return (field, .bytes(Array(bytes[i..<(i + n)])))
        default: throw MetricsError("protobuf: wire type \(key & 7) is not supported")
        }
    }
}
