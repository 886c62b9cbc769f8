import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Appends whole lines to a file with one `write` each, so that every record reaches the
/// operating system as it is logged: a run that is killed keeps every record before.
final class LineFile {
    let path: String
    private let fd: Int32

    /// - Parameter append: keep what the file holds (a resumed run), or start it empty.
    init(path: String, append: Bool) throws(MetricsError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o644)
        guard fd >= 0 else { throw MetricsError("\(path): cannot open for writing: \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) throws(MetricsError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw MetricsError("\(path): cannot write: \(String(cString: strerror(errno)))") }
            done += n
        }
    }
}

/// `--metrics FILE`: one JSON object per line (see `MetricRecord`).
public final class JSONLinesWriter {
    private let file: LineFile

    public init(path: String, append: Bool = false) throws(MetricsError) {
        file = try LineFile(path: path, append: append)
    }

    public func write(_ record: MetricRecord) throws(MetricsError) {
        try file.write(Array((record.jsonLine + "\n").utf8))
    }
}

/// `--tensorboard DIR`: an event file `events.out.tfevents.<unix seconds>.<host>.<pid>.0`
/// in DIR (made if missing), of TFRecord-framed `Event`s: the file version, then one event
/// per record with its values as scalars under their tags.
public final class TensorBoardWriter {
    public let path: String
    private let file: LineFile

    public init(directory: String, time: Double) throws(MetricsError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw MetricsError("\(directory): cannot create the TensorBoard folder: \((error as NSError).localizedDescription)")
        }
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        path = "\(directory)/events.out.tfevents.\(Int(time)).\(host).\(getpid()).0"
        file = try LineFile(path: path, append: false)
        try file.write(TFRecord.frame(TensorBoardEvent.fileVersion(wallTime: time)))
    }

    public func write(_ record: MetricRecord) throws(MetricsError) {
        let scalars = record.values.filter { $0.value.isFinite }.map { (tag: MetricRecord.tag(kind: record.kind, key: $0.key), value: Float($0.value)) }
        guard !scalars.isEmpty else { return }
        try file.write(TFRecord.frame(TensorBoardEvent.scalars(scalars, step: record.step, wallTime: record.time)))
    }
}

/// Where a run's records go: either file, both, or neither.
public final class MetricsSinks {
    private let lines: JSONLinesWriter?
    private let board: TensorBoardWriter?

    public init(lines: JSONLinesWriter?, board: TensorBoardWriter?) {
        self.lines = lines
        self.board = board
    }

    public var isEmpty: Bool { lines == nil && board == nil }

    public func write(_ record: MetricRecord) throws(MetricsError) {
        try lines?.write(record)
        try board?.write(record)
    }
}
