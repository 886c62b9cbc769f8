import Data
import Foundation
import TestSupport
import XCTest

/// The GPT trained data-parallel: the same global batches of token windows at any world size
/// give the same training within float rounding for every all-reduce algorithm and the sharded
/// optimizer over node-shared memory, the same bits in deterministic mode, and a tiny model
/// learns a synthetic text in seconds.
final class GPTTrainingTests: XCTestCase {
    static let steps = 20
    static let tolerance = 1e-4
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("gpt")
        TinyGPT.writeText(to: dir + "/text.txt")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Trains `steps` steps of the tiny GPT at `world` with a global batch of `globalBatch`
    /// windows and returns its summary and final checkpoint.
    private func run(world: Int, name: String, globalBatch: Int = 16, steps: Int = steps, _ settings: [String] = [],
                     file: StaticString = #filePath, line: UInt = #line) throws -> (Summary, SafeTensorsFile) {
        let arguments = TinyGPT.train(text: dir + "/text.txt",
                                      ["train.steps=\(steps)", "train.batch=\(globalBatch / world)", "train.log_every=1",
                                       "train.eval_every=\(steps)", "checkpoint.dir=\(dir)/\(name)"] + settings,
                                      ["--summary", "\(dir)/\(name).json"])
        let result = world == 1 ? Lockstep.run(arguments, timeout: 120) : Lockstep.mpirun(world, arguments, timeout: 180)
        assertSucceeded(result, name, file: file, line: line)
        let summary = try Summary(dir + "/\(name).json", file: file, line: line)
        XCTAssertEqual(summary.int("global_batch"), globalBatch, name, file: file, line: line)
        return (summary, try SafeTensorsFile(path: "\(dir)/\(name)/latest"))
    }

    func testEveryAlgorithmAndTheShardedOptimizerMatchWorldOne() throws {
        let (reference, referenceCheckpoint) = try run(world: 1, name: "w1")
        XCTAssertEqual(reference.losses.count, Self.steps)
        XCTAssertEqual(reference.int("params"), TinyGPT.parameters)
        XCTAssertTrue(referenceCheckpoint.names.contains("transformer.h.1.mlp.c_proj.weight"), "\(referenceCheckpoint.names)")
        XCTAssertTrue(referenceCheckpoint.names.contains("optim.exp_avg_sq.transformer.wte.weight"))
        let cases: [(world: Int, settings: [String], algorithm: String)] = [
            (2, ["comm.algorithm=ring"], "ring"),
            (4, ["comm.algorithm=ring"], "ring"),
            (4, ["comm.algorithm=rhd"], "rhd"),
            (4, ["optimizer.sharded=true"], "node shared memory (sharded optimizer)"),
            (2, ["optimizer.sharded=true", "comm.shared_memory=false"], "ring reduce-scatter + allgather (sharded optimizer)"),
            (2, ["train.balance=true"], "auto (rhd)"),
        ]
        for c in cases {
            let name = "w\(c.world)-\(c.settings.joined(separator: "-"))"
            let (summary, checkpoint) = try run(world: c.world, name: name, c.settings)
            XCTAssertEqual(summary.string("algorithm"), c.algorithm, name)
            assertLossesClose(summary.losses, reference.losses, relative: Self.tolerance, "\(name): global mean loss")
            assertCheckpointsClose(checkpoint, referenceCheckpoint, relative: Self.tolerance, "\(name): final tensors",
                                   ignoring: TinyGPT.keyBias)
            XCTAssertEqual(try XCTUnwrap(summary.double("val_loss")), try XCTUnwrap(reference.double("val_loss")),
                           accuracy: Self.tolerance * 10, "\(name): validation loss, each window counted once")
        }
    }

    func testDeterministicModeGivesTheSameBitsAtWorldsOneTwoAndThree() throws {
        let settings = ["train.deterministic=true", "train.chunk=2"]
        let (reference, referenceCheckpoint) = try run(world: 1, name: "d1", globalBatch: 12, settings)
        XCTAssertEqual(reference.string("fixed_point"), "int32")
        for world in [2, 3] {
            let (summary, checkpoint) = try run(world: world, name: "d\(world)", globalBatch: 12, settings)
            assertCheckpointsBitwiseEqual(checkpoint, referenceCheckpoint, "deterministic world \(world)")
            XCTAssertEqual(summary.losses.map { $0.loss.bitPattern }, reference.losses.map { $0.loss.bitPattern },
                           "deterministic world \(world): losses")
            XCTAssertEqual(summary.double("val_loss")?.bitPattern, reference.double("val_loss")?.bitPattern,
                           "deterministic world \(world): validation loss")
        }
    }

    /// Clipping acts (the norms of a fresh model's gradients are above 0.05) and stays the same
    /// across world sizes: the norm is one sum of the ranks' shares, in rank order. Under SGD,
    /// whose steps scale with the gradient (AdamW's hardly change when all gradients scale).
    func testClippingIsTheSameAtEveryWorldSize() throws {
        let sgd = ["optimizer.name=\"sgd\"", "optimizer.lr=0.1", "optimizer.momentum=0.9"]
        let (reference, referenceCheckpoint) = try run(world: 1, name: "c1", steps: 8, sgd + ["optimizer.clip_norm=0.05"])
        let (unclipped, _) = try run(world: 1, name: "c1-off", steps: 8, sgd + ["optimizer.clip_norm=0"])
        XCTAssertGreaterThan(abs(reference.losses.last!.loss - unclipped.losses.last!.loss), 1e-2,
                             "clipping at 0.05 changes the training")
        let (summary, checkpoint) = try run(world: 2, name: "c2", steps: 8,
                                            sgd + ["optimizer.clip_norm=0.05", "optimizer.sharded=true"])
        assertLossesClose(summary.losses, reference.losses, relative: Self.tolerance, "clipped, world 2 sharded")
        assertCheckpointsClose(checkpoint, referenceCheckpoint, relative: Self.tolerance, "clipped, world 2 sharded: tensors",
                               ignoring: TinyGPT.keyBias)
    }

