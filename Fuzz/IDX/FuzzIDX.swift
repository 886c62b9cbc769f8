import Data
import FuzzSupport

/// The IDX reader's fuzz target. The whole input is read as one IDX file (raw or gzip'd) with
/// each expectation of its dimensions; then, split in two (the first two bytes, little-endian,
/// give the length of the first part), as a Fashion-MNIST folder whose images are the first
/// part and whose labels are the rest. Any bytes must give arrays or a `DataError` naming the
/// file, never a trap; an array holds exactly as many bytes as its dimensions say.
func readIDX(_ bytes: [UInt8]) {
    let path = Scratch.write(bytes, to: "data-idx")
    for dimensions in [nil, 1, 3] {
        switch Result(catching: { () throws(DataError) in try IDXReader.read(path, expectedDimensions: dimensions) }) {
        case let .success(array):
            let count = array.dimensions.contains(0) ? 0 : array.dimensions.reduce(1, *)
            precondition(array.bytes.count == count, "\(array.bytes.count) bytes for dimensions \(array.dimensions)")
            precondition(dimensions == nil || array.dimensions.count == dimensions, "dimensions \(array.dimensions)")
        case let .failure(error):
            precondition(error.description.hasPrefix(path + ": "), "an error without the file: \(error)")
        }
    }
    guard bytes.count >= 2 else { return }
    let first = min(Int(bytes[0]) | Int(bytes[1]) << 8, bytes.count - 2)
    let images = bytes[2..<(2 + first)], labels = bytes[(2 + first)...]
    let folder = fashion
    for split in ["train", "t10k"] {
        Scratch.write(images, to: "fashion/\(split)-images-idx3-ubyte")
        Scratch.write(labels, to: "fashion/\(split)-labels-idx1-ubyte")
    }
    switch Result(catching: { () throws(DataError) in try FashionMNIST.load(directory: folder) }) {
    case let .success(sets):
        for set in [sets.train, sets.test] {
            precondition(set.pixels.count == set.count * set.imageSize && set.labels.count == set.count, "sizes disagree")
            precondition(set.labels.allSatisfy { $0 >= 0 && Int($0) < set.classes }, "a label out of range")
        }
    case let .failure(error):
        precondition(error.description.hasPrefix(folder + "/"), "an error without the file: \(error)")
    }
}

/// The Fashion-MNIST folder, made once.
let fashion = Scratch.emptyFolder("fashion")

#if FUZZING
/// libFuzzer's entry point: one input per call.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    readIDX(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else
/// Without libFuzzer: replays the seed corpus and the regression inputs, or the files named.
@main
enum FuzzIDX {
    static func main() {
        replayInputs(defaultFolders: ["Fuzz/Corpus/idx", "Fuzz/Regressions/idx"], body: readIDX)
    }
}
#endif
