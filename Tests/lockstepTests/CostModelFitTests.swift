import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import XCTest

/// The all-reduce cost model (`lockstep cost-model`, and `--bench` of scale and report):
/// - on times made from the Thakur–Rabenseifner–Gropp formulas, written out here by hand,
///   the fit recovers the α, β and γ they were made with, intra- and inter-node;
/// - on the benchmark committed in Docs/examples (measured on the project's machine at world
///   2), each algorithm's fit is within 15% of every point from 64 KiB to 64 MiB;
/// - on a fresh benchmark of this machine, the fit is sane (loosely: the machine is shared);
/// - a scaling study with --bench projects to 8…1024 ranks, and report re-projects.
final class CostModelFitTests: XCTestCase {
    private var dir = ""
    /// The committed benchmark runs (world 2, three runs: the fit takes their medians).
    static let committedBench = (1...3).map { Lockstep.path("Docs/examples/bench/allreduce-world2-\($0).json") }

    override func setUp() {
        dir = Lockstep.temporaryDirectory("costmodel")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    // MARK: Known parameters

    private let alpha = 3e-6, beta = 0.4e-9, gamma = 0.1e-9
    private let alphaInter = 20e-6, betaInter = 0.8e-9
    private let sizes = [4096, 16384, 65536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864]

    /// ring and rhd on one node: 2(p−1)α or 2 lg p α, + 2n(p−1)/p β + n(p−1)/p γ.
    private func flat(_ algorithm: String, p: Int, n: Double) -> Double {
        let pd = Double(p)
        let latencies = algorithm == "ring" ? 2 * (pd - 1) : 2 * log2(pd)
        return latencies * alpha + 2 * n * (pd - 1) / pd * beta + n * (pd - 1) / pd * gamma
    }

    /// hierarchical with L ranks on each of N nodes: a binomial tree reduce and broadcast in
    /// the node (lg L levels of α_i + nβ_i + nγ, then of α_i + nβ_i), and between the N = 2
    /// leaders halving-doubling over the network: 2α_e + 2n(N−1)/N β_e + n(N−1)/N γ.
    private func hierarchical(L: Int, N: Int, n: Double) -> Double {
        let levels = log2(Double(L))
        var t = levels * (2 * alpha + 2 * n * beta + n * gamma)
        if N == 2 { t += 2 * alphaInter + n * betaInter + n / 2 * gamma }
        return t
    }

    private func benchFile(_ name: String, world: Int, nodes: Int, rows: [(String, Int, Double)]) throws -> String {
        let path = dir + "/" + name
        let json: [String: Any] = [
            "world": world, "nodes": nodes, "compression": "none",
            "rows": rows.map { r in
                ["bytes": r.1, "count": r.1 / 4, "algorithm": r.0, "ran": r.0, "us": r.2 * 1e6, "algbw_GBps": 0, "busbw_GBps": 0] as [String: Any]
            },
        ]
        try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testFitRecoversTheParametersTheTimesWereMadeWith() throws {
        var world2: [(String, Int, Double)] = []
        for n in sizes {
            world2.append(("ring", n, flat("ring", p: 2, n: Double(n))))
            world2.append(("rhd", n, flat("rhd", p: 2, n: Double(n))))
            world2.append(("hierarchical", n, hierarchical(L: 2, N: 1, n: Double(n))))
        }
        let world4 = sizes.map { ("hierarchical", $0, hierarchical(L: 2, N: 2, n: Double($0))) }
        let a = try benchFile("w2.json", world: 2, nodes: 1, rows: world2)
        let b = try benchFile("w4.json", world: 4, nodes: 2, rows: world4)
        let out = dir + "/fit.json"
        let result = Lockstep.run(["cost-model", "--bench", a, "--bench", b, "--gamma-ns-per-byte", "0.1", "--max-capacities", "0",
                                   "--one-alpha", "--json", out, "--check"], timeout: 60)
        XCTAssertEqual(result.status, 0, result.output)
        let fit = try json(out)
        let algorithms = try XCTUnwrap(fit["algorithms"] as? [[String: Any]])
        XCTAssertEqual(algorithms.compactMap { $0["name"] as? String }, ["ring", "rhd", "hierarchical"])
        for p in algorithms {
            let name = p["name"] as? String ?? "?"
            let intra = try XCTUnwrap(p["intra"] as? [String: Any], "\(name): no intra-node link")
            assertClose(number(intra["alpha"]), alpha, rtol: 1e-6, atol: 1e-12, "\(name) α")
            assertClose(number(intra["beta"]), beta, rtol: 1e-6, atol: 1e-18, "\(name) β")
            XCTAssertLessThan(number(p["max_error"]), 1e-6, "\(name): the fit should be exact")
            if name == "hierarchical" {
                let inter = try XCTUnwrap(p["inter"] as? [String: Any], "hierarchical over 2 nodes: no inter-node link")
                assertClose(number(inter["alpha"]), alphaInter, rtol: 1e-6, atol: 1e-12, "hierarchical α_e")
                assertClose(number(inter["beta"]), betaInter, rtol: 1e-6, atol: 1e-18, "hierarchical β_e")
            } else {
                XCTAssertNil(p["inter"], "\(name) was measured on one node only")
            }
        }
        // With an eager limit and cache capacities allowed, exact data still fit exactly.
        let ranged = Lockstep.run(["cost-model", "--bench", a, "--gamma-ns-per-byte", "0.1", "--json", out], timeout: 60)
        XCTAssertEqual(ranged.status, 0, ranged.output)
        for p in try XCTUnwrap(try json(out)["algorithms"] as? [[String: Any]]) {
            XCTAssertLessThan(number(p["max_error"]), 1e-6, "\(p["name"] ?? "?") with the refinements allowed")
        }
    }

    // MARK: The committed measurement of this machine

    func testFitOnTheCommittedBenchmarkIsWithin15PercentFrom64KiBTo64MiB() throws {
        let out = dir + "/fit.json"
        let result = Lockstep.run(["cost-model", "--json", out, "--check"] + Self.committedBench.flatMap { ["--bench", $0] },
                                  timeout: 120)
        XCTAssertEqual(result.status, 0, result.output)
        let fit = try json(out)
        XCTAssertEqual(fit["worlds"] as? [Int], [2])
        let algorithms = try XCTUnwrap(fit["algorithms"] as? [[String: Any]])
        XCTAssertEqual(Set(algorithms.compactMap { $0["name"] as? String }), ["ring", "rhd", "hierarchical"])
        let points = try XCTUnwrap(fit["points"] as? [[String: Any]])
        let inGoal = points.filter { (($0["bytes"] as? Int) ?? 0) >= 65536 && (($0["bytes"] as? Int) ?? 0) <= 67_108_864 }
        XCTAssertGreaterThanOrEqual(inGoal.count, 3 * 7, "the committed benchmark should cover 64 KiB to 64 MiB")
        for p in inGoal {
            let measured = number(p["measured_us"]), model = number(p["model_us"])
            XCTAssertLessThanOrEqual(abs(model - measured) / measured, 0.15,
                                     "\(p["algorithm"] ?? "?") at \(p["bytes"] ?? "?") bytes: model \(model) µs, measured \(measured) µs")
        }
    }

    // MARK: A fresh measurement

    func testFitOnAFreshBenchmarkOfThisMachineIsSane() throws {
        let bench = dir + "/fresh.json"
        let run = Lockstep.mpirun(2, ["bench", "allreduce", "--sizes", "4K,64K,256K,1M,4M,16M", "--algorithms", "ring,rhd",
                                      "--json", bench], timeout: 180)
        XCTAssertEqual(run.status, 0, run.output)
        guard run.status == 0 else { return }
        let out = dir + "/fit.json"
        let result = Lockstep.run(["cost-model", "--bench", bench, "--json", out], timeout: 60)
        XCTAssertEqual(result.status, 0, result.output)
        let fit = try json(out)
        for p in try XCTUnwrap(fit["algorithms"] as? [[String: Any]]) {
            let name = p["name"] as? String ?? "?"
            let intra = try XCTUnwrap(p["intra"] as? [String: Any])
            let alpha = number(intra["alpha"]), beta = number(intra["beta"])
            let increments = ((intra["capacities"] as? [[String: Any]]) ?? []).map { number($0["increment"]) }
            XCTAssertTrue(([alpha, beta] + increments).allSatisfy(\.isFinite), "\(name): \(alpha), \(beta), \(increments)")
            XCTAssertGreaterThanOrEqual(alpha, 0, "\(name): a negative latency")
            // An increment may be negative (copies can get cheaper per byte past a cache size),
            // but the time per byte must stay positive at every size: past each capacity in turn.
            let perByte = increments.reduce(into: [beta]) { $0.append($0.last! + $1) }
            XCTAssertTrue(perByte.allSatisfy { $0 > 0 }, "\(name): β(n) reaches zero or below: \(perByte)")
            // How well the model fits is checked on the committed benchmark: a fresh one on a
            // shared machine is too noisy to bound its error.
            XCTAssertTrue(number(p["median_error_in_goal"]).isFinite, "\(name): median error from 64 KiB up")
        }
    }

    // MARK: Projection in a scaling report

    func testScaleWithBenchProjectsAndReportReprojects() throws {
        let out = dir + "/study"
        let result = Lockstep.run(["scale", "--config", Lockstep.path("Configs/tiny.toml"), "--ranks", "1,2", "--out", out,
                                   "--set", "train.steps=30", "--gamma-ns-per-byte", "0.1"]
                                  + Self.committedBench.flatMap { ["--bench", $0] }, timeout: 300)
        XCTAssertEqual(result.status, 0, result.output)
        guard result.status == 0 else { return }
        let report = try json(out + "/report.json")
        XCTAssertNotNil(report["cost_model"] as? [String: Any], "no cost model in report.json")
        let projection = try XCTUnwrap(report["projection"] as? [String: Any], "no projection in report.json")
        let rows = try XCTUnwrap(projection["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 2 * 4 * 8, "2 networks × 4 algorithms × 8 world sizes")
        XCTAssertEqual(Set(rows.compactMap { $0["ranks"] as? Int }), [8, 16, 32, 64, 128, 256, 512, 1024])
        for row in rows {
            let e = number(row["efficiency"])
            XCTAssertTrue(e > 0 && e < 1.2, "efficiency \(e) in \(row)")
        }
        XCTAssertFalse((projection["this_machine"] as? [Any] ?? []).isEmpty, "no model at the measured worlds")
        let markdown = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        for chart in ["allreduce-fit.svg", "projection-eth25.svg", "projection-ib100.svg"] {
            XCTAssertTrue(markdown.contains("](\(chart))"), "report.md does not show \(chart)")
            try assertWellFormedXML(out + "/" + chart)
        }
        XCTAssertTrue(markdown.contains("the model projects an efficiency of"), markdown)

        // Another network: the projection and its charts follow; the old chart goes.
        let again = Lockstep.run(["report", out, "--network", "lab:40:8", "--ranks-per-node", "8"], timeout: 60)
        XCTAssertEqual(again.status, 0, again.output)
        let reprojected = try XCTUnwrap(try json(out + "/report.json")["projection"] as? [String: Any])
        XCTAssertEqual((reprojected["networks"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["lab"])
        XCTAssertEqual(reprojected["ranks_per_node"] as? Int, 8)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/projection-lab.svg"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/projection-eth25.svg"), "a stale chart was left")
        let md1 = try Data(contentsOf: URL(fileURLWithPath: out + "/report.md"))
        XCTAssertEqual(Lockstep.run(["report", out], timeout: 60).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/report.md")), md1, "report.md changed on re-rendering")
    }

    // MARK: Helpers

    private func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(path) is not a JSON object")
    }

    private func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? .nan }

    private func assertWellFormedXML(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertTrue(parser.parse(), "\(path) is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")", file: file, line: line)
    }
}
