import Data
import Foundation
import TestSupport
import XCTest

/// `lockstep generate` on checkpoints that `lockstep train` wrote: a tiny GPT over the bytes of
/// a synthetic text, one over token ids, and an MLP. Seeds, the output's length past the
/// context, token ids in and out, and every bad input's one line and exit code.
final class GenerateTests: XCTestCase {
    /// The checkpoints, trained once for the whole class.
    private static let trained = TrainedCheckpoints()

    /// The checkpoints; a training that failed fails each test that needs them.
    private var checkpoints: TrainedCheckpoints {
        get throws {
            if let failure = Self.trained.failure { throw TrainingFailed(description: failure) }
            return Self.trained
        }
    }

    private struct TrainingFailed: Error, CustomStringConvertible {
        let description: String
    }

    override class func tearDown() { try? FileManager.default.removeItem(atPath: trained.dir) }

    private func generate(_ checkpoint: String, _ arguments: [String]) -> ProcessResult {
        Lockstep.run(["generate", "--checkpoint", checkpoint] + arguments, timeout: 120)
    }

    func testTheSameSeedGivesTheSameTextAndAnotherSeedAnother() throws {
        let text = try checkpoints.text
        let arguments = ["--prompt", "the ", "--tokens", "40", "--temperature", "1"]
        let first = generate(text, arguments + ["--seed", "1"]), again = generate(text, arguments + ["--seed", "1"])
        let other = generate(text, arguments + ["--seed", "2"])
        for result in [first, again, other] { assertSucceeded(result, "generate") }
        XCTAssertEqual(first.stdoutBytes, again.stdoutBytes, "the same seed")
        XCTAssertNotEqual(first.stdoutBytes, other.stdoutBytes, "another seed")
        let topK = ["--top-k", "3", "--seed", "5"]
        XCTAssertEqual(generate(text, arguments + topK).stdoutBytes, generate(text, arguments + topK).stdoutBytes, "top-k")
        // Greedy decoding draws nothing: the seed does not matter.
        let greedy = ["--prompt", "the ", "--tokens", "30", "--temperature", "0"]
        let g1 = generate(text, greedy + ["--seed", "1"]), g2 = generate(text, greedy + ["--seed", "2"])
        assertSucceeded(g1, "greedy")
        XCTAssertEqual(g1.stdoutBytes, g2.stdoutBytes, "greedy, two seeds")
    }

    /// The prompt, then exactly N bytes, also well past the context of 16, where the window is
    /// cropped, with either crop rule; bytes that are not UTF-8 pass through as they are.
    func testTheOutputIsThePromptAndExactlyTheTokensAsked() throws {
        let text = try checkpoints.text
        let prompt = "ab é"
        for (tokens, extra) in [(1, [String]()), (9, []), (60, []), (60, ["--keep", "4"]), (45, ["--temperature", "0"])] {
            let result = generate(text, ["--prompt", prompt, "--tokens", String(tokens), "--seed", "3"] + extra)
            assertSucceeded(result, "--tokens \(tokens) \(extra)")
            XCTAssertEqual(result.stdoutBytes.count, prompt.utf8.count + tokens, "--tokens \(tokens) \(extra)")
            XCTAssertEqual(Array(result.stdoutBytes.prefix(prompt.utf8.count)), Array(prompt.utf8), "the prompt comes first")
            XCTAssertTrue(result.stderr.contains("lockstep: note: \(tokens) tokens in "), result.output)
            XCTAssertTrue(result.stderr.contains("tokens/s"), result.output)
        }
        // A temperature this high draws bytes the text never had, most above 127.
        let wild = generate(text, ["--prompt", "x", "--tokens", "200", "--temperature", "50"])
        assertSucceeded(wild, "temperature 50")
        XCTAssertEqual(wild.stdoutBytes.count, 201)
        XCTAssertNil(String(data: wild.stdoutBytes, encoding: .utf8), "bytes that are not UTF-8 are written as they are")
    }

    func testAPromptLongerThanTheContextIsCroppedWithANote() throws {
        let prompt = String(repeating: "abc ", count: 10)
        let result = generate(try checkpoints.text, ["--prompt", prompt, "--tokens", "5"])
        assertSucceeded(result, "a long prompt")
        XCTAssertEqual(result.stdoutBytes.count, 45)
        XCTAssertTrue(result.stderr.contains("lockstep: note: the prompt has 40 tokens, more than the model's context of 16: it sees the last 16\n"),
                      result.output)
    }

