import Foundation
import Glibc

/// Files the CLI writes at the end of a run (--summary, --timeline, --metrics), checked before
/// the first step rather than after the last: the folder exists, a file can be created in it
/// (a probe file, created and removed), and an existing file opens for writing (not truncated).
enum OutputFile {
    /// - Throws: `UsageError` naming `option`, the path and what stops it from being written.
    static func checkWritable(_ path: String, option: String) throws(UsageError) {
        if let problem = problem(writing: path, for: option) { throw UsageError(problem) }
    }

    /// What stops `path` from being written, as a line naming `option` and the path; nil if nothing.
    private static func problem(writing path: String, for option: String) -> String? {
        let at = "\(option) \(path)"
        guard !path.isEmpty else { return "\(option): the path is empty" }
        var status = stat()
        let exists = stat(path, &status) == 0
        if exists && status.st_mode & S_IFMT == S_IFDIR { return "\(at): is a folder" }
        let parent = (path as NSString).deletingLastPathComponent
        let folder = parent.isEmpty ? "." : parent
        guard stat(folder, &status) == 0 else {
            return errno == ENOENT || errno == ENOTDIR ? "\(at): the folder \(folder) does not exist"
                                                      : "\(at): cannot reach the folder \(folder): \(errnoText())"
        }
        guard status.st_mode & S_IFMT == S_IFDIR else { return "\(at): \(folder) is not a folder" }
        let probe = folder + "/.lockstep-probe-\(getpid())"
        let created = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard created >= 0 else { return "\(at): cannot create files in \(folder): \(errnoText())" }
        close(created)
        unlink(probe)
        if exists {
            let opened = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            guard opened >= 0 else { return "\(at): cannot write it: \(errnoText())" }
            close(opened)
        }
        return nil
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
