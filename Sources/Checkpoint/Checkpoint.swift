import Crypto
import Foundation
import Glibc
import Host
import NN

/// What a checkpoint holds and how it is read back.
///
/// Tensors, F32, under their slice names: the parameters (`fc1.weight`, …), then each
/// optimizer state buffer (`optim.momentum.fc1.weight`, or `optim.exp_avg.…` and
/// `optim.exp_avg_sq.…`). Since parameters and each state buffer are flat in the same layout,
/// the data section is simply the parameter buffer followed by the state buffers.
///
/// `__metadata__` holds the rest as strings: the fields of `CheckpointMetadata`, and SHA-256
/// checksums of the data section and of the metadata itself.
public enum Checkpoint {
    public static let format = "lockstep.checkpoint.v1"

    /// The metadata keys of the two checksums, which the writer adds and the reader checks.
    public enum ChecksumKey {
        public static let data = "data_sha256", metadata = "metadata_sha256"
    }

    /// The tensors of a checkpoint of `store` and `optimizer`, in data order.
    public static func layout(_ store: ParameterStore, _ optimizer: Optimizer) -> [(name: String, shape: [Int])] {
        var tensors = store.slices.map { (name: $0.name, shape: $0.shape) }
        for state in optimizer.state {
            tensors += store.slices.map { (name: "optim.\(state.name).\($0.name)", shape: $0.shape) }
        }
        return tensors
    }

    /// The checksum that covers the metadata: SHA-256 of its sorted `key=value` lines, itself excluded.
    static func metadataChecksum(_ metadata: [String: String]) -> String {
        SHA256.hex(metadata.keys.sorted().filter { $0 != ChecksumKey.metadata }.map { "\($0)=\(metadata[$0]!)" }
            .joined(separator: "\n"))
    }
}

/// A checkpoint read from disk and verified: its header and data section.
public struct LoadedCheckpoint: Sendable {
    public let path: String
    public let header: SafeTensors.Header
    public let metadata: CheckpointMetadata
    /// The data section, all tensors back to back.
    public let data: [UInt8]

    /// Reads `path` and checks it end to end: the safetensors structure, the format and
    /// required metadata, and both checksums. A file that fails is left untouched.
    /// - Throws: `CheckpointError` with the reason.
    public static func load(_ path: String) throws(CheckpointError) -> LoadedCheckpoint {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError("\(path): cannot open: \(DurableFile.errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw CheckpointError("\(path): cannot stat: \(DurableFile.errnoText())") }
        let size = Int(info.st_size)
        func read(_ offset: Int, _ count: Int) throws -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: count)
            var done = 0
            while done < count {
                let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw CheckpointError("\(path): read failed at byte \(offset + done): \(n < 0 ? DurableFile.errnoText() : "unexpected end")") }
                done += n
            }
            return bytes
        }
        let header: SafeTensors.Header
        let data: [UInt8]
        do {
            header = try SafeTensors.parseHeader(fileSize: size, read: read)
            data = try read(header.dataOffset, header.dataLength)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError("\(path): \(error)")
        }
        let m = header.metadata
        guard m["format"] == Checkpoint.format else {
            throw CheckpointError("\(path): not a Lockstep checkpoint (metadata format is \(m["format"].map { "\"\($0)\"" } ?? "missing"), expected \"\(Checkpoint.format)\")")
        }
        for key in [Checkpoint.ChecksumKey.data, Checkpoint.ChecksumKey.metadata] where m[key] == nil {
            throw CheckpointError("\(path): metadata \(key) is missing")
        }
        guard Checkpoint.metadataChecksum(m) == m[Checkpoint.ChecksumKey.metadata] else {
            throw CheckpointError("\(path): the metadata checksum does not match: the header is corrupt")
        }
        let metadata = try CheckpointMetadata(strings: m, path: path)
        let digest = data.withUnsafeBytes { SHA256.hex($0) }
        guard digest == m[Checkpoint.ChecksumKey.data] else {
            throw CheckpointError("\(path): the data checksum does not match (SHA-256 \(digest.prefix(12))…, recorded \(m[Checkpoint.ChecksumKey.data]!.prefix(12))…): the tensors are corrupt")
        }
        return LoadedCheckpoint(path: path, header: header, metadata: metadata, data: data)
    }

    /// The tensor called `name`, as Floats.
    public func tensor(_ name: String) -> [Float]? {
        guard let e = header.entries.first(where: { $0.name == name }) else { return nil }
        return data.withUnsafeBytes { raw in
            Array(UnsafeBufferPointer(start: (raw.baseAddress! + e.range.lowerBound).assumingMemoryBound(to: Float.self),
                                      count: e.range.count / 4))
        }
    }
}

/// A checkpoint that cannot be written, read or used; the text names the file.
public struct CheckpointError: Error, Equatable, CustomStringConvertible {
    public let description: String
    /// Whether every rank meets this error alike (a resume's outcome, which rank 0 shares), or
    /// it is the writing rank's alone.
    public let sameOnEveryRank: Bool

    public init(_ description: String, sameOnEveryRank: Bool = false) {
        self.description = description
        self.sameOnEveryRank = sameOnEveryRank
    }
}

/// The checkpoint files of a folder: `ckpt-<step>.safetensors`, and `latest` pointing at the newest.
public enum CheckpointFolder {
    public static let latest = "latest"

    public static func fileName(step: Int) -> String {
        let digits = String(step)
        return "ckpt-" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits + ".safetensors"
    }

    /// Creates `directory` if needed and checks that a file can be written in it, before any
    /// step: on the rank that writes checkpoints.
    /// - Throws: `CheckpointError` naming checkpoint.dir and why.
    public static func prepare(_ directory: String) throws(CheckpointError) {
        do {
            try DurableFile.makeDirectory(directory)
        } catch {
            throw CheckpointError("checkpoint.dir \(error.description)")
        }
        let probe = "\(directory)/.lockstep-write-test"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError("checkpoint.dir \(directory): not writable: \(DurableFile.errnoText())") }
        close(fd)
        unlink(probe)
    }

    /// `path` itself, or for a folder the `latest` in it.
    public static func resolve(_ path: String) -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return path }
        return (path.hasSuffix("/") ? path : path + "/") + latest
    }

    /// The checkpoint files in `directory`, newest (highest step) first.
    public static func files(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("ckpt-") && $0.hasSuffix(".safetensors") }.sorted(by: >)
    }

    /// The checkpoint to resume from for `--resume latest`: `latest`'s target if it verifies,
    /// else the newest file that does. `notes` receives what was skipped and why.
    public static func newestValid(in directory: String, notes: inout [String]) throws(CheckpointError) -> LoadedCheckpoint {
        var candidates: [String] = []
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(latest)") {
            candidates.append(target.hasPrefix("/") ? target : "\(directory)/\(target)")
        }
        candidates += files(in: directory).map { "\(directory)/\($0)" }.filter { !candidates.contains($0) }
        guard !candidates.isEmpty else {
            throw CheckpointError("\(directory): no checkpoint to resume from (no \(latest), no ckpt-*.safetensors)")
        }
        for path in candidates {
            do {
                return try LoadedCheckpoint.load(path)
            } catch {
                notes.append("skipping \(path): \(error.description)")
            }
        }
        throw CheckpointError("\(directory): no valid checkpoint: \(notes.joined(separator: "; "))")
    }
}
