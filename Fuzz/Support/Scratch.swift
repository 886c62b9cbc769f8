import Foundation

/// A folder of this process's own for targets whose reader takes a path: each input is written
/// to a file there (the same names every time, so that a run of millions of inputs leaves a few
/// files), and the folder is removed when the process exits normally.
///
/// The folder is in memory (/dev/shm) where there is one: on ext4, closing a file rewritten
/// after a truncation starts its writeback, and under another process's disk load one input
/// of the IDX target took 13 s (it takes milliseconds).
public enum Scratch {
    /// `/dev/shm/lockstep-fuzz-<pid>` (else in the temporary folder), created on first use.
    public static let folder: String = {
        let memory = access("/dev/shm", W_OK) == 0
        let path = (memory ? "/dev/shm/" : NSTemporaryDirectory()) + "lockstep-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.folder) }
        return path
    }()

    /// Writes `bytes` to `name` in the folder (replacing what was there) and returns its path.
    @discardableResult
    public static func write(_ bytes: some Collection<UInt8>, to name: String) -> String {
        let path = folder + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "Scratch: cannot create \(path): \(String(cString: strerror(errno)))")
        defer { close(fd) }
        let array = Array(bytes)
        var done = 0
        while done < array.count {
            let n = array.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, array.count - done) }
            precondition(n > 0, "Scratch: cannot write \(path): \(String(cString: strerror(errno)))")
            done += n
        }
        return path
    }

    /// An empty folder `name` in the scratch folder (emptied if it was there), and its path.
    public static func emptyFolder(_ name: String) -> String {
        let path = folder + "/" + name
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
