import Comm
import Foundation

/// What identifies this build of the binary: the GNU build-id the linker stamps into the ELF
/// file (a hash of its contents), or, if there is none, the SHA-256 of the executable.
enum BuildIdentity {
    static let current: String = gnuBuildID() ?? executableDigest()

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

/// Start-up agreement: every rank must run the same binary and the same config, which
/// together fix the model. Ranks gather a hash of each; where one differs from rank 0's, the
/// run stops before any collective that depends on them, naming the ranks (ranks started
/// with different configs would otherwise hang in an all-reduce of different sizes, or in
/// mapping shared memory that only some of them map).
enum StartupCheck {
    static func verify(settings: TrainingConfig, comm: Communicator) throws {
        guard comm.size > 1 else { return }
        let parts = [("binary", BuildIdentity.current), ("config", settings.config.canonicalText)]
        var mine = parts.map { UInt64(SHA256.hex($0.1).prefix(16), radix: 16)! }
        var all = [UInt64](repeating: 0, count: parts.count * comm.size)
        try mine.withUnsafeBytes { m in
            try all.withUnsafeMutableBytes { a in try comm.allGather(m, into: a) }
        }
        mine.removeAll()
        var problems: [String] = []
        for (k, part) in parts.enumerated() {
            let ofRank = { (r: Int) in all[r * parts.count + k] }
            let differing = (1..<comm.size).filter { ofRank($0) != ofRank(0) }
            guard let first = differing.first else { continue }
            let hex = { (v: UInt64) in String(String(v, radix: 16).prefix(8)) }
            var problem = "rank\(differing.count > 1 ? "s" : "") \(differing.map(String.init).joined(separator: ", ")) \(differing.count > 1 ? "have" : "has") a different \(part.0) than rank 0 (\(differing.map { hex(ofRank($0)) }.joined(separator: ", ")) vs \(hex(ofRank(0))))"
            if part.0 == "config" {
                // Name the keys: the first differing rank shows its config to rank 0.
                let theirs = try comm.broadcast(text: settings.config.canonicalText, root: first)
                problem += ": " + configDifferences(settings.config.canonicalText, theirs, rank: first)
            }
            problems.append(problem)
        }
        if !problems.isEmpty {
            throw TrainingError("ranks disagree at start-up: \(problems.joined(separator: "; ")); start every rank with the same binary and config",
                                exitCode: ExitCode.mismatch)
        }
    }
}

/// "train.batch = 32 on rank 0, 16 on rank 1; …" for the lines of two canonical configs that differ.
func configDifferences(_ mine: String, _ theirs: String, rank: Int) -> String {
    func entries(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.range(of: " = ") else { continue }
            result[String(line[..<eq.lowerBound])] = String(line[eq.upperBound...])
        }
        return result
    }
    let a = entries(mine), b = entries(theirs)
    let keys = Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
    let shown = keys.prefix(3).map { "\($0) = \(a[$0] ?? "(unset)") on rank 0, \(b[$0] ?? "(unset)") on rank \(rank)" }
    return shown.joined(separator: "; ") + (keys.count > 3 ? "; and \(keys.count - 3) more" : "")
}
