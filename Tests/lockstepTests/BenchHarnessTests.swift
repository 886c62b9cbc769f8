import Foundation
import TestSupport
import XCTest

/// `lockstep bench compare`, the harness that runs Lockstep and the PyTorch DDP reference
/// (scripts/bench/torch_reference.py) side by side. These are smoke tests of the harness:
/// they check what it runs, records and computes, never how fast anything is.
final class BenchHarnessTests: XCTestCase {
    /// `--quick` on the MLP: both systems at worlds 1 and 2, alternating, with positive
    /// throughput and RSS, the same steps, and ratios and efficiencies made of those runs.
    func testQuickComparisonOfTheMLP() throws {
        let dir = Lockstep.temporaryDirectory("compare")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/compare.json"
        let result = Lockstep.run(["bench", "compare", "--quick", "--config", Lockstep.path("Configs/fashion-mlp.toml"), "--json", out],
                                  timeout: 1200)
        assertSucceeded(result, "bench compare --quick")
        XCTAssertTrue(result.stdout.contains("Lockstep/PyTorch"), "no table printed\n\(result.output)")
        XCTAssertTrue(result.stdout.contains("scaling efficiency, world 1 → 2"), "no scaling efficiency printed\n\(result.output)")

        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(out) is not a JSON object")
        XCTAssertEqual(report["complete"] as? Bool, true)
        XCTAssertEqual(report["quick"] as? Bool, true)
        XCTAssertEqual(report["worlds"] as? [Int], [1, 2])
        XCTAssertFalse((report["torch_version"] as? String ?? "").isEmpty, "no torch version recorded")
        let runs = try XCTUnwrap(report["runs"] as? [[String: Any]], "no runs")
        XCTAssertEqual(runs.count, 4, "one throughput run per system and world")
        XCTAssertEqual(report["planned_runs"] as? Int, 4)
        // Alternating, Lockstep first, world by world.
        XCTAssertEqual(runs.map { $0["system"] as? String ?? "?" }, ["lockstep", "pytorch", "lockstep", "pytorch"])
        XCTAssertEqual(runs.map { $0["world"] as? Int ?? 0 }, [1, 1, 2, 2])

        func number(_ run: [String: Any], _ key: String) -> Double { (run[key] as? NSNumber)?.doubleValue ?? .nan }
        func run(_ system: String, world: Int) throws -> [String: Any] {
            try XCTUnwrap(runs.first { $0["system"] as? String == system && $0["world"] as? Int == world && $0["kind"] as? String == "throughput" },
                          "no \(system) throughput run at world \(world)")
        }
        let timed = try XCTUnwrap(report["steps"] as? Int), warmup = try XCTUnwrap(report["warmup_steps"] as? Int)
        XCTAssertEqual(timed, 20)
        for system in ["lockstep", "pytorch"] {
            for world in [1, 2] {
                let r = try run(system, world: world)
                XCTAssertGreaterThan(number(r, "samples_per_s"), 0, "\(system) world \(world): samples/s")
                XCTAssertGreaterThan(number(r, "step_ms_median"), 0, "\(system) world \(world): step ms")
                XCTAssertGreaterThan(number(r, "peak_rss_mb"), 0, "\(system) world \(world): peak RSS")
                XCTAssertEqual(r["steps"] as? Int, timed + warmup, "\(system) world \(world): both systems take the same steps")
                XCTAssertTrue((r["command"] as? String ?? "").contains("mpirun -np \(world)"), "\(system) world \(world): \(r["command"] ?? "no command")")
            }
        }

        // The ratios and efficiencies are made of those runs (one run each: the medians are the runs).
        let medians = try XCTUnwrap(report["medians"] as? [[String: Any]], "no medians")
        for world in [1, 2] {
            let row = try XCTUnwrap(medians.first { $0["world"] as? Int == world && $0["metric"] as? String == "samples_per_s" },
                                    "no samples/s row at world \(world)")
            let expected = number(try run("lockstep", world: world), "samples_per_s") / number(try run("pytorch", world: world), "samples_per_s")
            XCTAssertEqual(number(row, "ratio"), expected, accuracy: 1e-9 * expected, "world \(world): samples/s ratio")
            let lockstep = try XCTUnwrap(row["lockstep"] as? [String: Any])
            XCTAssertEqual(number(lockstep, "median"), number(try run("lockstep", world: world), "samples_per_s"))
        }
        let rss = try XCTUnwrap(medians.first { $0["world"] as? Int == 2 && $0["metric"] as? String == "peak_rss_mb" })
        let rssExpected = number(try run("lockstep", world: 2), "peak_rss_mb") / number(try run("pytorch", world: 2), "peak_rss_mb")
        XCTAssertEqual(number(rss, "ratio"), rssExpected, accuracy: 1e-9 * rssExpected, "world 2: RSS ratio")
        XCTAssertNil(medians.first { $0["metric"] as? String == "time_to_target_s" }, "--quick sets no accuracy target")

        let scaling = try XCTUnwrap((report["scaling"] as? [[String: Any]])?.first { $0["world"] as? Int == 2 }, "no scaling row")
        for system in ["lockstep", "pytorch"] {
            let expected = number(try run(system, world: 2), "samples_per_s") / (2 * number(try run(system, world: 1), "samples_per_s"))
            XCTAssertEqual(number(scaling, system), expected, accuracy: 1e-9 * expected, "\(system): scaling efficiency")
        }
    }

