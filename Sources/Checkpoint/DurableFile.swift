import Foundation
import Glibc

/// Crash-safe file replacement: write a temp file in the same folder, fsync it, rename it over
/// the target, fsync the folder. At every instant the target is either the old complete file
/// or the new complete file.
enum DurableFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Writes `chunks` to `directory/name` atomically.
    static func write(_ chunks: [UnsafeRawBufferPointer], to name: String, in directory: String) throws(Failure) {
        let temp = "\(directory)/.\(name).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: "\(temp): cannot create: \(errnoText())") }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        for chunk in chunks {
            var offset = 0
            while offset < chunk.count {
                let n = Glibc.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    let reason = errnoText()
                    unlink(temp)
                    throw Failure(description: "\(temp): write failed: \(reason)")
                }
                offset += n
            }
        }
        if fsync(fd) != 0 {
            let reason = errnoText()
            unlink(temp)
            throw Failure(description: "\(temp): fsync failed: \(reason)")
        }
        closed = true
        if close(fd) != 0 {
            let reason = errnoText()
            unlink(temp)
            throw Failure(description: "\(temp): close failed: \(reason)")
        }
        guard rename(temp, "\(directory)/\(name)") == 0 else {
            let reason = errnoText()
            unlink(temp)
            throw Failure(description: "\(directory)/\(name): rename failed: \(reason)")
        }
        try syncDirectory(directory)
    }

    /// Points the symlink `directory/name` at `target` (a name in the same folder), atomically.
    static func pointLink(_ name: String, at target: String, in directory: String) throws(Failure) {
        let temp = "\(directory)/.\(name).tmp"
        unlink(temp)
        guard symlink(target, temp) == 0 else { throw Failure(description: "\(temp): cannot create link: \(errnoText())") }
        guard rename(temp, "\(directory)/\(name)") == 0 else {
            let reason = errnoText()
            unlink(temp)
            throw Failure(description: "\(directory)/\(name): rename failed: \(reason)")
        }
        try syncDirectory(directory)
    }

    /// Creates `path` and any missing parents, like `mkdir -p`.
    static func makeDirectory(_ path: String) throws(Failure) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw Failure(description: "\(prefix): cannot create: \(errnoText())")
            }
        }
    }

    static func syncDirectory(_ directory: String) throws(Failure) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "\(directory): cannot open folder: \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(description: "\(directory): fsync failed: \(errnoText())") }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