    func testATinyGPTLearnsASyntheticTextInSeconds() throws {
        let arguments = TinyGPT.train(text: dir + "/text.txt", ["train.steps=300", "train.eval_every=100",
                                                                "optimizer.lr=1e-2"],
                                      ["--summary", dir + "/learn.json"], quiet: false)
        let result = Lockstep.mpirun(2, arguments, timeout: 180)
        assertSucceeded(result, "convergence")
        let summary = try Summary(dir + "/learn.json")
        let bits = try XCTUnwrap(summary.double("val_bits_per_token"))
        // Uniform over 256 bytes is 8 bits; the text repeats one cycle of 64 words.
        XCTAssertLessThan(bits, 2.5, "validation bits per byte after 300 steps\n\(result.stdout)")
        XCTAssertEqual(try XCTUnwrap(summary.double("val_loss")) / log(2), bits, accuracy: 1e-9)
        XCTAssertGreaterThan(try XCTUnwrap(summary.double("tokens_per_s")), 0)
        XCTAssertEqual(try XCTUnwrap(summary.double("tokens_per_s")), try XCTUnwrap(summary.double("samples_per_s")) * 16,
                       accuracy: 1e-6, "tokens/s is samples/s times the context")
        XCTAssertTrue(result.stdout.contains("tokens/s"), "progress lines show tokens/s\n\(result.stdout)")
        XCTAssertTrue(result.stdout.contains("bits/token"), "evaluations show bits per token\n\(result.stdout)")
    }
}

/// Configs/tiny-gpt.toml on a seeded synthetic text.
enum TinyGPT {
    static let config = Lockstep.path("Configs/tiny-gpt.toml")
    /// (256 + 16)·32 + 2·(12·32² + 13·32) + 2·32.
    static let parameters = 34_176

    /// The key part of each block's c_attn.bias (and its optimizer state): its gradient is zero
    /// in exact arithmetic (a constant added to every score of a softmax row changes nothing), so
    /// what it holds is rounding noise, which AdamW's normalised step turns into a random walk
    /// that differs with the summation order. The same holds in PyTorch.
    static func keyBias(_ tensor: String) -> Range<Int>? { tensor.hasSuffix("attn.c_attn.bias") ? 32..<64 : nil }

    /// A learnable text: seeded words in a cycle that repeats.
    static func writeText(to path: String, bytes: Int = 60_000) {
        FileManager.default.createFile(atPath: path, contents: Data(SyntheticText.make(count: bytes, seed: 3)))
    }

    static func train(text: String, _ settings: [String], _ extra: [String] = [], quiet: Bool = true) -> [String] {
        ["train", "--config", config] + (quiet ? ["--quiet"] : []) + (["data.path=\(text)"] + settings).flatMap { ["--set", $0] }
            + extra
    }
}

/// A GPT run stopped and resumed continues exactly: at the same world size bitwise, and at
/// another world size (which keeps the global batch through train.accumulate) within rounding.
/// The windows of a step depend on (seed, step, position) alone, so a resume draws the same.
final class GPTResumeTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("gpt-resume")
        TinyGPT.writeText(to: dir + "/text.txt")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func train(world: Int, batch: Int, steps: Int, folder: String, _ extra: [String] = [],
                       file: StaticString = #filePath, line: UInt = #line) {
        let result = Lockstep.mpirun(world, TinyGPT.train(text: dir + "/text.txt",
                                                          ["train.steps=\(steps)", "train.batch=\(batch)", "checkpoint.every_steps=10",
                                                           "checkpoint.keep=5", "checkpoint.dir=\(dir)/\(folder)"], extra, quiet: false),
                                     timeout: 120)
        assertSucceeded(result, "\(folder): \(steps) steps at world \(world)", file: file, line: line)
        if !extra.isEmpty {
            XCTAssertTrue(result.stderr.contains("resuming from"), result.output, file: file, line: line)
        }
    }

    func testResumedAtTheSameWorldIsBitwiseTheUninterruptedRun() throws {
        train(world: 2, batch: 4, steps: 20, folder: "whole")
        train(world: 2, batch: 4, steps: 10, folder: "parts")
        train(world: 2, batch: 4, steps: 20, folder: "parts", ["--resume", "latest"])
        assertCheckpointsBitwiseEqual(try SafeTensorsFile(path: "\(dir)/parts/\(checkpointName(step: 20))"),
                                      try SafeTensorsFile(path: "\(dir)/whole/\(checkpointName(step: 20))"),
                                      "stopped at 10 and resumed vs uninterrupted")
    }

    func testAWorld4CheckpointResumedAtWorld2MatchesTheWorld4Run() throws {
        train(world: 4, batch: 2, steps: 20, folder: "four")
        train(world: 2, batch: 2, steps: 20, folder: "two", ["--resume", "\(dir)/four/\(checkpointName(step: 10))"])
        assertCheckpointsClose(try SafeTensorsFile(path: "\(dir)/two/\(checkpointName(step: 20))"),
                               try SafeTensorsFile(path: "\(dir)/four/\(checkpointName(step: 20))"), relative: 1e-4,
                               "world 4 resumed at world 2 vs world 4", ignoring: TinyGPT.keyBias)
    }
}