    /// A reference run that fails ends the comparison with one error line: what failed, its
    /// exit code and the tail of its stderr; the runs before it stay in the JSON.
    func testAFailingRunIsOneLineWithItsExitCodeAndStderr() throws {
        let dir = Lockstep.temporaryDirectory("compare-fail")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = dir + "/broken.py"
        try "import sys\nsys.stderr.write('broken reference: no torch today\\n')\nsys.exit(3)\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        let out = dir + "/compare.json"
        let result = Lockstep.run(["bench", "compare", "--config", Lockstep.path("Configs/fashion-mlp.toml"), "--worlds", "1",
                                   "--repeat", "1", "--steps", "1", "--reference", script, "--json", out], timeout: 600)
        assertFailed(result, code: 1, contains: ["PyTorch, world 1, throughput run 1 failed with exit code 3",
                                                 "broken reference: no torch today"])
        XCTAssertEqual(errorLines(result).count, 1, "one error line\n\(result.output)")
        // The failed run's work folder is kept for a look, and named in the message.
        if let range = result.stderr.range(of: #"its output is in (\S+)/pytorch-w1-throughput-1\.err"#, options: .regularExpression) {
            let folder = result.stderr[range].dropFirst("its output is in ".count).dropLast("/pytorch-w1-throughput-1.err".count)
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/pytorch-w1-throughput-1.err"), "\(folder)")
            try? FileManager.default.removeItem(atPath: String(folder))
        } else {
            XCTFail("the error names no output file\n\(result.output)")
        }
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        XCTAssertEqual(report?["complete"] as? Bool, false)
        XCTAssertEqual((report?["runs"] as? [[String: Any]])?.map { $0["system"] as? String }, ["lockstep"])
    }

    /// Bad options are usage errors (exit 2, one line) before anything runs.
    func testBadOptionsAreUsageErrors() {
        let config = Lockstep.path("Configs/fashion-mlp.toml")
        let cases: [([String], String)] = [
            (["--repeat", "0"], "--repeat must be positive"),
            (["--worlds", "1,x"], "--worlds 1,x"),
            (["--target-accuracy", "88"], "--target-accuracy is a fraction"),
            (["--quick", "--target-accuracy", "0.8"], "--quick measures no time to accuracy"),
            (["--python", "/nonexistent/python3"], "--python /nonexistent/python3: not found"),
            (["--reference", "/nonexistent.py"], "--reference /nonexistent.py: no such file"),
        ]
        for (arguments, message) in cases {
            let result = Lockstep.run(["bench", "compare", "--config", config] + arguments, timeout: 60)
            assertFailed(result, code: 2, contains: [message], arguments.joined(separator: " "))
            XCTAssertEqual(errorLines(result).count, 1, "\(arguments): one error line\n\(result.output)")
        }
        let synthetic = Lockstep.run(["bench", "compare", "--config", Lockstep.path("Configs/tiny.toml")], timeout: 60)
        assertFailed(synthetic, code: 2, contains: ["the PyTorch reference reads fashion-mnist only"], "tiny.toml")
    }

