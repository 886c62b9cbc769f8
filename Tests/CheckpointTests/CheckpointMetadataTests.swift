import Checkpoint
import Crypto
import Foundation
import Host
import XCTest

/// A checkpoint's metadata is checked for range as well as type: its checksums guard against
/// damage, but a file made to mislead can carry matching ones, and a global batch of 0 divided
/// the epoch by zero on resume. Each field out of range is an error naming it.
final class CheckpointMetadataTests: XCTestCase {
    private let valid = CheckpointMetadata(
        lockstepVersion: "0.1.0", step: 10, epoch: 1, epochStep: 2, skippedSteps: 0, samplerSeed: 3, samplerShuffle: true,
        samplerGlobalPosition: 64, optimizer: "sgd", optimizerSteps: 10, lrBase: 0.05, lrNext: 0.05, config: "a = 1\n",
        configHash: "00", world: 2, globalBatch: 32, batchPerRank: 8, accumulate: 2)

    /// The metadata's strings, as a checkpoint holds them.
    private func strings(_ m: CheckpointMetadata) throws -> [String: String] {
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(m)) as! [String: Any]
        var strings = object.mapValues { "\($0)" }
        strings["sampler.shuffle"] = String(m.samplerShuffle)
        strings["lr.next"] = String(m.lrNext)
        return strings
    }

    private func message(_ strings: [String: String]) -> String? {
        switch Result(catching: { () throws(CheckpointError) in try CheckpointMetadata(strings: strings, path: "c.safetensors") }) {
        case .success: nil
        case let .failure(error): error.description
        }
    }

    func testValidMetadataReadsBack() throws {
        XCTAssertEqual(try CheckpointMetadata(strings: strings(valid), path: "c.safetensors"), valid)
    }

    func testFieldsOutOfRange() throws {
        let base = try strings(valid)
        for (key, value, expected) in [
            ("global_batch", "0", "c.safetensors: metadata global_batch is 0, not a positive integer"),
            ("world_size", "-2", "c.safetensors: metadata world_size is -2, not a positive integer"),
            ("accumulate", "0", "c.safetensors: metadata accumulate is 0, not a positive integer"),
            ("batch_per_rank", "-1", "c.safetensors: metadata batch_per_rank is -1, not a positive integer"),
            ("step", "-1", "c.safetensors: metadata step is -1, not a count (0 to 2^62)"),
            ("epoch", "-9223372036854775808", "c.safetensors: metadata epoch is -9223372036854775808, not a count (0 to 2^62)"),
            ("optimizer.steps", "4611686018427387905", "c.safetensors: metadata optimizer.steps is 4611686018427387905, not a count (0 to 2^62)"),
            ("sampler.global_position", "-64", "c.safetensors: metadata sampler.global_position is -64, not a count (0 to 2^62)"),
            ("global_batch", "33", "c.safetensors: metadata global_batch 33 is not batch_per_rank × world_size × accumulate = 8 × 2 × 2"),
            ("batch_per_rank", "4611686018427387904", "c.safetensors: metadata global_batch 32 is not batch_per_rank × world_size × accumulate = 4611686018427387904 × 2 × 2"),
            ("lr.base", "nan", "c.safetensors: metadata lr.base is nan, not a finite number"),
            ("lr.next", "inf", "c.safetensors: metadata lr.next is inf, not a finite number"),
            ("step", "12x", "c.safetensors: metadata step is \"12x\", not an integer"),
        ] {
            var forged = base
            forged[key] = value
            XCTAssertEqual(message(forged), expected, "\(key) = \(value)")
        }
    }

    /// A checkpoint file whose checksums match its forged metadata is refused when loaded.
    func testForgedFileWithMatchingChecksums() throws {
        var metadata = try strings(valid)
        metadata["format"] = Checkpoint.format
        metadata["global_batch"] = "0"
        let data = [UInt8](repeating: 0, count: 8)
        metadata[Checkpoint.ChecksumKey.data] = data.withUnsafeBytes { SHA256.hex($0) }
        metadata[Checkpoint.ChecksumKey.metadata] = SHA256.hex(metadata.keys.sorted().map { "\($0)=\(metadata[$0]!)" }.joined(separator: "\n"))
        let path = NSTemporaryDirectory() + "lockstep-forged-\(UUID().uuidString.prefix(8)).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(SafeTensors.encodeHeader([(name: "w", shape: [2])], metadata: metadata) + data).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try LoadedCheckpoint.load(path)) { error in
            XCTAssertEqual("\(error)", "\(path): metadata global_batch is 0, not a positive integer")
        }
    }
}
