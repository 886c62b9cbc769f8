import Foundation
import TestSupport
import XCTest

/// Model FLOPs utilisation: `lockstep bench peak` measures one core's FMA rate and caches it
/// for the machine; a training run divides its model FLOPs per second by world × that peak.
final class UtilisationTests: XCTestCase {
    private var dir = "", cache = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("mfu")
        cache = dir + "/cache"
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private var environment: [String: String] { ["LOCKSTEP_CACHE_DIR": cache] }

    private func peakFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).filter { $0.hasPrefix("peak-") && $0.hasSuffix(".json") }
    }

    /// Measures the peak with `bench peak`, then replaces the cached figure by `gflops`, so that
    /// a run's MFU can be checked against a known denominator.
    private func cachePeak(_ gflops: Double) throws {
        let json = dir + "/peak.json"
        let result = Lockstep.run(["bench", "peak", "--rounds", "2", "--json", json], environment: environment)
        assertSucceeded(result, "bench peak")
        XCTAssertTrue(result.stdout.contains("cached in \(cache)/peak-"), result.output)
        let measured = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        XCTAssertGreaterThan((measured["gflops"] as? NSNumber)?.doubleValue ?? 0, 0)
        XCTAssertEqual((measured["round_gflops"] as? [Double])?.count, 2, "\(measured)")
        XCTAssertEqual((measured["gflops"] as? NSNumber)?.doubleValue, (measured["round_gflops"] as? [Double])?.max(), "the best round")
        let file = try XCTUnwrap(peakFiles().first)
        var cached = measured
        cached["gflops"] = gflops
        try JSONSerialization.data(withJSONObject: cached).write(to: URL(fileURLWithPath: cache + "/" + file))
    }

    /// With a cached peak of 50 GFLOP/s per core, two ranks' MFU is the summary's samples/s ×
    /// model FLOPs per sample ÷ (2 × 50 GFLOP/s), and the header and progress lines say so.
    func testTheSummarysMFUIsItsModelFLOPsRateOverTheWorldsPeak() throws {
        try cachePeak(50)
        let summary = dir + "/run.json"
        let result = Lockstep.mpirun(2, Tiny.train(["train.steps=60"], ["--summary", summary], quiet: false), environment: environment)
        assertSucceeded(result, "train")
        let s = try Lockstep.summary(at: summary)
        XCTAssertEqual(s["peak_source"] as? String, "cached")
        XCTAssertEqual((s["peak_gflops_per_core"] as? NSNumber)?.doubleValue, 50)
        let samples = try XCTUnwrap((s["samples_per_s"] as? NSNumber)?.doubleValue)
        let flopsPerStep = try XCTUnwrap((s["model_flops_per_step"] as? NSNumber)?.doubleValue)
        // tiny.toml: 64 → 32 → 4, 6 FLOPs per weight per sample; a global batch of 2 × 32.
        XCTAssertEqual(flopsPerStep, 6 * Double(64 * 32 + 32 * 4) * 64)
        let mfu = try XCTUnwrap((s["mfu"] as? NSNumber)?.doubleValue)
        XCTAssertEqual(mfu, samples * flopsPerStep / 64 / (2 * 50e9), accuracy: mfu * 1e-9)
        XCTAssertTrue(result.stdout.contains("MFU against 50.0 GFLOP/s per core (cached)"), result.output)
        let progress = result.stdout.split(separator: "\n").filter { $0.hasPrefix("step ") }
        XCTAssertFalse(progress.isEmpty, result.output)
        XCTAssertTrue(progress.allSatisfy { $0.contains(" samples/s  MFU ") && $0.contains("%  ETA ") }, result.output)
    }

    /// Without a cached peak a run measures one and caches it; more ranks than cores would
    /// measure a shared core, so then the figure serves that run only.
    func testARunWithoutACachedPeakMeasuresItAndCachesItOnlyWhenNoCoreIsShared() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let crowded = dir + "/crowded.json"
        assertSucceeded(Lockstep.mpirun(cores + 1, Tiny.train(["train.steps=4"], ["--summary", crowded]), environment: environment,
                                        timeout: 120), "train with more ranks than cores")
        XCTAssertEqual(try Lockstep.summary(at: crowded)["peak_source"] as? String, "measured")
        XCTAssertEqual(peakFiles(), [], "a crowded core's figure is not cached")

        let alone = dir + "/alone.json"
        assertSucceeded(Lockstep.run(Tiny.train(["train.steps=4"], ["--summary", alone]), environment: environment), "train")
        let s = try Lockstep.summary(at: alone)
        XCTAssertEqual(s["peak_source"] as? String, "measured")
        XCTAssertGreaterThan((s["mfu"] as? NSNumber)?.doubleValue ?? 0, 0)
        XCTAssertEqual(peakFiles().count, 1)
        let again = dir + "/again.json"
        assertSucceeded(Lockstep.run(Tiny.train(["train.steps=4"], ["--summary", again]), environment: environment), "train again")
        let t = try Lockstep.summary(at: again)
        XCTAssertEqual(t["peak_source"] as? String, "cached")
        XCTAssertEqual((t["peak_gflops_per_core"] as? NSNumber)?.doubleValue, (s["peak_gflops_per_core"] as? NSNumber)?.doubleValue)
    }

    /// A cache file that is not a peak is measured over; a cache that cannot be written is
    /// reported by `bench peak` and does not stop a run.
    func testABrokenOrUnwritableCacheOnlyMeansMeasuringAgain() throws {
        try cachePeak(50)
        let file = try XCTUnwrap(peakFiles().first)
        try Data("{\"gflops\": ".utf8).write(to: URL(fileURLWithPath: cache + "/" + file))
        let summary = dir + "/run.json"
        assertSucceeded(Lockstep.run(Tiny.train(["train.steps=4"], ["--summary", summary]), environment: environment), "train")
        XCTAssertEqual(try Lockstep.summary(at: summary)["peak_source"] as? String, "measured")

        let blocked = ["LOCKSTEP_CACHE_DIR": dir + "/run.json/cache"]  // under a file: cannot be created
        let peak = Lockstep.run(["bench", "peak", "--rounds", "1"], environment: blocked)
        assertSucceeded(peak, "bench peak")
        XCTAssertTrue(peak.stdout.contains("not cached: cannot write \(dir)/run.json/cache/peak-"), peak.output)
        let other = dir + "/other.json"
        assertSucceeded(Lockstep.run(Tiny.train(["train.steps=4"], ["--summary", other]), environment: blocked), "train")
        XCTAssertEqual(try Lockstep.summary(at: other)["peak_source"] as? String, "measured")
    }

    /// `bench step` gives the step's MFU and its GEMMs' alone, against the same peak.
    func testBenchStepGivesTheStepsMFUAndItsGEMMFloors() throws {
        try cachePeak(50)
        let json = dir + "/step.json"
        let result = Lockstep.run(["bench", "step", "--config", Tiny.config, "--steps", "3", "--rounds", "2", "--json", json],
                                  environment: environment, timeout: 120)
        assertSucceeded(result, "bench step")
        let r = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let number = { (key: String) in try XCTUnwrap((r[key] as? NSNumber)?.doubleValue, key) }
        XCTAssertEqual(try number("peak_gflops_per_core"), 50)
        let flops = try number("model_flops_per_step")
        XCTAssertEqual(flops, 6 * Double(64 * 32 + 32 * 4) * 32)
        XCTAssertEqual(try number("mfu"), flops / (try number("step_ms_median") / 1000) / 50e9, accuracy: 1e-12)
        XCTAssertEqual(try number("gemm_floor_mfu"), flops / (try number("gemm_floor_ms") / 1000) / 50e9, accuracy: 1e-12)
        XCTAssertTrue(result.stdout.contains("against 50.0 GFLOP/s per core"), result.output)
    }
}
