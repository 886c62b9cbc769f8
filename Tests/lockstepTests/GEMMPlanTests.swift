import Foundation
import TestSupport
import XCTest

/// tensor.gemm through the real binary: "auto" plans per shape at worlds 1 and 2 and trains to
/// the same losses as OpenBLAS alone (and as oneDNN alone); the summary records the plan; a
/// second run on the same machine reads it from the cache; deterministic mode pins OpenBLAS.
final class GEMMPlanTests: XCTestCase {
    private var dir = ""
    /// The runs' own cache folder, so that the first run measures.
    private var environment: [String: String] { ["XDG_CACHE_HOME": dir + "/cache"] }

    override func setUp() { dir = Lockstep.temporaryDirectory("gemm-plan") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// 12 steps of tiny.toml at a global batch of 64, every step logged.
    private func train(world: Int, _ settings: [String], name: String, quiet: Bool = true,
                       environment extra: [String: String] = [:]) throws -> (ProcessResult, Summary?) {
        let arguments = Tiny.train(["train.steps=12", "train.log_every=1", "train.batch=\(64 / world)"] + settings,
                                   ["--summary", "\(dir)/\(name).json"], quiet: quiet)
        let env = environment.merging(extra) { $1 }
        let result = world == 1 ? Lockstep.run(arguments, environment: env, timeout: 120)
            : Lockstep.mpirun(world, arguments, environment: env, timeout: 120)
        assertSucceeded(result, name)
        return (result, result.status == 0 ? try Summary("\(dir)/\(name).json") : nil)
    }

    private func plan(_ summary: Summary?) -> [[String: Any]] { summary?.json["gemm_plan"] as? [[String: Any]] ?? [] }

    func testAutoMatchesAcrossWorldsRecordsThePlanAndCachesIt() throws {
        let (_, reference) = try train(world: 1, ["tensor.gemm=openblas"], name: "openblas")
        XCTAssertEqual(reference?.string("gemm_plan_source"), "pinned")
        XCTAssertEqual(plan(reference).count, 0)

        let (first, one) = try train(world: 1, ["tensor.gemm=auto"], name: "auto-1", quiet: false)
        XCTAssertEqual(one?.string("gemm_plan_source"), "measured")
        XCTAssertTrue(first.stdout.contains("(measured, "), first.output)
        // tiny.toml's step: forward 64×32×64 NT, 64×4×32 NT; backward 4×32×64 TN +=, 64×32×4 NN, and fc1's
        // weight gradient in the bucket plan's row blocks of 13, 16 and 3 rows.
        let shapes = plan(one).compactMap { $0["shape"] as? String }
        XCTAssertEqual(shapes, ["64×32×64 NT", "64×4×32 NT", "4×32×64 TN +=", "64×32×4 NN", "13×64×64 TN +=", "16×64×64 TN +=",
                                "3×64×64 TN +="], "\(plan(one))")
        for entry in plan(one) {
            XCTAssertTrue(["openblas", "onednn"].contains(entry["provider"] as? String ?? ""), "\(entry)")
            XCTAssertGreaterThan((entry["openblas_us"] as? NSNumber)?.doubleValue ?? 0, 0, "\(entry)")
        }
        XCTAssertNotNil(one?.double("gemm_plan_s"))

        let (_, two) = try train(world: 2, ["tensor.gemm=auto"], name: "auto-2")
        XCTAssertEqual(two?.string("gemm_plan_source"), "measured", "world 2's shapes (M = 32) are not world 1's")
        let (again, cached) = try train(world: 2, ["tensor.gemm=auto"], name: "auto-2-again", quiet: false)
        XCTAssertEqual(cached?.string("gemm_plan_source"), "cached")
        XCTAssertTrue(again.stdout.contains("GEMM plan: 7 shapes, ") && again.stdout.contains("(cached, "), again.output)
        XCTAssertEqual(plan(cached).map { $0["provider"] as? String }, plan(two).map { $0["provider"] as? String })
        let (_, uncached) = try train(world: 2, ["tensor.gemm=auto"], name: "auto-2-off",
                                      environment: ["LOCKSTEP_GEMM_PLAN_CACHE": "off"])
        XCTAssertEqual(uncached?.string("gemm_plan_source"), "measured")

        let (_, onednn) = try train(world: 2, ["tensor.gemm=onednn"], name: "onednn-2")
        for (what, summary) in [("auto, world 1", one), ("auto, world 2", two), ("auto, cached", cached), ("onednn, world 2", onednn)] {
            assertLossesClose(summary?.losses ?? [], reference?.losses ?? [], relative: 1e-4, "\(what) against OpenBLAS at world 1")
        }
    }

    func testDeterministicModePinsOpenBLASUnlessNamed() throws {
        let (result, pinned) = try train(world: 2, ["train.deterministic=true"], name: "deterministic", quiet: false)
        XCTAssertEqual(pinned?.string("gemm_plan_source"), "pinned")
        XCTAssertTrue(result.stdout.contains("GEMM plan: every shape on OpenBLAS (train.deterministic pins it"), result.output)
        let (named, onednn) = try train(world: 2, ["train.deterministic=true", "tensor.gemm=onednn"], name: "deterministic-onednn",
                                        quiet: false)
        XCTAssertEqual(onednn?.string("gemm_plan_source"), "pinned")
        XCTAssertTrue(named.stdout.contains(#"GEMM plan: every shape on oneDNN (tensor.gemm = "onednn")"#), named.output)
    }

    func testBadValueIsAUsageError() {
        let result = Lockstep.run(Tiny.train(["tensor.gemm=mkl"]), environment: environment, timeout: 60)
        XCTAssertEqual(result.status, 2, result.output)
        XCTAssertTrue(result.stderr.contains(#"--set tensor.gemm=mkl: tensor.gemm must be one of "auto", "openblas", "onednn", got "mkl""#),
                      result.output)
    }
}
