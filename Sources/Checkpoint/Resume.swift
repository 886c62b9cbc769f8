import Comm
import Host
import Foundation

/// Where `--resume` points: a checkpoint file, or `latest` in checkpoint.dir.
public enum ResumeSource: Sendable, Equatable {
    case path(String)
    case latest

    public init(_ argument: String) {
        self = argument == "latest" ? .latest : .path(argument)
    }
}

/// Resuming, step by step:
/// 1. Rank 0 reads the checkpoint and verifies it (structure, format, checksums). For
///    `latest` it falls back to the newest checkpoint that verifies, and says so.
/// 2. Rank 0 broadcasts the outcome: an error every rank then reports alike, or the
///    metadata and the data section, so that only rank 0 needs to see the file.
///    Rank 0 also checks the tensors against the model and optimizer of this run (every rank
///    has the same, as the start-up check made sure).
/// 3. The trainer restores the tensors, the step, the epoch and the position in the global
///    sample order.
public enum Resume {
    /// A verified checkpoint, on every rank.
    public struct Point: Sendable {
        public let path: String
        public let metadata: CheckpointMetadata
        /// The data section: parameters, then each optimizer state buffer.
        public let data: [UInt8]
    }

    /// Loads `source` on rank 0, checks its tensors against `layout`, and gives every rank the result.
    /// - Throws: `CheckpointError` on every rank alike, or `CommError`.
    public static func load(_ source: ResumeSource, checkpointDirectory: String, comm: Communicator,
                            layout: [(name: String, shape: [Int])], notes: inout [String]) throws -> Point {
        var loaded: LoadedCheckpoint?
        var failure = ""
        if comm.rank == 0 {
            do {
                switch source {
                case let .path(path):
                    loaded = try LoadedCheckpoint.load(path)
                case .latest:
                    guard !checkpointDirectory.isEmpty else {
                        throw CheckpointError("--resume latest needs checkpoint.dir to be set")
                    }
                    loaded = try CheckpointFolder.newestValid(in: checkpointDirectory, notes: &notes)
                }
                try loaded!.checkLayout(layout, whole: true)
            } catch {
                failure = "\(error)"
            }
        }
        let failed = try comm.broadcast(text: failure, root: 0)
        if !failed.isEmpty { throw CheckpointError(failed, sameOnEveryRank: true) }
        let meta = try comm.broadcast(text: loaded.map { encode($0.metadata.strings) } ?? "", root: 0)
        let path = try comm.broadcast(text: loaded?.path ?? "", root: 0)
        var data = loaded?.data ?? []
        var count = [Double(data.count)]
        try count.withUnsafeMutableBufferPointer { b in try comm.allReduce(b, .max) }
        if comm.rank != 0 { data = [UInt8](repeating: 0, count: Int(count[0])) }
        try data.withUnsafeMutableBytes { b in try comm.broadcast(b, root: 0) }
        return Point(path: path, metadata: try CheckpointMetadata(strings: decode(meta), path: path), data: data)
    }

    private static func encode(_ metadata: [String: String]) -> String {
        (try? String(decoding: JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys]), as: UTF8.self)) ?? "{}"
    }

    private static func decode(_ text: String) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]) ?? [:]
    }
}
