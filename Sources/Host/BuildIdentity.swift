import Crypto
import Foundation

/// What identifies this build of the binary: the GNU build-id the linker stamps into the ELF
/// file (a hash of its contents), or, if there is none, the SHA-256 of the executable.
public enum BuildIdentity {
    public static let current: String = gnuBuildID() ?? executableDigest()

    /// Reads the NT_GNU_BUILD_ID note through the ELF program headers of /proc/self/exe.
    private static func gnuBuildID() -> String? {
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/exe") else { return nil }
        defer { try? handle.close() }
        func read(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.read(upToCount: count), data.count == count
            else { return nil }
            return [UInt8](data)
        }
        func integer(_ bytes: [UInt8], _ at: Int, _ size: Int) -> UInt64 {
            (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
        }
        // A 64-bit little-endian ELF file: "\x7fELF", class 2, data 1.
        guard let elf = read(0, 64), elf[0] == 0x7F, elf[1] == 0x45, elf[4] == 2, elf[5] == 1 else { return nil }
        let phoff = integer(elf, 32, 8), phentsize = Int(integer(elf, 54, 2)), phnum = Int(integer(elf, 56, 2))
        guard phentsize >= 56, let table = read(phoff, phentsize * phnum) else { return nil }
        for i in 0..<phnum {
            let at = i * phentsize
            guard integer(table, at, 4) == 4 /* PT_NOTE */ else { continue }
            let offset = integer(table, at + 8, 8), size = Int(integer(table, at + 32, 8))
            guard size < 1 << 20, let notes = read(offset, size) else { continue }
            var p = 0
            while p + 12 <= notes.count {
                let nameSize = Int(integer(notes, p, 4)), descSize = Int(integer(notes, p + 4, 4))
                let type = integer(notes, p + 8, 4)
                let desc = p + 12 + ((nameSize + 3) & ~3)
                guard desc + descSize <= notes.count else { break }
                if type == 3 /* NT_GNU_BUILD_ID */ && nameSize == 4 && notes[p + 12] == 0x47 /* "G" */ {
                    return notes[desc..<(desc + descSize)].map { String(format: "%02x", $0) }.joined()
                }
                p = desc + ((descSize + 3) & ~3)
            }
        }
        return nil
    }

    private static func executableDigest() -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/self/exe") else { return "unknown" }
        return data.withUnsafeBytes { SHA256.hex($0) }
    }
}
