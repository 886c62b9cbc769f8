import Foundation
import TestSupport
import XCTest

/// Bad token data, tried through the real binary: each gets one clear line naming the file and
/// a non-zero exit, before any step.
final class TokenDataErrorTests: XCTestCase {
    private var dir = ""

    override func setUp() { dir = Lockstep.temporaryDirectory("token-data") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Runs the tiny GPT on `path` as `dataset` with `settings`, expecting `code` and `message`.
    private func expect(_ path: String, dataset: String = "tokens", _ settings: [String] = [], code: Int32, _ message: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        let result = Lockstep.run(TinyGPT.train(text: path, ["data.dataset=\"\(dataset)\""] + settings), timeout: 60)
        assertFailed(result, code: code, contains: [message], path, file: file, line: line)
        XCTAssertEqual(errorLines(result).count, 1, "one error line\n\(result.output)", file: file, line: line)
    }

    /// An llm.c file: a 256-int32 header (magic, version, count) and `tokens` as uint16.
    private func llmc(_ name: String, magic: Int32 = 20240520, version: Int32 = 1, count: Int? = nil, tokens: [UInt16]) -> String {
        var header = [Int32](repeating: 0, count: 256)
        header[0] = magic
        header[1] = version
        header[2] = Int32(count ?? tokens.count)
        var bytes = header.withUnsafeBytes { Data($0) }
        bytes.append(tokens.withUnsafeBytes { Data($0) })
        let path = "\(dir)/\(name)"
        FileManager.default.createFile(atPath: path, contents: bytes)
        return path
    }

    private let window = [UInt16](repeating: 7, count: 100)

    func testAFileShorterThanOneWindowNamesTheContext() {
        let path = "\(dir)/short.txt"
        FileManager.default.createFile(atPath: path, contents: Data("too short".utf8))
        expect(path, dataset: "text", code: 2,
               "config: \(TinyGPT.config):8: model.context = 16 is longer than the data: \(path): the training split (all but the last 0.1 of 9 tokens) has 9 tokens, fewer than one window of context 16 + 1 = 17")
    }

    func testAWrongMagicOrVersion() {
        expect(llmc("magic.bin", magic: 20240521, tokens: window), ["data.format=\"llmc\""], code: 1,
               "data: \(dir)/magic.bin: magic 20240521 is not llm.c's (20240520 for GPT-2 uint16 tokens, 20240801 for LLaMA 3 uint32 tokens)")
        expect(llmc("version.bin", version: 3, tokens: window), code: 1,
               "data: \(dir)/version.bin: llm.c version 3 is not supported for magic 20240520 (it takes version 1: GPT-2 uint16 tokens)")
    }

    func testATokenCountThatDisagreesWithTheFileSize() {
        expect(llmc("count.bin", count: 120, tokens: window), code: 1,
               "data: \(dir)/count.bin: the llm.c header says 120 tokens (240 bytes after the 1024-byte header), the file has 200")
    }

    func testATokenIdAtOrAboveTheVocabulary() {
        var tokens = window
        tokens[42] = 256
        expect(llmc("vocab.bin", tokens: tokens), code: 1,
               "data: \(dir)/vocab.bin: token id 256 at position 42 is not below the vocabulary size 256")
    }

    func testAnEmptyTextFile() {
        let path = "\(dir)/empty.txt"
        FileManager.default.createFile(atPath: path, contents: Data())
        expect(path, dataset: "text", code: 1, "data: \(path): empty file")
    }
}