    /// Runs scripts/bench/`name` with the tested binary, writing into `out`, and returns the
    /// summary.json it wrote.
    private func benchScript(_ name: String, _ arguments: [String], out: String,
                             file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let result = runProcess(Lockstep.path("scripts/bench/" + name), arguments + ["--out", out],
                                environment: Lockstep.environment.merging(["LOCKSTEP_BIN": Lockstep.binary]) { $1 }, timeout: 300)
        assertSucceeded(result, "scripts/bench/\(name) \(arguments.joined(separator: " "))", file: file, line: line)
        let data = try Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(out)/summary.json",
                             file: file, line: line)
    }

    /// scripts/bench/allreduce, once: Lockstep's ring and mpi4py's MPI_Allreduce alternate under
    /// mpirun -np 2, and the table and summary give each size a busbw and a ratio made of them.
    func testAllReduceComparisonScript() throws {
        let dir = Lockstep.temporaryDirectory("allreduce-compare")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let summary = try benchScript("allreduce", ["--reps", "1", "--algorithms", "ring"], out: dir)
        XCTAssertEqual(summary["world"] as? Int, 2)
        let rows = try XCTUnwrap(summary["rows"] as? [[String: Any]])
        let sizes = [4 << 10, 64 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20]
        for system in ["lockstep ring", "mpi4py"] {
            XCTAssertEqual(rows.filter { $0["system"] as? String == system }.compactMap { $0["bytes"] as? Int }.sorted(), sizes, system)
        }
        func number(_ row: [String: Any], _ key: String) -> Double { (row[key] as? NSNumber)?.doubleValue ?? .nan }
        for size in sizes {
            let ours = try XCTUnwrap(rows.first { $0["system"] as? String == "lockstep ring" && $0["bytes"] as? Int == size })
            let theirs = try XCTUnwrap(rows.first { $0["system"] as? String == "mpi4py" && $0["bytes"] as? Int == size })
            XCTAssertGreaterThan(number(ours, "busbw_median"), 0, "\(size) bytes")
            XCTAssertEqual(number(ours, "ratio_to_mpi4py"), number(ours, "busbw_median") / number(theirs, "busbw_median"),
                           accuracy: 1e-9, "\(size) bytes")
        }
        let table = try String(contentsOfFile: dir + "/table.md", encoding: .utf8)
        XCTAssertEqual(table.split(separator: "\n").filter { $0.hasPrefix("| ") && ($0.contains("MiB |") || $0.contains("KiB |")) }.count,
                       2 * sizes.count, table)
    }

    /// scripts/bench/deterministic, once and short: the default mode and deterministic mode at
    /// two chunk sizes alternate under mpirun -np 2; each setting's ratio is its samples/s over
    /// the default run of its repetition.
    func testDeterministicCostScript() throws {
        let dir = Lockstep.temporaryDirectory("deterministic-cost")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let summary = try benchScript("deterministic", ["--reps", "1", "--steps", "5", "--chunks", "128,64"], out: dir)
        XCTAssertEqual(summary["world"] as? Int, 2)
        let rows = try XCTUnwrap(summary["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.compactMap { $0["setting"] as? String }, ["default", "chunk-128", "chunk-64"])
        func number(_ row: [String: Any], _ key: String) -> Double { (row[key] as? NSNumber)?.doubleValue ?? .nan }
        let base = number(rows[0], "samples_median")
        XCTAssertGreaterThan(base, 0)
        for row in rows {
            XCTAssertEqual(number(row, "ratio_median"), number(row, "samples_median") / base, accuracy: 1e-9, "\(row)")
        }
        let table = try String(contentsOfFile: dir + "/table.md", encoding: .utf8)
        XCTAssertTrue(table.contains("| deterministic, train.chunk = 64 |"), table)

        let bad = runProcess(Lockstep.path("scripts/bench/deterministic"), ["--chunks", "0"], timeout: 60)
        XCTAssertEqual(bad.status, 2, bad.output)
        XCTAssertTrue(bad.stderr.contains("bench/deterministic: --chunks: expected sizes like 128,64, got 0"), bad.output)
    }
}
