import Foundation
import TestSupport
import XCTest

/// Configs/tiny-cnn.toml with its convolutions through oneDNN (tensor.conv = "onednn") under
/// the real binary and mpirun: the run header names each layer's path, deterministic mode keeps
/// the same bits at worlds 1 and 2, and worlds 1 and 2 agree as data parallelism promises.
final class ConvolutionPathTests: XCTestCase {
    private static let config = Lockstep.path("Configs/tiny-cnn.toml")
    private var dir = ""

    override func setUp() { dir = Lockstep.temporaryDirectory("convolution-paths") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func arguments(_ settings: [String], name: String, quiet: Bool = true) -> [String] {
        ["train", "--config", Self.config] + (quiet ? ["--quiet"] : []) + settings.flatMap { ["--set", $0] }
            + ["--set", "checkpoint.dir=\(dir)/\(name)", "--summary", "\(dir)/\(name).json"]
    }

    /// Trains `steps` steps at `world` with the global batch of 64; returns the checkpoint and losses.
    private func train(world: Int, name: String, _ settings: [String], file: StaticString = #filePath,
                       line: UInt = #line) throws -> (SafeTensorsFile, [(step: Int, loss: Double)]) {
        let all = ["tensor.conv=onednn", "train.steps=10", "train.log_every=1", "train.batch=\(64 / world)"] + settings
        let result = world == 1 ? Lockstep.run(arguments(all, name: name), timeout: 120)
            : Lockstep.mpirun(world, arguments(all, name: name), timeout: 180)
        assertSucceeded(result, name, file: file, line: line)
        let summary = try Summary("\(dir)/\(name).json")
        return (try SafeTensorsFile(path: "\(dir)/\(name)/latest"), summary.losses)
    }

    func testTheHeaderNamesEachConvolutionsPath() {
        let onednn = Lockstep.run(arguments(["tensor.conv=onednn", "train.steps=2"], name: "header", quiet: false), timeout: 120)
        assertSucceeded(onednn, "tensor.conv=onednn")
        XCTAssertTrue(onednn.stdout.contains("convolutions (tensor.conv = onednn): conv1 onednn ("), onednn.output)
        XCTAssertTrue(onednn.stdout.contains("), conv2 onednn ("), onednn.output)
        let im2col = Lockstep.run(arguments(["tensor.conv=im2col", "train.steps=2"], name: "header-im2col", quiet: false), timeout: 120)
        assertSucceeded(im2col, "tensor.conv=im2col")
        XCTAssertTrue(im2col.stdout.contains("convolutions (tensor.conv = im2col): conv1 im2col, conv2 im2col"), im2col.output)
    }

    func testABadValueExitsTwo() {
        let result = Lockstep.run(arguments(["tensor.conv=direct"], name: "bad"), timeout: 60)
        assertFailed(result, code: 2, contains: [#"tensor.conv must be one of "auto", "im2col", "onednn", got "direct""#])
    }

    func testDeterministicModeKeepsTheSameBitsAtWorldsOneAndTwo() throws {
        let settings = ["train.deterministic=true", "train.chunk=8", "train.steps=40", "optimizer.lr=0.1"]
        let one = try train(world: 1, name: "det-w1", settings)
        let two = try train(world: 2, name: "det-w2", settings)
        assertCheckpointsBitwiseEqual(two.0, one.0, "deterministic, world 2 against world 1")
        XCTAssertEqual(two.1.map { $0.loss.bitPattern }, one.1.map { $0.loss.bitPattern }, "deterministic losses")
        XCTAssertEqual(one.1.count, 40)
        XCTAssertLessThan(one.1.suffix(5).map(\.loss).reduce(0, +), one.1.prefix(5).map(\.loss).reduce(0, +), "it trains")
    }

    func testWorldsOneAndTwoAgree() throws {
        let one = try train(world: 1, name: "w1", [])
        let two = try train(world: 2, name: "w2", [])
        assertLossesClose(two.1, one.1, relative: 1e-4, "world 2 against world 1: global mean loss")
        assertCheckpointsClose(two.0, one.0, relative: 1e-4, "world 2 against world 1: final tensors")
    }
}
