import TOML

/// The TOML reader's fuzz target: any bytes must give a document or a `TOMLError`, never a trap,
/// and the answer must keep the reader's promises: positions inside the input, a value after its
/// key, every key the walk yields found again by its path. A broken promise is a crash, which
/// libFuzzer reports with the input.
func readTOML(_ bytes: [UInt8]) {
    let lines = bytes.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    func check(_ position: TOMLPosition, _ what: @autoclosure () -> String) {
        guard (1...lines).contains(position.line), position.column >= 1 else {
            fatalError("\(what()) at \(position), outside the input's \(lines) lines")
        }
    }
    do {
        let document = try TOMLDocument(parsing: bytes)
        for item in document.root.walk() {
            check(item.keyPosition, "key \(item.dottedKey)")
            precondition(document.root.entry(at: item.path)?.keyPosition == item.keyPosition,
                         "walk and lookup disagree on \(item.dottedKey)")
            check(item.node.position, "value of \(item.dottedKey)")
            switch item.node.value {
            case .string, .integer, .float, .boolean:
                precondition(item.keyPosition < item.node.position, "value of \(item.dottedKey) before its key")
            case .array, .table:
                break // a table, or an array of tables, is at its header's '[', before its key
            }
        }
    } catch {
        check(error.position, "error '\(error.message)'")
        precondition(!error.message.isEmpty && error.description.hasSuffix(error.message), "error without a message")
    }
}

#if FUZZING
/// libFuzzer's entry point: one input per call.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTOML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    readTOML(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else
import FuzzSupport

/// Without libFuzzer: replays the seed corpus and the regression inputs, or the files named.
@main
enum FuzzTOML {
    static func main() {
        replayInputs(defaultFolders: ["Fuzz/Corpus/toml", "Fuzz/Regressions/toml"], body: readTOML)
    }
}
#endif
