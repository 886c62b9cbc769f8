import Foundation
import Glibc

/// Files the CLI writes at the end of a run (--summary, --timeline), checked before the first
/// step: a path that cannot be written fails at once, not after the whole run.
enum OutputFile {
    /// Creates `path` (or opens it for appending, if it exists) and removes what it created.
    /// - Throws: `UsageError` naming `option`, the path and why.
    static func checkWritable(_ path: String, option: String) throws(UsageError) {
        let existed = FileManager.default.fileExists(atPath: path)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw UsageError("\(option) \(path): cannot write: \(String(cString: strerror(errno)))") }
        close(fd)
        if !existed { unlink(path) }
    }
}
