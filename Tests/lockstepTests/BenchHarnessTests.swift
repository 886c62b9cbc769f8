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

    /// A GPT small enough for a smoke test, and a text for it, in `dir`; returns the config's path.
    private func tinyGPT(in dir: String) throws -> (config: String, corpus: String) {
        let corpus = dir + "/text.txt"
        let line = "In the beginning was the word, and the word was with the harness. "
        try String(repeating: line, count: 400).write(toFile: corpus, atomically: true, encoding: .utf8)
        let config = dir + "/tiny-gpt.toml"
        try """
            [model]
            type = "gpt"
            name = "gpt-bench-test"
            vocab = 256
            context = 16
            layers = 1
            heads = 2
            embed = 16

            [data]
            dataset = "text"
            path = "\(corpus)"
            val_windows = 4

            [train]
            steps = 5
            batch = 2
            seed = 0

            [optimizer]
            name = "adamw"
            lr = 1e-3

            """.write(toFile: config, atomically: true, encoding: .utf8)
        return (config, corpus)
    }

    /// scripts/bench/peers --quick on a tiny GPT: Lockstep and two runs of a stub peer
    /// (Tests/Peers/peer_stub.py, which prints the line a real peer prints and needs no
    /// PyTorch) alternate at worlds 1 and 2, each (world, system) once per round; the medians,
    /// ratios, efficiencies and MFU of summary.json and table.md are made of the raw runs.
    func testGPTComparisonScript() throws {
        let dir = Lockstep.temporaryDirectory("gpt-compare")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (config, corpus) = try tinyGPT(in: dir)
        let out = dir + "/out"
        // HASWELL: kernels every machine that runs the release build has (it needs AVX2).
        let summary = try benchScript("peers", ["--quick", "--rounds", "2", "--config", config, "--coretype", "HASWELL",
                                              "--peer", Lockstep.path("Tests/Peers/peer_stub.py"),
                                              "--python", "/usr/bin/python3",
                                              "--python", "/usr/bin/python3", "--peer-args", "--sdpa --step-ms 2"], out: out)
        func number(_ object: [String: Any]?, _ key: String) -> Double { (object?[key] as? NSNumber)?.doubleValue ?? .nan }
        func median(_ values: [Double]) -> Double {
            let s = values.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        XCTAssertEqual(summary["complete"] as? Bool, true)
        XCTAssertEqual(summary["quick"] as? Bool, true)
        XCTAssertEqual(summary["worlds"] as? [Int], [1, 2])
        XCTAssertEqual(summary["timed_steps"] as? Int, 5)
        XCTAssertEqual((summary["environment"] as? [String: String])?["OPENBLAS_CORETYPE"], "HASWELL")
        XCTAssertEqual(summary["corpus"] as? String, URL(fileURLWithPath: corpus).resolvingSymlinksInPath().path)
        let systems = ["lockstep", "peer-1", "peer-2"], worlds = [1, 2]
        let runs = try XCTUnwrap(summary["runs"] as? [[String: Any]], "no runs")
        XCTAssertEqual(runs.count, 2 * worlds.count * systems.count)
        XCTAssertEqual(summary["planned_runs"] as? Int, runs.count)

        // Every round holds every (world, system) once; the second runs them in reverse order.
        var firstOrder: [String] = []
        for round in [1, 2] {
            let inRound = runs.filter { $0["round"] as? Int == round }.sorted { ($0["order"] as? Int ?? 0) < ($1["order"] as? Int ?? 0) }
            let keys = inRound.map { "\($0["world"] as? Int ?? 0) \($0["system"] as? String ?? "?")" }
            XCTAssertEqual(Set(keys), Set(worlds.flatMap { w in systems.map { "\(w) \($0)" } }), "round \(round)")
            XCTAssertEqual(keys.count, worlds.count * systems.count, "round \(round): \(keys)")
            if round == 1 { firstOrder = keys } else { XCTAssertEqual(keys, Array(firstOrder.reversed()), "round 2 runs round 1 backwards") }
        }
        XCTAssertEqual(firstOrder, ["1 lockstep", "1 peer-1", "1 peer-2", "2 lockstep", "2 peer-1", "2 peer-2"])

        for run in runs {
            let world = run["world"] as? Int ?? 0, system = run["system"] as? String ?? "?", what = "\(system) at world \(world)"
            XCTAssertGreaterThan(number(run, "tokens_per_s"), 0, what)
            XCTAssertEqual(run["timed_steps"] as? Int, 5, what)
            let rss = (run["peak_rss_mb_ranks"] as? [NSNumber])?.map(\.doubleValue) ?? []
            XCTAssertEqual(rss.count, world, "\(what): one peak RSS per rank")
            XCTAssertTrue(rss.allSatisfy { $0 > 1 }, "\(what): \(rss)")
            XCTAssertEqual(number(run, "peak_rss_mb"), rss.max() ?? .nan, what)
            let command = run["command"] as? String ?? ""
            XCTAssertTrue(command.hasPrefix("mpirun -np \(world) "), "\(what): \(command)")
            XCTAssertTrue(command.contains("/usr/bin/time -f %M"), "\(what): every system's RSS is measured the same way: \(command)")
            if system == "lockstep" {
                XCTAssertTrue(command.contains("train --config \(config)") && command.contains("--set train.eval_every=0"), command)
                XCTAssertEqual(run["blas_kernel"] as? String, "Haswell", what)
            } else {
                XCTAssertTrue(command.contains("--corpus \(URL(fileURLWithPath: corpus).resolvingSymlinksInPath().path) --steps 5 --batch 2 --layers 1 --heads 2 --embed 16 --context 16"),
                              "\(what): the peer gets the config's shape: \(command)")
                let printed = run["peer_output"] as? [String: Any]
                XCTAssertEqual(printed?["world"] as? Int, world, what)
                XCTAssertEqual(printed?["sdpa"] as? Bool, system == "peer-2", "\(what): --peer-args go to their own --python")
                XCTAssertEqual(run["params"] as? Int, runs.first { $0["system"] as? String == "lockstep" }?["params"] as? Int,
                               "\(what): the stub counts the parameters as nanoGPT does")
            }
        }

        // Medians, ratios, efficiencies and MFU, recomputed from the raw runs.
        func raw(_ system: String, _ world: Int, _ key: String) -> [Double] {
            runs.filter { $0["system"] as? String == system && $0["world"] as? Int == world }.map { number($0, key) }
        }
        let rows = try XCTUnwrap(summary["rows"] as? [[String: Any]])
        let ratios = try XCTUnwrap(summary["ratios"] as? [[String: Any]])
        let scaling = try XCTUnwrap(summary["scaling"] as? [[String: Any]])
        let lockstepRun = try XCTUnwrap(runs.first { $0["system"] as? String == "lockstep" })
        let flopsPerToken = number(lockstepRun, "model_flops_per_step") / number(lockstepRun, "global_batch") / 16
        XCTAssertEqual(number(summary, "flops_per_token"), flopsPerToken, accuracy: 1e-9 * flopsPerToken)
        XCTAssertEqual(rows.count, worlds.count * systems.count)
        for world in worlds {
            for system in systems {
                let row = try XCTUnwrap(rows.first { $0["world"] as? Int == world && $0["system"] as? String == system }, "\(system) \(world)")
                let tokens = row["tokens_per_s"] as? [String: Any]
                XCTAssertEqual(number(tokens, "median"), median(raw(system, world, "tokens_per_s")), accuracy: 1e-6, "\(system) \(world)")
                XCTAssertEqual(number(tokens, "min"), raw(system, world, "tokens_per_s").min() ?? .nan, "\(system) \(world)")
                let peak = number(summary, "peak_gflops_per_core")  // bench peak's, measured first
                XCTAssertGreaterThan(peak, 0)
                let mfu = median(raw(system, world, "tokens_per_s")) * flopsPerToken / (Double(world) * peak * 1e9)
                XCTAssertEqual(number(row, "mfu"), mfu, accuracy: 1e-9 * mfu, "\(system) \(world): MFU")
                if system != "lockstep" {
                    let ratio = try XCTUnwrap(ratios.first { $0["world"] as? Int == world && $0["peer"] as? String == system })
                    let expected = median(raw("lockstep", world, "tokens_per_s")) / median(raw(system, world, "tokens_per_s"))
                    XCTAssertEqual(number(ratio, "tokens_per_s"), expected, accuracy: 1e-9 * expected, "\(system) \(world): ratio")
                    let rss = median(raw("lockstep", world, "peak_rss_mb")) / median(raw(system, world, "peak_rss_mb"))
                    XCTAssertEqual(number(ratio, "peak_rss_mb_per_rank"), rss, accuracy: 1e-9 * rss, "\(system) \(world): RSS ratio")
                }
            }
        }
        XCTAssertEqual(ratios.count, 2 * worlds.count)
        for system in systems {
            let row = try XCTUnwrap(scaling.first { $0["system"] as? String == system && $0["world"] as? Int == 2 }, system)
            let expected = median(raw(system, 2, "tokens_per_s")) / (2 * median(raw(system, 1, "tokens_per_s")))
            XCTAssertEqual(number(row, "efficiency"), expected, accuracy: 1e-9 * expected, "\(system): scaling efficiency")
        }

        // The table: a row per (world, system), the ratios as printed, an efficiency per system.
        let table = try String(contentsOfFile: out + "/table.md", encoding: .utf8)
        let lines = table.split(separator: "\n").map(String.init)
        for world in worlds {
            for (system, label) in [("lockstep", "Lockstep"), ("peer-1", "PyTorch 0.0+stub"), ("peer-2", "PyTorch 0.0+stub --sdpa --step-ms 2")] {
                let row = lines.filter { $0.hasPrefix("| \(world) | \(label) |") }
                XCTAssertEqual(row.count, 1, "\(label) at world \(world)\n\(table)")
                if system != "lockstep", let line = row.first {
                    let ratio = median(raw("lockstep", world, "tokens_per_s")) / median(raw(system, world, "tokens_per_s"))
                    XCTAssertEqual(line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }[3],
                                   String(format: "%.2f", ratio), "\(label) at world \(world)\n\(table)")
                }
            }
        }
        XCTAssertEqual(lines.filter { $0.hasSuffix("| world 1 → 2 |") }.count, systems.count, table)
    }

    /// scripts/bench/peers on the Fashion-MNIST MLP: the peer gets `--model mlp` and the batch,
    /// the rates are samples/s, and MFU counts the MLP's 6 FLOPs per weight per sample against the
    /// peak `lockstep bench peak` measured first.
    func testImageModelComparisonScript() throws {
        let dir = Lockstep.temporaryDirectory("image-compare")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/out"
        let result = runProcess(Lockstep.path("scripts/bench/peers"),
                                ["--quick", "--rounds", "1", "--worlds", "1,2", "--config", Lockstep.path("Configs/fashion-mlp.toml"),
                                 "--coretype", "HASWELL", "--peer", Lockstep.path("Tests/Peers/peer_stub.py"), "--out", out],
                                environment: Lockstep.environment.merging(["LOCKSTEP_BIN": Lockstep.binary, "LOCKSTEP_CACHE_DIR": dir + "/cache"]) { $1 },
                                timeout: 300)
        assertSucceeded(result, "scripts/bench/peers on the MLP")
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as? [String: Any])
        func number(_ object: [String: Any]?, _ key: String) -> Double { (object?[key] as? NSNumber)?.doubleValue ?? .nan }
        XCTAssertEqual(summary["rate"] as? String, "samples_per_s")
        XCTAssertEqual(number(summary, "flops_per_sample"), 6 * Double(784 * 1024 + 1024 * 1024 + 1024 * 10))
        let peak = number(summary, "peak_gflops_per_core")
        let runs = try XCTUnwrap(summary["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 4)
        for run in runs where run["system"] as? String == "peer-1" {
            XCTAssertTrue((run["command"] as? String ?? "").hasSuffix("peer_stub.py --model mlp --steps 5 --batch 128"), "\(run)")
        }
        for run in runs where run["system"] as? String == "lockstep" {
            XCTAssertEqual(number(run, "peak_gflops_per_core"), peak, "the run used the peak the harness measured")
        }
        let rows = try XCTUnwrap(summary["rows"] as? [[String: Any]])
        for row in rows {
            let rate = number(row["samples_per_s"] as? [String: Any], "median"), world = Double(row["world"] as? Int ?? 0)
            XCTAssertGreaterThan(rate, 0, "\(row)")
            XCTAssertEqual(number(row, "mfu"), rate * number(summary, "flops_per_sample") / (world * peak * 1e9), accuracy: 1e-9, "\(row)")
        }
        let table = try String(contentsOfFile: out + "/table.md", encoding: .utf8)
        XCTAssertTrue(table.contains("| world | system | samples/s, median [min–max] |") && table.contains("mlp, 128 samples per rank"), table)
    }

    /// scripts/bench/peers: a peer that fails ends the run with one line (which run, its exit
    /// status, its last words) and keeps the runs before it; bad options are usage errors.
    func testGPTComparisonScriptFailures() throws {
        let dir = Lockstep.temporaryDirectory("gpt-compare-fail")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (config, corpus) = try tinyGPT(in: dir)
        let script = Lockstep.path("scripts/bench/peers"), stub = Lockstep.path("Tests/Peers/peer_stub.py")
        let environment = Lockstep.environment.merging(["LOCKSTEP_BIN": Lockstep.binary]) { $1 }
        let failed = runProcess(script, ["--quick", "--worlds", "1", "--rounds", "1", "--config", config, "--coretype", "HASWELL",
                                         "--peer", stub, "--python", "/usr/bin/python3", "--peer-args", "--fail 3", "--out", dir + "/out"],
                                environment: environment, timeout: 300)
        XCTAssertEqual(failed.status, 1, failed.output)
        let errors = failed.stderr.split(separator: "\n").filter { $0.hasPrefix("bench/peers:") }
        XCTAssertEqual(errors.count, 1, failed.output)
        XCTAssertTrue(errors.first?.contains("r1-w1-peer-1 failed with exit status 3: peer_stub: failing with status 3 as asked") == true,
                      failed.output)
        let partial = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/summary.json"))) as? [String: Any]
        XCTAssertEqual(partial?["complete"] as? Bool, false)
        XCTAssertEqual((partial?["runs"] as? [[String: Any]])?.map { $0["system"] as? String }, ["lockstep"])

        let cases: [([String], String)] = [
            (["--rounds", "0"], "--rounds: expected a positive number, got 0"),
            (["--worlds", "1,x"], "--worlds: expected sizes like 1,2, got 1,x"),
            (["--peer-args", "--sdpa"], "--peer-args belongs to the --python before it"),
            (["--python", "/usr/bin/python3"], "--python runs the --peer script; give --peer PATH too"),
            (["--peak-gflops", "0"], "--peak-gflops: expected a positive number"),
            (["--config", Lockstep.path("Configs/tiny.toml")], "neither a GPT (model.type = \"gpt\") nor the Fashion-MNIST fashion-mlp or fashion-cnn"),
            (["--config", Lockstep.path("Configs/fashion-cnn.toml"), "--corpus", corpus], "--corpus: only a GPT reads a corpus"),
        ]
        for (arguments, message) in cases {
            let result = runProcess(script, ["--config", config] + arguments, environment: environment, timeout: 60)
            XCTAssertEqual(result.status, 2, "\(arguments)\n\(result.output)")
            XCTAssertTrue(result.stderr.contains("bench/peers: ") && result.stderr.contains(message), "\(arguments)\n\(result.output)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): one line\n\(result.output)")
        }
    }
}
