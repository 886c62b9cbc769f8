import Data
import Foundation
import Glibc
import TestSupport
import XCTest

/// Every way a token corpus can be wrong, each with its exact one-line message.
final class TokenCorpusErrorTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("token-errors")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func uint16(_ tokens: [Int], _ name: String) throws -> String {
        try TokenFiles.write(TokenFiles.littleEndian(tokens.map(UInt16.init)), dir, name)
    }

    func testShorterThanOneWindow() throws {
        let path = try uint16(Array(0..<8), "short.bin")
        assertThrows("\(path): 8 tokens, fewer than one window of context 8 + 1 = 9") {
            try TokenCorpus(trainPath: path, validationPath: path, format: .tokens, vocab: 100, context: 8)
        }
        // Exactly one window is enough.
        XCTAssertEqual(try TokenCorpus(trainPath: path, validationPath: path, format: .tokens, vocab: 100, context: 7).train.count, 8)
        let long = try uint16(Array(0..<100), "long.bin")
        assertThrows("\(path): 8 tokens, fewer than one window of context 8 + 1 = 9") {
            try TokenCorpus(trainPath: long, validationPath: path, format: .tokens, vocab: 100, context: 8)
        }
        assertThrows("\(long): the validation split (the last 0.1 of 100 tokens) has 10 tokens, fewer than one window of context 16 + 1 = 17") {
            try TokenCorpus(path: long, format: .uint16, vocab: 100, context: 16, validationFraction: 0.1)
        }
        assertThrows("\(long): the training split (all but the last 0.9 of 100 tokens) has 10 tokens, fewer than one window of context 16 + 1 = 17") {
            try TokenCorpus(path: long, format: .uint16, vocab: 100, context: 16, validationFraction: 0.9)
        }
        // A folder counts its files' tokens together.
        try FileManager.default.createDirectory(atPath: dir + "/texts", withIntermediateDirectories: false)
        for name in ["a", "b"] { _ = try TokenFiles.write(Array("1234".utf8), dir + "/texts", name) }
        assertThrows("\(dir)/texts: 8 tokens, fewer than one window of context 8 + 1 = 9") {
            try TokenCorpus(trainPath: dir + "/texts", validationPath: path, format: .text, vocab: 256, context: 8)
        }
    }

    func testValidationFractionOutOfRange() throws {
        let path = try uint16(Array(0..<100), "all.bin")
        for fraction in [0, 1, -0.5, .nan] {
            assertThrows("\(path): validation fraction \(fraction) is not between 0 and 1") {
                try TokenCorpus(path: path, format: .uint16, vocab: 100, context: 4, validationFraction: fraction)
            }
        }
    }

    func testWrongMagic() throws {
        let path = try TokenFiles.write(TokenFiles.llmc(magic: 12345, count: 3, TokenFiles.littleEndian([UInt16(1), 2, 3])), dir, "x.bin")
        assertThrows("\(path): magic 12345 is not llm.c's (20240520 for GPT-2 uint16 tokens, 20240801 for LLaMA 3 uint32 tokens)") {
            try TokenCorpus(path: path, format: .llmc, vocab: 100, context: 2, validationFraction: 0.5)
        }
        // Recognised by its magic, the same file is raw uint16 tokens, and 12345 is outside a vocabulary of 100.
        assertThrows("\(path): token id 12345 at position 0 is not below the vocabulary size 100") {
            try TokenCorpus(path: path, format: .tokens, vocab: 100, context: 2, validationFraction: 0.5)
        }
        let tiny = try TokenFiles.write([1, 2], dir, "tiny.bin")
        assertThrows("\(tiny): truncated llm.c header: 2 bytes, the header needs 1024") {
            try TokenCorpus(path: tiny, format: .llmc, vocab: 100, context: 2, validationFraction: 0.5)
        }
    }

    func testTruncatedHeader() throws {
        let path = try TokenFiles.write(Array(TokenFiles.llmc(count: 10, [])[0..<100]), dir, "cut.bin")
        for format in [TokenFormat.tokens, .llmc] {
            assertThrows("\(path): truncated llm.c header: 100 bytes, the header needs 1024") {
                try TokenCorpus(path: path, format: format, vocab: 100, context: 2, validationFraction: 0.5)
            }
        }
    }

    func testUnsupportedVersion() throws {
        let gpt2 = try TokenFiles.write(TokenFiles.llmc(version: 2, count: 2, TokenFiles.littleEndian([UInt16(1), 2])), dir, "v2.bin")
        assertThrows("\(gpt2): llm.c version 2 is not supported for magic 20240520 (it takes version 1: GPT-2 uint16 tokens)") {
            try TokenCorpus(path: gpt2, format: .tokens, vocab: 100, context: 2, validationFraction: 0.5)
        }
        let llama = try TokenFiles.write(TokenFiles.llmc(magic: 20_240_801, count: 2, TokenFiles.littleEndian([UInt32(1), 2])),
                                         dir, "llama-v1.bin")
        assertThrows("\(llama): llm.c version 1 is not supported for magic 20240801 (it takes version 7: LLaMA 3 uint32 tokens)") {
            try TokenCorpus(path: llama, format: .llmc, vocab: 100, context: 2, validationFraction: 0.5)
        }
    }

    func testHeaderCountDisagreesWithFileSize() throws {
        let short = try TokenFiles.write(TokenFiles.llmc(count: 100, TokenFiles.littleEndian([UInt16](repeating: 1, count: 99))), dir, "a.bin")
        assertThrows("\(short): the llm.c header says 100 tokens (200 bytes after the 1024-byte header), the file has 198") {
            try TokenCorpus(path: short, format: .tokens, vocab: 100, context: 2, validationFraction: 0.5)
        }
        let wide = try TokenFiles.write(TokenFiles.llmc(magic: 20_240_801, version: 7, count: 10,
                                                        TokenFiles.littleEndian([UInt16](repeating: 1, count: 10))), dir, "b.bin")
        assertThrows("\(wide): the llm.c header says 10 tokens (40 bytes after the 1024-byte header), the file has 20") {
            try TokenCorpus(path: wide, format: .tokens, vocab: 100, context: 2, validationFraction: 0.5)
        }
        let negative = try TokenFiles.write(TokenFiles.llmc(count: -1, [1, 0]), dir, "c.bin")
        assertThrows("\(negative): the llm.c header says -1 tokens (-2 bytes after the 1024-byte header), the file has 2") {
            try TokenCorpus(path: negative, format: .tokens, vocab: 100, context: 2, validationFraction: 0.5)
        }
        let none = try TokenFiles.write(TokenFiles.llmc(count: 0, []), dir, "d.bin")
        assertThrows("\(none): no tokens after the llm.c header") {
            try TokenCorpus(path: none, format: .tokens, vocab: 100, context: 2, validationFraction: 0.5)
        }
    }

    /// The first id ≥ vocab is named with its position, in each width, also past the first
    /// chunk of the scan, and in a folder the file that holds it.
    func testTokenOutsideTheVocabulary() throws {
        var tokens = [Int](repeating: 50_256, count: 70_000)
        tokens[66_000] = 50_257
        tokens[69_000] = 65_535
        let raw = try uint16(tokens, "train.bin")
        assertThrows("\(raw): token id 50257 at position 66000 is not below the vocabulary size 50257") {
            try TokenCorpus(path: raw, format: .uint16, vocab: 50_257, context: 8, validationFraction: 0.1)
        }
        XCTAssertEqual(try TokenCorpus(path: raw, format: .uint16, vocab: 65_536, context: 8, validationFraction: 0.1).summary.totalTokens,
                       70_000)
        let edge = try uint16([1, 2, 3, 99, 100, 0], "edge.bin")
        assertThrows("\(edge): token id 100 at position 4 is not below the vocabulary size 100") {
            try TokenCorpus(path: edge, format: .uint16, vocab: 100, context: 2, validationFraction: 0.5)
        }
        let llama = try TokenFiles.write(TokenFiles.llmc(magic: 20_240_801, version: 7, count: 4,
                                                         TokenFiles.littleEndian([UInt32(5), 128_256, 4_000_000_000, 1])), dir, "l.bin")
        assertThrows("\(llama): token id 128256 at position 1 is not below the vocabulary size 128256") {
            try TokenCorpus(path: llama, format: .tokens, vocab: 128_256, context: 2, validationFraction: 0.5)
        }
        assertThrows("\(llama): token id 4000000000 at position 2 is not below the vocabulary size 2147483648") {
            try TokenCorpus(path: llama, format: .tokens, vocab: 1 << 31, context: 2, validationFraction: 0.5)
        }
        try FileManager.default.createDirectory(atPath: dir + "/texts", withIntermediateDirectories: false)
        _ = try TokenFiles.write(Array("plain ascii".utf8), dir + "/texts", "1.txt")
        let accented = try TokenFiles.write(Array("café".utf8), dir + "/texts", "2.txt")
        assertThrows("\(accented): token id 195 at position 3 is not below the vocabulary size 128") {
            try TokenCorpus(path: dir + "/texts", format: .text, vocab: 128, context: 2, validationFraction: 0.5)
        }
    }

    func testEmptyFileAndFolder() throws {
        let empty = try TokenFiles.write([], dir, "empty.txt")
        assertThrows("\(empty): empty file") {
            try TokenCorpus(path: empty, format: .text, vocab: 256, context: 2, validationFraction: 0.5)
        }
        for format in [TokenFormat.tokens, .uint16, .llmc] {
            assertThrows("\(empty): empty file") {
                try TokenCorpus(path: empty, format: format, vocab: 256, context: 2, validationFraction: 0.5)
            }
        }
        let folder = dir + "/folder"
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        assertThrows("\(folder): no files in the folder (hidden files and subfolders are skipped)") {
            try TokenCorpus(path: folder, format: .text, vocab: 256, context: 2, validationFraction: 0.5)
        }
        _ = try TokenFiles.write(Array("hidden text".utf8), folder, ".hidden")
        _ = try TokenFiles.write(Array("nested text".utf8), folder + "/sub", "a.txt")
        assertThrows("\(folder): no files in the folder (hidden files and subfolders are skipped)") {
            try TokenCorpus(path: folder, format: .text, vocab: 256, context: 2, validationFraction: 0.5)
        }
        let inFolder = try TokenFiles.write([], folder, "b.txt")
        _ = try TokenFiles.write(Array("some text".utf8), folder, "a.txt")
        assertThrows("\(inFolder): empty file") {
            try TokenCorpus(path: folder, format: .text, vocab: 256, context: 2, validationFraction: 0.5)
        }
    }

    func testMissingAndUnreadablePaths() throws {
        assertThrows("\(dir)/absent: not found") {
            try TokenCorpus(path: dir + "/absent", format: .text, vocab: 256, context: 2, validationFraction: 0.5)
        }
        let file = try TokenFiles.write(Array("some text".utf8), dir, "file.txt")
        assertThrows("\(file)/inside: cannot open: Not a directory") {
            try TokenCorpus(trainPath: file, validationPath: file + "/inside", format: .text, vocab: 256, context: 2)
        }
        try FileManager.default.createSymbolicLink(atPath: dir + "/dangling", withDestinationPath: dir + "/nowhere")
        assertThrows("\(dir)/dangling: not found") {
            try TokenCorpus(path: dir + "/dangling", format: .text, vocab: 256, context: 2, validationFraction: 0.5)
        }
        XCTAssertEqual(mkfifo(dir + "/fifo", 0o600), 0)
        assertThrows("\(dir)/fifo: not a regular file or a folder") {
            try TokenCorpus(path: dir + "/fifo", format: .text, vocab: 256, context: 2, validationFraction: 0.5)
        }
    }

    func testOddByteCountForUInt16() throws {
        let path = try TokenFiles.write([1, 0, 2, 0, 3], dir, "odd.bin")
        for format in [TokenFormat.tokens, .uint16] {
            assertThrows("\(path): 5 bytes, an odd count for uint16 tokens") {
                try TokenCorpus(path: path, format: format, vocab: 100, context: 1, validationFraction: 0.5)
            }
        }
    }
}
