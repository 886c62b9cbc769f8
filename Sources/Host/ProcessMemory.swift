import Foundation
import Glibc

/// How much more memory this process may take: the room under its address-space limit
/// (`ulimit -v`), and its share of the memory the node has available, whichever is less.
public enum ProcessMemory {
    /// The bytes this process may still take, and what limits them; nil if neither is known.
    /// - Parameter ranksOnNode: the processes that share the node's available memory.
    public static func room(ranksOnNode: Int) -> (bytes: Int, limit: String)? {
        var candidates: [(bytes: Int, limit: String)] = []
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max, let size = statusField("VmSize") {
            candidates.append((max(Int(clamping: limit.rlim_cur) - size, 0), "the address-space limit (ulimit -v)"))
        }
        if let available = meminfoField("MemAvailable") {
            candidates.append((available / max(ranksOnNode, 1), "the node's available memory shared by \(ranksOnNode) rank\(ranksOnNode == 1 ? "" : "s")"))
        }
        return candidates.min { $0.bytes < $1.bytes }
    }

    /// A `kB` field of /proc/self/status, in bytes.
    private static func statusField(_ name: String) -> Int? { field(name, in: "/proc/self/status") }

    /// A `kB` field of /proc/meminfo, in bytes.
    private static func meminfoField(_ name: String) -> Int? { field(name, in: "/proc/meminfo") }

    private static func field(_ name: String, in path: String) -> Int? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let number = line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
            return number.map { $0 * 1024 }
        }
        return nil
    }
}
