import Comm
import Crypto
import Dispatch
import Foundation
import Glibc
import Host
import NN
import Tensor

/// Writes checkpoints from rank 0 without holding training up for long.
///
/// 1. `save` (main thread) waits for the previous write if it is still running, copies the
///    parameters and optimizer state into a staging buffer allocated once, and returns: that
///    copy is all a step waits for.
/// 2. A background queue checks the copy is finite, checksums it, and writes
///    `ckpt-<step>.safetensors` through a temp file, fsync, rename and folder fsync; then it
///    points `latest` at it (again by rename) and deletes all but the newest `keep` files.
/// 3. A failure (a full disk, a read-only folder) is kept and thrown by the next `save` or by
///    `finish`; the files already there are never touched by a failed write.
public final class CheckpointWriter: @unchecked Sendable {
    public let directory: String
    private let keep: Int
    private let store: ParameterStore
    private let optimizer: Optimizer
    private let layout: [(name: String, shape: [Int])]
    private let staging: UnsafeMutableRawBufferPointer
    private let queue = DispatchQueue(label: "lockstep.checkpoint")
    private let lock = NSLock()
    private var failure: CheckpointError?
    private var writeSeconds: [Double] = []
    private var snapshotSeconds: [Double] = []
    public private(set) var lastWritten: String?

    /// Writes into `directory`, which `CheckpointFolder.prepare` has made ready.
    public init(directory: String, keep: Int, store: ParameterStore, optimizer: Optimizer) {
        self.directory = directory
        self.keep = keep
        self.store = store
        self.optimizer = optimizer
        layout = Checkpoint.layout(store, optimizer)
        let bytes = (1 + optimizer.state.count) * store.totalCount * 4
        staging = .allocate(byteCount: max(bytes, 1), alignment: 64)
    }

    deinit {
        queue.sync {}
        staging.deallocate()
    }

    /// Snapshots the state now and writes it in the background.
    /// - Throws: the failure of an earlier write, if any.
    public func save(step: Int, metadata: CheckpointMetadata) throws(CheckpointError) {
        let start = MonotonicClock.nanoseconds()
        queue.sync {}
        try rethrowFailure()
        let n = store.totalCount * 4
        staging.baseAddress!.copyMemory(from: store.values.pointer, byteCount: n)
        for (i, state) in optimizer.state.enumerated() {
            (staging.baseAddress! + (i + 1) * n).copyMemory(from: state.buffer.pointer, byteCount: n)
        }
        lock.withLock { snapshotSeconds.append(MonotonicClock.seconds(since: start)) }
        queue.async { [self] in
            let writeStart = MonotonicClock.nanoseconds()
            let result = Result { () throws(CheckpointError) in try write(step: step, metadata: metadata.strings) }
            lock.withLock {
                switch result {
                case .success: writeSeconds.append(MonotonicClock.seconds(since: writeStart))
                case let .failure(error): failure = error
                }
            }
        }
    }

    /// Waits for the write in flight. - Throws: its failure, if any.
    public func finish() throws(CheckpointError) {
        queue.sync {}
        try rethrowFailure()
    }

    /// Checkpoints written, mean snapshot and write times, bytes per checkpoint.
    public var stats: CheckpointStats {
        lock.withLock {
            CheckpointStats(
                written: writeSeconds.count,
                snapshotMsMean: snapshotSeconds.isEmpty ? 0 : snapshotSeconds.reduce(0, +) / Double(snapshotSeconds.count) * 1000,
                writeMsMean: writeSeconds.isEmpty ? 0 : writeSeconds.reduce(0, +) / Double(writeSeconds.count) * 1000,
                bytes: staging.count, resumedFrom: nil, loadMs: nil)
        }
    }

    private func rethrowFailure() throws(CheckpointError) {
        let f = lock.withLock { failure }
        if let f { throw f }
    }

    private func write(step: Int, metadata given: [String: String]) throws(CheckpointError) {
        let floats = UnsafeBufferPointer(start: staging.baseAddress!.assumingMemoryBound(to: Float.self), count: staging.count / 4)
        if let bad = firstNonFinite(floats) {
            let name = layout.isEmpty ? "?" : tensorName(at: bad)
            throw CheckpointError("refusing to write a checkpoint at step \(step): \(name) holds a non-finite value")
        }
        var metadata = given
        metadata[Checkpoint.ChecksumKey.data] = SHA256.hex(UnsafeRawBufferPointer(staging))
        metadata[Checkpoint.ChecksumKey.metadata] = Checkpoint.metadataChecksum(metadata)
        let header = SafeTensors.encodeHeader(layout, metadata: metadata)
        let name = CheckpointFolder.fileName(step: step)
        let headerBytes = UnsafeMutableRawBufferPointer.allocate(byteCount: header.count, alignment: 8)
        defer { headerBytes.deallocate() }
        headerBytes.copyBytes(from: header)
        let written = Result { () throws(DurableFile.Failure) in
            try DurableFile.write([UnsafeRawBufferPointer(headerBytes), UnsafeRawBufferPointer(staging)], to: name, in: directory)
            try DurableFile.pointLink(CheckpointFolder.latest, at: name, in: directory)
        }
        if case let .failure(error) = written {
            throw CheckpointError("checkpoint at step \(step): \(error.description); the previous checkpoint is intact")
        }
        lastWritten = "\(directory)/\(name)"
        for old in CheckpointFolder.files(in: directory).dropFirst(keep) where old != name {
            try? FileManager.default.removeItem(atPath: "\(directory)/\(old)")
        }
    }

    /// The tensor holding flat float `index` of the staging buffer.
    private func tensorName(at index: Int) -> String {
        var offset = 0
        for t in layout {
            let n = t.shape.reduce(1, *)
            if index < offset + n { return t.name }
            offset += n
        }
        return "element \(index)"
    }
}
