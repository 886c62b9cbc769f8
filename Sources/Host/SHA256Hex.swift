import Crypto
import Foundation

extension SHA256 {
    /// The digest of `bytes` as 64 lowercase hex digits, as Python's hashlib prints it.
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String { hash(data: bytes).hex }

    /// The digest of `text`'s UTF-8 bytes as 64 lowercase hex digits.
    public static func hex(_ text: String) -> String { hash(data: Array(text.utf8)).hex }
}

extension SHA256Digest {
    /// The digest as lowercase hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
