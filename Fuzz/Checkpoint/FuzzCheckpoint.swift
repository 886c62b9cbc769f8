import Checkpoint
import FuzzSupport

/// The checkpoint reader's fuzz target: any bytes, as a safetensors header and as a checkpoint
/// file, must give a value or an error, never a trap. The header parser must describe exactly
/// the bytes it was given (tensors back to back, each as long as its shape says, ending at the
/// end of the file); the metadata reader is fed the header's metadata directly, since a file made
/// by mutation almost never carries matching SHA-256 checksums; and `LoadedCheckpoint.load`
/// must name the file in every error.
func readCheckpoint(_ bytes: [UInt8]) {
    struct OutOfRange: Error {}
    let header = try? SafeTensors.parseHeader(fileSize: bytes.count) { offset, count in
        guard offset >= 0, count >= 0, offset <= bytes.count - count else { throw OutOfRange() }
        return Array(bytes[offset..<offset + count])
    }
    if let header {
        precondition(header.dataOffset >= 8 && header.dataOffset + header.dataLength == bytes.count, "the header does not cover the file")
        var end = 0
        for entry in header.entries {
            precondition(entry.range.lowerBound == end, "tensor \(entry.name) is not where the previous one ends")
            precondition(entry.range.count == 4 * entry.shape.reduce(1, *), "tensor \(entry.name) is not as long as its shape")
            end = entry.range.upperBound
        }
        precondition(end == header.dataLength, "the tensors do not fill the data section")
        if let metadata = try? CheckpointMetadata(strings: header.metadata, path: "fuzz") {
            precondition(metadata.globalBatch == metadata.batchPerRank * metadata.world * metadata.accumulate && metadata.step >= 0,
                         "metadata out of range: \(metadata)")
        }
    }
    let path = Scratch.write(bytes, to: "checkpoint.safetensors")
    switch Result(catching: { () throws(CheckpointError) in try LoadedCheckpoint.load(path) }) {
    case let .success(checkpoint):
        precondition(checkpoint.data.count == checkpoint.header.dataLength, "data section of the wrong length")
        for entry in checkpoint.header.entries { _ = checkpoint.tensor(entry.name) }
    case let .failure(error):
        precondition(error.description.hasPrefix(path + ": "), "an error without the file: \(error)")
    }
}

#if FUZZING
/// libFuzzer's entry point: one input per call.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    readCheckpoint(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else
/// Without libFuzzer: replays the seed corpus and the regression inputs, or the files named.
@main
enum FuzzCheckpoint {
    static func main() {
        replayInputs(defaultFolders: ["Fuzz/Corpus/checkpoint", "Fuzz/Regressions/checkpoint"], body: readCheckpoint)
    }
}
#endif
