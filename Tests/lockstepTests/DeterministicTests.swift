import Foundation
import TestSupport
import XCTest

/// train.deterministic = true: the same bits at any world size, with any algorithm, with a
/// forced node layout, and across a resume at another world size.
final class DeterministicTests: XCTestCase {
    /// A global batch of 192 in chunks of 8: each rank's share at worlds 1, 2, 3, 4 and 8 is a
    /// whole number of chunks.
    private static let globalBatch = 192
    private var dir = ""

    override func setUp() { dir = Lockstep.temporaryDirectory("deterministic") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Trains `steps` steps at `world` with the per-rank batch that keeps the global batch,
    /// checks that the sums were of `width` integers, and returns the final checkpoint and the
    /// per-step losses.
    private func run(world: Int, name: String, steps: Int = 12, _ settings: [String] = [], extra: [String] = [],
                     width: String = "int32", environment: [String: String] = [:],
                     file: StaticString = #filePath, line: UInt = #line) throws -> (SafeTensorsFile, [(step: Int, loss: Double)]) {
        let checkpoints = "\(dir)/\(name)"
        let arguments = Tiny.train(["train.deterministic=true", "train.chunk=8", "train.batch=\(Self.globalBatch / world)",
                                    "train.steps=\(steps)", "train.log_every=1", "checkpoint.dir=\(checkpoints)"] + settings,
                                   ["--summary", "\(dir)/\(name).json"] + extra)
        let result = world == 1 ? Lockstep.run(arguments, environment: environment, timeout: 120)
            : Lockstep.mpirun(world, arguments, environment: environment, timeout: 180)
        assertSucceeded(result, name, file: file, line: line)
        let summary = try Summary(dir + "/\(name).json")
        XCTAssertEqual(summary.string("fixed_point"), width, "\(name): fixed_point", file: file, line: line)
        return (try SafeTensorsFile(path: checkpoints + "/latest"), summary.losses)
    }

    private func assertSameBits(_ a: (SafeTensorsFile, [(step: Int, loss: Double)]),
                                _ b: (SafeTensorsFile, [(step: Int, loss: Double)]), _ what: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        assertCheckpointsBitwiseEqual(a.0, b.0, what, file: file, line: line)
        XCTAssertEqual(a.1.map(\.step), b.1.map(\.step), what, file: file, line: line)
        XCTAssertEqual(a.1.map { $0.loss.bitPattern }, b.1.map { $0.loss.bitPattern }, "\(what): losses", file: file, line: line)
    }

    func testSameBitsAtEveryWorldSize() throws {
        let reference = try run(world: 1, name: "w1")
        XCTAssertEqual(reference.1.count, 12)
        XCTAssertLessThan(reference.1.last!.loss, reference.1.first!.loss, "it trains")
        for world in [2, 3, 4, 8] {
            assertSameBits(try run(world: world, name: "w\(world)"), reference, "world \(world)")
        }
    }

    /// OpenBLAS's Haswell kernels (AVX2) give a GEMM's last rows other bits than a GEMM cut
    /// into blocks would: every chunk must compute in the same row blocks.
    func testSameBitsUnderOpenBLASsHaswellKernels() throws {
        let environment = ["OPENBLAS_CORETYPE": "Haswell"]
        let reference = try run(world: 1, name: "haswell-w1", environment: environment)
        assertSameBits(try run(world: 2, name: "haswell-w2", environment: environment), reference, "Haswell kernels, world 2")
    }

    /// Named explicitly, oneDNN runs every shape: each chunk's GEMMs have the same shapes at
    /// every world size, so the bits are the same too.
    func testSameBitsWithOneDNNNamed() throws {
        let reference = try run(world: 1, name: "onednn-w1", ["tensor.gemm=onednn"])
        assertSameBits(try run(world: 2, name: "onednn-w2", ["tensor.gemm=onednn"]), reference, "oneDNN, world 2")
    }

    func testSameBitsWithEveryAlgorithmAndAForcedNodeLayout() throws {
        let reference = try run(world: 1, name: "w1")
        for algorithm in ["mpi", "ring", "rhd", "hierarchical"] {
            assertSameBits(try run(world: 3, name: "w3-\(algorithm)", ["comm.algorithm=\(algorithm)"]), reference,
                           "world 3, \(algorithm)")
        }
        assertSameBits(try run(world: 4, name: "w4-rpn", ["comm.algorithm=hierarchical", "comm.ranks_per_node=2"]),
                       reference, "world 4 as 2 nodes of 2")
        assertSameBits(try run(world: 6, name: "w6-rpn", ["comm.algorithm=hierarchical", "comm.ranks_per_node=4"]),
                       reference, "world 6 as nodes of 4 and 2")
        // The buckets' exact sums run on the main thread between layers, with no communication thread.
        assertSameBits(try run(world: 2, name: "w2-test", ["comm.algorithm=mpi", "comm.progress=test"]), reference,
                       "world 2, comm.progress = test")
    }

    func testSameBitsWithAccumulationAndOtherBucketSizes() throws {
        let reference = try run(world: 1, name: "w1")
        assertSameBits(try run(world: 2, name: "w2-acc", ["train.batch=\(Self.globalBatch / 4)", "train.accumulate=2"]),
                       reference, "world 2, accumulate 2")
        // Bucket boundaries split blocks, and a block's exponent is its own: the bits hold for
        // one bucket size, and a run with another still trains to nearly the same weights.
        let wide = try run(world: 2, name: "w2-wide", ["comm.bucket_mb=1"])
        assertSameBits(try run(world: 4, name: "w4-wide", ["comm.bucket_mb=1"]), wide, "world 4 and 2 with 1 MB buckets")
        assertClose(wide.0.tensors.flatMap(\.values).map(Double.init), reference.0.tensors.flatMap(\.values).map(Double.init),
                    rtol: 1e-4, atol: 1e-6)
    }

    /// 96 chunks per step are beyond Int32's headroom: "auto" sums in Int64, as bitwise.
    func testInt64SumsAreAsBitwiseAndCloseToInt32() throws {
        let fine = ["train.chunk=2"]
        let reference = try run(world: 1, name: "w1-int64", fine, width: "int64")
        assertSameBits(try run(world: 3, name: "w3-int64", fine + ["comm.algorithm=ring"], width: "int64"), reference,
                       "world 3, ring, Int64")
        assertSameBits(try run(world: 8, name: "w8-int64", fine + ["comm.algorithm=hierarchical", "comm.ranks_per_node=4"],
                               width: "int64"),
                       reference, "world 8 as 2 nodes of 4, Int64")
        // Int32 keeps 24 bits for a block's largest value, Int64 42: the same chunks of 8 in
        // both end within Float32 noise of each other, but not bitwise.
        let narrow = try run(world: 1, name: "w1-chunk8")
        let wide = try run(world: 1, name: "w1-chunk8-int64", ["train.fixed_point=int64"], width: "int64")
        let (a, b) = (narrow.0.tensors.flatMap(\.values), wide.0.tensors.flatMap(\.values))
        XCTAssertNotEqual(a.map(\.bitPattern), b.map(\.bitPattern))
        assertClose(a.map(Double.init), b.map(Double.init), rtol: 1e-4, atol: 1e-6)
        assertFailed(Lockstep.run(Tiny.train(["train.deterministic=true", "train.chunk=2", "train.batch=192",
                                              "train.fixed_point=int32"])), code: 2,
                     contains: [#"deterministic mode sums at most 64 chunks per step in int32; 192 samples in chunks of 2 are 96: set train.fixed_point = "int64" or raise train.chunk"#])
    }

    func testTheDefaultModeIsNotBitwiseAcrossWorldSizes() throws {
        // The guarantee is the option's: without it, summation order changes with the world.
        func plain(_ world: Int) throws -> SafeTensorsFile {
            let checkpoints = "\(dir)/plain\(world)"
            let arguments = Tiny.train(["train.batch=\(Self.globalBatch / world)", "train.steps=12",
                                        "checkpoint.dir=\(checkpoints)"])
            assertSucceeded(world == 1 ? Lockstep.run(arguments) : Lockstep.mpirun(world, arguments))
            return try SafeTensorsFile(path: checkpoints + "/latest")
        }
        let one = try plain(1), three = try plain(3)
        XCTAssertNotEqual(one.tensors.map { $0.values.map(\.bitPattern) }, three.tensors.map { $0.values.map(\.bitPattern) })
    }

    func testResumingAWorld4RunAtWorld2StaysBitwiseIdentical() throws {
        let uninterrupted = try run(world: 4, name: "full", steps: 12)
        _ = try run(world: 4, name: "split", steps: 6)
        // Same checkpoint folder: world 2 with its per-rank batch resumes at step 6.
        let resumed = try run(world: 2, name: "split", steps: 12, extra: ["--resume", "latest"])
        assertCheckpointsBitwiseEqual(resumed.0, uninterrupted.0, "world 4 → world 2 at step 6")
        XCTAssertEqual(resumed.1.map { $0.loss.bitPattern }, Array(uninterrupted.1.suffix(6)).map { $0.loss.bitPattern },
                       "losses of steps 7…12")
    }

    func testCompressionIsRefused() {
        let result = Lockstep.run(Tiny.train(["train.deterministic=true", "comm.compression=fp16"]))
        assertFailed(result, code: 2, contains: [#"train.deterministic = true sums gradients exactly, so it refuses comm.compression = "fp16"; set comm.compression = "none""#])
    }

    func testBalancingIsRefused() {
        let result = Lockstep.run(Tiny.train(["train.deterministic=true", "train.balance=true"]))
        assertFailed(result, code: 2, contains: ["train.deterministic = true gives every rank the same number of whole chunks, so it refuses train.balance = true; set one of them false"])
    }

    func testAChunkThatDoesNotDivideTheShareIsRefused() {
        let result = Lockstep.run(Tiny.train(["train.deterministic=true", "train.chunk=12", "train.batch=32"]))
        assertFailed(result, code: 2, contains: ["train.chunk = 12 must divide the 32 samples each rank takes per step"])
    }
}