    /// A model of token ids takes them with --prompt-tokens and prints ids; --prompt is refused.
    func testAModelOfTokenIdsTakesAndPrintsIds() throws {
        let tokens = try checkpoints.tokens, tokensFile = try checkpoints.tokensFile
        let result = generate(tokens, ["--prompt-tokens", "1, 2,63", "--tokens", "6", "--seed", "4"])
        assertSucceeded(result, "token ids")
        let line = result.stdout
        XCTAssertTrue(line.hasSuffix("\n"), line)
        let ids = line.dropLast().split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        XCTAssertEqual(ids.count, 9, line)
        XCTAssertEqual(Array(ids.prefix(3)), [1, 2, 63])
        XCTAssertTrue(ids.allSatisfy { $0 != nil && $0! >= 0 && $0! < 64 }, line)
        XCTAssertEqual(generate(tokens, ["--prompt-tokens", "1,2,63", "--tokens", "6", "--seed", "4"]).stdout, line)

        let refused = generate(tokens, ["--prompt", "hello", "--tokens", "3"])
        assertFailed(refused, code: 2)
        XCTAssertEqual(errorLines(refused), ["lockstep: error: \(tokensFile) holds a model of pre-tokenized data (data.dataset = \"tokens\"), whose tokenizer Lockstep does not know: give the prompt as token ids with --prompt-tokens 1,2,3"])
        let outside = generate(tokens, ["--prompt-tokens", "5,64", "--tokens", "3"])
        assertFailed(outside, code: 2)
        XCTAssertEqual(errorLines(outside), ["lockstep: error: --prompt-tokens: 64 is outside the model's vocabulary 0..<64"])
    }

    func testBadOptionsAreUsageErrors() throws {
        let text = try checkpoints.text
        let cases: [(arguments: [String], message: String)] = [
            (["--prompt", "", "--tokens", "5"], "--prompt is empty: give at least one character to continue"),
            (["--prompt-tokens", "", "--tokens", "5"], "--prompt-tokens is empty: give at least one token id to continue"),
            (["--tokens", "5"], "no prompt: give --prompt TEXT, or --prompt-tokens 1,2,3 for a model of token ids"),
            (["--prompt", "a", "--prompt-tokens", "1", "--tokens", "5"], "give the prompt once: --prompt or --prompt-tokens, not both"),
            (["--prompt-tokens", "1,x", "--tokens", "5"],
             "--prompt-tokens: \"x\" is not a token id; give ids 0 or more separated by commas, e.g. 1,2,3"),
            (["--prompt", "a", "--tokens", "0"], "--tokens must be at least 1, got 0"),
            (["--prompt", "a", "--tokens=-3"], "--tokens must be at least 1, got -3"),
            (["--prompt", "a", "--tokens", "5", "--temperature=-0.5"], "--temperature must be a finite number, 0 (greedy) or more, got -0.5"),
            (["--prompt", "a", "--tokens", "5", "--temperature", "nan"], "--temperature must be a finite number, 0 (greedy) or more, got nan"),
            (["--prompt", "a", "--tokens", "5", "--temperature", "1e39"], "--temperature must be a finite number, 0 (greedy) or more, got inf"),
            (["--prompt", "a", "--tokens", "5", "--top-k", "0"], "--top-k must be at least 1, got 0"),
            (["--prompt", "a", "--tokens", "5", "--keep", "16"], "--keep must be below the model's context of 16, got 16"),
            (["--prompt", "a", "--tokens", "5", "--keep=-1"], "--keep must be 0 or more, got -1"),
            (["--prompt-tokens", "300", "--tokens", "5"], "--prompt-tokens: 300 is outside the model's vocabulary 0..<256"),
        ]
        for (arguments, message) in cases {
            let result = generate(text, arguments)
            assertFailed(result, code: 2, arguments.joined(separator: " "))
            XCTAssertEqual(errorLines(result), ["lockstep: error: \(message)"], arguments.joined(separator: " "))
            XCTAssertTrue(result.stdoutBytes.isEmpty, "nothing on stdout for \(arguments)")
        }
    }

