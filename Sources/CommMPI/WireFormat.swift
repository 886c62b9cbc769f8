import Comm
import CMPI

/// How elements travel between ranks: as themselves, or narrowed to 16 bits. Sums are always
/// done in the element type, after widening what was received.
protocol WireFormat {
    associatedtype Element: ReducibleElement
    associatedtype Wire
    /// Wire == Element and the conversions are copies: send straight from the buffer.
    static var isIdentity: Bool { get }
    static var datatype: MPI_Datatype { get }
    static func encode(_ from: UnsafePointer<Element>, _ to: UnsafeMutablePointer<Wire>, _ count: Int)
    static func decode(_ from: UnsafePointer<Wire>, _ to: UnsafeMutablePointer<Element>, _ count: Int)
    static func decodeAccumulate(_ from: UnsafePointer<Wire>, _ to: UnsafeMutablePointer<Element>, _ count: Int)
}

extension WireFormat {
    /// Rounds values in place to what a receiver decodes, so that the rank that owns a
    /// reduced chunk holds the same bits as the ranks it sends it to.
    static func roundTrip(_ values: UnsafeMutablePointer<Element>, _ count: Int, scratch: UnsafeMutablePointer<Wire>) {
        if isIdentity || count == 0 { return }
        encode(values, scratch, count)
        decode(scratch, values, count)
    }
}

/// Elements as themselves: fp32 gradients, and deterministic mode's integers and maxima.
enum PlainWire<E: ReducibleElement>: WireFormat {
    static var isIdentity: Bool { true }
    static var datatype: MPI_Datatype { elementDatatype(E.self) }
    static func encode(_ from: UnsafePointer<E>, _ to: UnsafeMutablePointer<E>, _ count: Int) {
        to.update(from: from, count: count)
    }
    static func decode(_ from: UnsafePointer<E>, _ to: UnsafeMutablePointer<E>, _ count: Int) {
        to.update(from: from, count: count)
    }
    static func decodeAccumulate(_ from: UnsafePointer<E>, _ to: UnsafeMutablePointer<E>, _ count: Int) {
        E.accumulate(to, from, count: count)
    }
}

/// IEEE half precision on the wire (5-bit exponent: values beyond ±65504 become ±Inf).
enum Float16Wire: WireFormat {
    static var isIdentity: Bool { false }
    static var datatype: MPI_Datatype { lockstep_type_uint16() }
    static func encode(_ from: UnsafePointer<Float>, _ to: UnsafeMutablePointer<UInt16>, _ count: Int) {
        for i in 0..<count { to[i] = Float16(from[i]).bitPattern }
    }
    static func decode(_ from: UnsafePointer<UInt16>, _ to: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { to[i] = Float(Float16(bitPattern: from[i])) }
    }
    static func decodeAccumulate(_ from: UnsafePointer<UInt16>, _ to: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { to[i] += Float(Float16(bitPattern: from[i])) }
    }
}

/// bfloat16 on the wire: fp32's exponent range with an 8-bit mantissa, rounded to nearest even.
enum BFloat16Wire: WireFormat {
    static var isIdentity: Bool { false }
    static var datatype: MPI_Datatype { lockstep_type_uint16() }
    static func encode(_ from: UnsafePointer<Float>, _ to: UnsafeMutablePointer<UInt16>, _ count: Int) {
        for i in 0..<count {
            let bits = from[i].bitPattern
            if from[i].isNaN {
                to[i] = 0x7FC0
            } else {
                let roundingBias: UInt32 = 0x7FFF + ((bits >> 16) & 1)
                to[i] = UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
            }
        }
    }
    static func decode(_ from: UnsafePointer<UInt16>, _ to: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { to[i] = Float(bitPattern: UInt32(from[i]) << 16) }
    }
    static func decodeAccumulate(_ from: UnsafePointer<UInt16>, _ to: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { to[i] += Float(bitPattern: UInt32(from[i]) << 16) }
    }
}
