import Crypto
import Host
import XCTest

/// SHA-256 as checkpoints and config hashes print it: the FIPS 180-4 examples, and across block
/// boundaries against itself fed in pieces.
final class SHA256Tests: XCTestCase {
    func testKnownDigests() {
        XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(String(repeating: "a", count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testIncrementalUpdatesMatchOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = bytes.withUnsafeBytes { SHA256.hex($0) }
        for split in [1, 55, 56, 63, 64, 65, 128, 999] {
            var h = SHA256()
            h.update(data: bytes[..<split])
            h.update(data: bytes[split...])
            XCTAssertEqual(h.finalize().hex, whole, "split at \(split)")
        }
    }
}
