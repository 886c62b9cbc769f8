import Data
import FuzzSupport

/// The token-file reader's fuzz target. An input is four bytes of settings, then the file:
/// byte 0 picks the format (text, tokens, uint16, llmc), byte 1 the context (1 to 64), byte 2
/// the vocabulary (from 1 to 2³¹), byte 3 the validation fraction and the layout (one file; a
/// folder of two files, the body cut in half; or separate training and validation files).
/// Any bytes must give a corpus or a `DataError`, never a trap; a corpus's splits must each
/// hold a window, and every window read from them, at the start, at the end and where the
/// training order draws them, must hold token ids below the vocabulary.
func readTokens(_ bytes: [UInt8]) {
    guard bytes.count >= 4 else { return }
    let format = TokenFormat.allCases[Int(bytes[0]) % TokenFormat.allCases.count]
    let context = Int(bytes[1] % 64) + 1
    let vocabs = [1, 2, 255, 256, 257, 50257, 55432, 65535, 65536, 65537, 1 << 20, 1 << 31]
    let vocab = vocabs[Int(bytes[2]) % vocabs.count]
    let fraction = [0.1, 0.5, 0.9, 0.001][Int(bytes[3] % 4)]
    let body = Array(bytes[4...]), half = body.count / 2
    let opened = Result { () throws(DataError) in
        switch bytes[3] / 4 % 3 {
        case 0:
            return try TokenCorpus(path: Scratch.write(body, to: "tokens.bin"), format: format, vocab: vocab, context: context,
                                   validationFraction: fraction)
        case 1:
            let folder = tokenFolder
            Scratch.write(body[..<half], to: "tokens/a.bin")
            Scratch.write(body[half...], to: "tokens/b.bin")
            return try TokenCorpus(path: folder, format: format, vocab: vocab, context: context, validationFraction: fraction)
        default:
            return try TokenCorpus(trainPath: Scratch.write(body[..<half], to: "train.bin"),
                                   validationPath: Scratch.write(body[half...], to: "val.bin"),
                                   format: format, vocab: vocab, context: context)
        }
    }
    guard case let .success(corpus) = opened else {
        if case let .failure(error) = opened {
            precondition(error.description.hasPrefix(Scratch.folder + "/"), "an error without the file: \(error)")
        }
        return
    }
    let rows = 3
    let inputs = UnsafeMutableBufferPointer<Int32>.allocate(capacity: rows * context)
    let targets = UnsafeMutableBufferPointer<Int32>.allocate(capacity: rows * context)
    defer { inputs.deallocate(); targets.deallocate() }
    let batch = TokenBatch(inputs: inputs, targets: targets, context: context)
    func checkRows(_ count: Int) {
        for i in 0..<(count * context) {
            precondition(inputs[i] >= 0 && Int(inputs[i]) < vocab && targets[i] >= 0 && Int(targets[i]) < vocab,
                         "token \(inputs[i]) or \(targets[i]) outside the vocabulary \(vocab)")
        }
    }
    for split in [corpus.train, corpus.validation] {
        precondition(split.count > context, "a split of \(split.count) tokens for context \(context)")
        split.loadWindow(start: 0, into: batch, row: 0)
        split.loadWindow(start: split.count - context - 1, into: batch, row: 1)
        checkRows(2)
        let training = TrainingWindows(split: split, context: context, seed: 7)
        for step in [0, 1, Int.max] {
            training.load(step: step, positions: 0..<rows, into: batch)
            checkRows(rows)
        }
        let validation = ValidationWindows(split: split, context: context)
        checkRows(validation.load([0, validation.count - 1].prefix(rows), into: batch))
    }
}

/// The folder of the two-file layout, made once.
let tokenFolder = Scratch.emptyFolder("tokens")

#if FUZZING
/// libFuzzer's entry point: one input per call.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokens(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    readTokens(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else
/// Without libFuzzer: replays the seed corpus and the regression inputs, or the files named.
@main
enum FuzzTokens {
    static func main() {
        replayInputs(defaultFolders: ["Fuzz/Corpus/tokens", "Fuzz/Regressions/tokens"], body: readTokens)
    }
}
#endif
