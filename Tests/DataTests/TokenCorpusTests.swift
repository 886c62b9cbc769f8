import Data
import Foundation
import TestSupport
import XCTest

/// `TokenCorpus` on files written here: every format read back exactly, folders as one
/// stream, both kinds of split, the summary, and the mapping itself.
final class TokenCorpusTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("tokens")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testRawUInt16ReadsBackExactly() throws {
        let tokens = TokenFiles.random(1000, below: 50_257, seed: 1) + [0, 50_256]
        let path = try TokenFiles.write(TokenFiles.littleEndian(tokens.map(UInt16.init)), dir, "train.bin")
        for format in [TokenFormat.uint16, .tokens] {
            let corpus = try TokenCorpus(path: path, format: format, vocab: 50_257, context: 16, validationFraction: 0.1)
            XCTAssertEqual(TokenFiles.tokens(corpus.train) + TokenFiles.tokens(corpus.validation), tokens.map(Int32.init), "\(format)")
            XCTAssertEqual(files(corpus), ["\(path) uint16 1002"])
        }
    }

    /// llm.c's GPT-2 (magic 20240520, version 1, uint16) and LLaMA 3 (20240801, 7, uint32)
    /// files, recognised by their magic or named.
    func testLLMCFilesReadBackExactly() throws {
        let small = TokenFiles.random(500, below: 50_257, seed: 2)
        let gpt2 = try TokenFiles.write(TokenFiles.llmc(count: 500, TokenFiles.littleEndian(small.map(UInt16.init))), dir, "gpt2.bin")
        let large = TokenFiles.random(300, below: 128_256, seed: 3) + [128_255]
        let llama = try TokenFiles.write(TokenFiles.llmc(magic: 20_240_801, version: 7, count: 301,
                                                         TokenFiles.littleEndian(large.map(UInt32.init))), dir, "llama.bin")
        for format in [TokenFormat.llmc, .tokens] {
            let a = try TokenCorpus(trainPath: gpt2, validationPath: gpt2, format: format, vocab: 50_257, context: 8)
            XCTAssertEqual(TokenFiles.tokens(a.train), small.map(Int32.init), "\(format)")
            XCTAssertEqual(a.summary.files[0].layout, .llmcUInt16)
            let b = try TokenCorpus(path: llama, format: format, vocab: 128_256, context: 8, validationFraction: 0.5)
            XCTAssertEqual(TokenFiles.tokens(b.train) + TokenFiles.tokens(b.validation), large.map(Int32.init), "\(format)")
            XCTAssertEqual(files(b), ["\(llama) llm.c uint32 301"])
        }
    }

    func testTextFileIsItsBytes() throws {
        let bytes = Array("Lockstep reads text as bytes: é ✓\n".utf8) + [0, 255, 10]
        let path = try TokenFiles.write(bytes, dir, "input.txt")
        let corpus = try TokenCorpus(path: path, format: .text, vocab: 256, context: 4, validationFraction: 0.2)
        XCTAssertEqual(TokenFiles.tokens(corpus.train) + TokenFiles.tokens(corpus.validation), bytes.map(Int32.init))
        XCTAssertEqual(corpus.validation.count, bytes.count / 5)
        XCTAssertEqual(corpus.summary.files[0].layout, .bytes)
    }

    /// A folder is its visible regular files in byte order of their names, read as one stream
    /// that windows cross; hidden files and subfolders are skipped.
    func testFolderOfTextFilesIsOneStream() throws {
        let a = try TokenFiles.write(Array("alpha-".utf8), dir, "a.txt")
        let b = try TokenFiles.write(Array("Bravo-".utf8), dir, "B.txt")
        let c = try TokenFiles.write(Array("charlie-delta".utf8), dir, "c")
        _ = try TokenFiles.write(Array("hidden".utf8), dir, ".hidden")
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: false)
        _ = try TokenFiles.write(Array("nested".utf8), dir + "/sub", "x.txt")
        let corpus = try TokenCorpus(path: dir + "/", format: .text, vocab: 256, context: 4, validationFraction: 0.25)
        let stream = Array("Bravo-alpha-charlie-delta".utf8).map(Int32.init)
        XCTAssertEqual(TokenFiles.tokens(corpus.train) + TokenFiles.tokens(corpus.validation), stream)
        XCTAssertEqual(corpus.summary.files.map(\.path), [b, a, c])
        XCTAssertEqual(corpus.train.paths, [b, a, c])
        XCTAssertEqual(corpus.validation.paths, [c])

        // A window that starts near the end of B.txt runs on into a.txt and then c.
        let buffers = BatchBuffers(capacity: 2, context: 4)
        corpus.train.loadWindow(start: 4, into: buffers.batch, row: 1)
        XCTAssertEqual(buffers.row(1).inputs, Array("o-al".utf8).map(Int32.init))
        XCTAssertEqual(buffers.row(1).targets, Array("-alp".utf8).map(Int32.init))
        corpus.train.loadWindow(start: 9, into: buffers.batch, row: 0)
        XCTAssertEqual(buffers.row(0).inputs + [buffers.row(0).targets[3]], Array("ha-ch".utf8).map(Int32.init))
        XCTAssertEqual(buffers.row(1).inputs, Array("o-al".utf8).map(Int32.init), "the other row is left alone")
    }

    func testSplitOfOneCorpusAndSeparatePaths() throws {
        let tokens = TokenFiles.random(1003, below: 1000, seed: 4)
        let path = try TokenFiles.write(TokenFiles.littleEndian(tokens.map(UInt16.init)), dir, "all.bin")
        let corpus = try TokenCorpus(path: path, format: .tokens, vocab: 1000, context: 8, validationFraction: 0.1)
        // The last ⌊1003 · 0.1⌋ = 100 tokens are validation.
        XCTAssertEqual(corpus.train.count, 903)
        XCTAssertEqual(corpus.validation.count, 100)
        XCTAssertEqual(TokenFiles.tokens(corpus.validation), tokens.suffix(100).map(Int32.init))
        XCTAssertEqual(corpus.summary.description, "1 file (uint16), 1003 tokens: 903 training, 100 validation")
        XCTAssertEqual(corpus.context, 8)

        let validation = try TokenFiles.write(TokenFiles.llmc(count: 3, TokenFiles.littleEndian([UInt16(7), 8, 9])) , dir, "val.bin")
        let two = try TokenCorpus(trainPath: path, validationPath: validation, format: .tokens, vocab: 1000, context: 2)
        XCTAssertEqual(TokenFiles.tokens(two.train), tokens.map(Int32.init))
        XCTAssertEqual(TokenFiles.tokens(two.validation), [7, 8, 9])
        XCTAssertEqual(two.train.source, path)
        XCTAssertEqual(two.validation.source, validation)
        XCTAssertEqual(two.summary.totalTokens, 1006)
        XCTAssertEqual(two.summary.description, "2 files (uint16, llm.c uint16), 1006 tokens: 1003 training, 3 validation")
    }

    /// The files are mapped, not copied: the process's memory holds the mapping while the
    /// corpus lives and not after, and a change to the file shows through it.
    func testFilesAreMappedAndUnmapped() throws {
        let path = try TokenFiles.write(Array("0123456789abcdef".utf8), dir, "mapped.txt")
        do {
            let corpus = try TokenCorpus(trainPath: path, validationPath: path, format: .text, vocab: 256, context: 4)
            XCTAssertTrue(try mappings().contains(path))
            let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
            try handle.seek(toOffset: 5)
            try handle.write(contentsOf: Array("XY".utf8))
            try handle.close()
            let buffers = BatchBuffers(capacity: 1, context: 4)
            corpus.train.loadWindow(start: 3, into: buffers.batch, row: 0)
            XCTAssertEqual(buffers.row(0).inputs, Array("34XY".utf8).map(Int32.init))
        }
        XCTAssertFalse(try mappings().contains(path), "unmapped with the corpus")
    }

    /// A sparse file of 4 GiB + 64 KiB: tokens past 4 GiB read back, training windows start
    /// anywhere in it, and opening and reading it adds far less than its size to the process.
    func testFileOver4GiB() throws {
        let size: UInt64 = 1 << 32 + 1 << 16
        let path = dir + "/large.txt"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: size)
        try handle.seek(toOffset: 1 << 32 + 1000)
        try handle.write(contentsOf: Array("beyond 4 GiB".utf8))
        try handle.close()

        let before = try residentBytes()
        let halves = try TokenCorpus(path: path, format: .text, vocab: 256, context: 8, validationFraction: 0.5)
        XCTAssertEqual(halves.summary.totalTokens, Int(size))
        XCTAssertEqual(halves.validation.count, Int(size / 2))
        let buffers = BatchBuffers(capacity: 64, context: 8)
        halves.validation.loadWindow(start: Int(1 << 32 + 1000 - size / 2), into: buffers.batch, row: 0)
        XCTAssertEqual(buffers.row(0).inputs, Array("beyond 4".utf8).map(Int32.init))
        XCTAssertEqual(buffers.row(0).targets, Array("eyond 4 ".utf8).map(Int32.init))
        let whole = try TokenCorpus(trainPath: path, validationPath: path, format: .text, vocab: 256, context: 8)
        whole.train.loadWindow(start: 1 << 32 + 1003, into: buffers.batch, row: 1)
        XCTAssertEqual(buffers.row(1).inputs, Array("ond 4 Gi".utf8).map(Int32.init))

        let windows = TrainingWindows(split: whole.train, context: 8, seed: 5)
        let starts = (0..<64).map { windows.start(step: 3, position: $0) }
        XCTAssertTrue(starts.allSatisfy { $0 >= 0 && $0 < windows.startCount })
        XCTAssertTrue(starts.contains { $0 > Int(Int32.max) }, "starts use more than 31 bits: \(starts)")
        windows.load(step: 3, positions: 0..<64, into: buffers.batch)
        XCTAssertLessThan(try residentBytes() - before, 256 << 20, "a mapping, not a copy")
    }

    /// Each file of the corpus's summary as "path layout tokens".
    private func files(_ corpus: TokenCorpus) -> [String] { corpus.summary.files.map { "\($0.path) \($0.layout) \($0.tokens)" } }

    /// The whole of a /proc file, which reports no size (so that String(contentsOfFile:) reads one page).
    private func procFile(_ path: String) throws -> String {
        String(decoding: try XCTUnwrap(FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readToEnd()), as: UTF8.self)
    }

    /// The lines of /proc/self/maps.
    private func mappings() throws -> String { try procFile("/proc/self/maps") }

    /// VmRSS of /proc/self/status.
    private func residentBytes() throws -> Int {
        let status = try procFile("/proc/self/status")
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try XCTUnwrap(Int(line.split(separator: " ")[1])) * 1024
    }
}
