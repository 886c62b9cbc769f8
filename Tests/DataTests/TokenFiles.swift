import Data
import Foundation
import Tensor

/// Token files as nanoGPT and llm.c users write them, for the token corpus tests.
enum TokenFiles {
    /// Little-endian bytes of `values`, each `T.bitWidth / 8` bytes.
    static func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    }

    /// An llm.c `.bin`: 256 int32 of header (magic, version, count, zeros), then `body`.
    static func llmc(magic: Int32 = 20_240_520, version: Int32 = 1, count: Int32, _ body: [UInt8]) -> [UInt8] {
        littleEndian([magic, version, count] + [Int32](repeating: 0, count: 253)) + body
    }

    /// Writes `bytes` to `dir/name` and returns the path.
    static func write(_ bytes: [UInt8], _ dir: String, _ name: String) throws -> String {
        try IDXReaderTests.write(bytes, dir, name)
    }

    /// Every token of `split`, read through `copy`.
    static func tokens(_ split: TokenSplit) -> [Int32] {
        [Int32](unsafeUninitializedCapacity: split.count) { buffer, count in
            split.copy(from: 0, count: split.count, into: buffer.baseAddress!)
            count = split.count
        }
    }

    /// Seeded token ids below `vocab`.
    static func random(_ count: Int, below vocab: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Int(rng.next() % UInt64(vocab)) }
    }
}

/// Owned (B, T) buffers and the `TokenBatch` over them.
final class BatchBuffers {
    let inputs: UnsafeMutableBufferPointer<Int32>
    let targets: UnsafeMutableBufferPointer<Int32>
    let batch: TokenBatch

    init(capacity: Int, context: Int) {
        inputs = .allocate(capacity: capacity * context)
        targets = .allocate(capacity: capacity * context)
        inputs.initialize(repeating: -1)
        targets.initialize(repeating: -1)
        batch = TokenBatch(inputs: inputs, targets: targets, context: context)
    }

    deinit {
        inputs.deallocate()
        targets.deallocate()
    }

    /// Row `row` of the inputs and of the targets.
    func row(_ row: Int) -> (inputs: [Int32], targets: [Int32]) {
        let t = batch.context
        return (Array(inputs[(row * t)..<((row + 1) * t)]), Array(targets[(row * t)..<((row + 1) * t)]))
    }
}