    func testBadCheckpointsFail() throws {
        let trained = try checkpoints
        let missing = trained.dir + "/none.safetensors"
        let corrupt = trained.dir + "/corrupt.safetensors"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: trained.textFile))
        bytes[bytes.count - 5] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: corrupt))
        let cases: [(path: String, message: String)] = [
            (missing, "checkpoint: \(missing): cannot open: No such file or directory"),
            (trained.mlp, "checkpoint: \(trained.mlpFile): holds a model.type = \"sequential\" model (tiny-mlp), not a GPT; lockstep generate samples from GPT checkpoints"),
        ]
        for (path, message) in cases {
            let result = generate(path, ["--prompt", "a", "--tokens", "5"])
            assertFailed(result, code: 1, path)
            XCTAssertEqual(errorLines(result), ["lockstep: error: \(message)"], path)
        }
        let result = generate(corrupt, ["--prompt", "a", "--tokens", "5"])
        assertFailed(result, code: 1, "a corrupt checkpoint")
        let line = errorLines(result).first ?? ""
        XCTAssertTrue(line.hasPrefix("lockstep: error: checkpoint: \(corrupt): the data checksum does not match (SHA-256 "), line)
        XCTAssertTrue(line.hasSuffix("): the tensors are corrupt"), line)
    }

    func testMoreThanOneRankIsRefused() throws {
        let result = Lockstep.mpirun(2, ["generate", "--checkpoint", try checkpoints.text, "--prompt", "a", "--tokens", "5"],
                                     timeout: 120)
        assertFailed(result, code: 2)
        XCTAssertEqual(errorLines(result),
                       ["lockstep: error: generate runs as one process, and this is a world of 2: run it without mpirun, or with -np 1"])
        let one = Lockstep.mpirun(1, ["generate", "--checkpoint", try checkpoints.text, "--prompt", "a", "--tokens", "5"],
                                  timeout: 120)
        assertSucceeded(one, "mpirun -np 1")
        XCTAssertEqual(one.stdoutBytes.count, 6)
    }
}

/// A tiny GPT (2 layers, 2 heads, width 32, context 16) trained 40 steps on a synthetic text,
/// the same over a file of uint16 ids below 64, and Configs/tiny.toml's MLP, each leaving a
/// checkpoint folder.
final class TrainedCheckpoints: Sendable {
    let dir: String
    /// The folders, and the files their `latest` names.
    let text: String, tokens: String, mlp: String
    /// Why a training failed, if one did.
    let failure: String?

    var textFile: String { text + "/latest" }
    var tokensFile: String { tokens + "/latest" }
    var mlpFile: String { mlp + "/latest" }

    init() {
        dir = Lockstep.temporaryDirectory("generate")
        text = dir + "/text"
        tokens = dir + "/tokens"
        mlp = dir + "/mlp"
        let bytes = SyntheticText.make(count: 20_000, seed: 3)
        _ = FileManager.default.createFile(atPath: dir + "/text.txt", contents: Data(bytes))
        let ids = bytes.flatMap { byte -> [UInt8] in [byte % 64, 0] }  // little-endian uint16
        _ = FileManager.default.createFile(atPath: dir + "/ids.bin", contents: Data(ids))
        let config = """
            [model]
            type = "gpt"
            name = "tiny-gpt"
            vocab = 256
            context = 16
            layers = 2
            heads = 2
            embed = 32

            [train]
            steps = 40
            batch = 8

            [optimizer]
            name = "adamw"
            lr = 3e-3
            """
        _ = FileManager.default.createFile(atPath: dir + "/gpt.toml", contents: Data(config.utf8))
        let runs: [(String, [String])] = [
            ("text", ["train", "--config", dir + "/gpt.toml", "--quiet", "--set", "data.dataset=text", "--set", "data.path=\(dir)/text.txt",
                      "--set", "checkpoint.dir=\(text)"]),
            ("tokens", ["train", "--config", dir + "/gpt.toml", "--quiet", "--set", "data.dataset=tokens", "--set", "data.format=uint16",
                        "--set", "data.path=\(dir)/ids.bin", "--set", "model.vocab=64", "--set", "checkpoint.dir=\(tokens)"]),
            ("mlp", Tiny.train(["train.steps=2", "checkpoint.dir=\(mlp)"])),
        ]
        var failure: String?
        for (name, arguments) in runs {
            let result = Lockstep.run(arguments, timeout: 120)
            if result.status != 0 || !FileManager.default.fileExists(atPath: "\(dir)/\(name)/latest") {
                failure = "training the \(name) model failed\n\(result.output)"
                break
            }
        }
        self.failure = failure
    }
}
