import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import XCTest

/// `lockstep scale` and `lockstep report` on the real binary: a study at 1, 2, 4 and 8 ranks
/// (4 and 8 oversubscribed on small machines) gives a complete report whose charts are valid
/// XML, that `report` renders again byte for byte; a failed world is reported and the rest
/// still are; bad requests are refused with one line and exit 2.
final class ScaleReportTests: XCTestCase {
    private var dir = ""
    private let tiny = Lockstep.path("Configs/tiny.toml")

    override func setUp() {
        dir = Lockstep.temporaryDirectory("scale")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testScaleAtOneToEightRanksWritesACompleteReportThatReRendersIdentically() throws {
        let out = dir + "/study"
        let result = Lockstep.run(["scale", "--config", tiny, "--ranks", "1,2,4,8", "--launcher", "mpirun", "--out", out,
                                   "--set", "train.steps=40"], timeout: 600)
        XCTAssertEqual(result.status, 0, result.output)
        guard result.status == 0 else { return }
        for world in [1, 2, 4, 8] {
            XCTAssertTrue(result.stdout.contains("world \(world)"), "no progress line for world \(world)\n\(result.output)")
        }

        // report.json: 4 runs, each ok with its summary and metrics; efficiency 1 at the baseline.
        let report = try json(out + "/report.json")
        XCTAssertEqual(report["format"] as? String, "lockstep-scaling-report/1")
        XCTAssertEqual(report["baseline_world"] as? Int, 1)
        let machine = try XCTUnwrap(report["machine"] as? [String: Any])
        for key in ["cores", "cpu_model", "openblas", "mpi"] { XCTAssertNotNil(machine[key], "machine.\(key)") }
        let runs = try XCTUnwrap(report["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["world"] as? Int }, [1, 2, 4, 8])
        let cores = try XCTUnwrap(machine["cores"] as? Int)
        for run in runs {
            let world = run["world"] as? Int ?? -1
            XCTAssertEqual(run["status"] as? String, "ok", "world \(world): \(run)")
            XCTAssertEqual(run["oversubscribed"] as? Bool, world > cores, "world \(world)")
            let summary = try XCTUnwrap(run["summary"] as? [String: Any], "world \(world) has no summary")
            XCTAssertEqual(summary["world"] as? Int, world)
            let metrics = try XCTUnwrap(run["metrics"] as? [String: Any], "world \(world) has no metrics")
            let efficiency = try XCTUnwrap((metrics["efficiency"] as? NSNumber)?.doubleValue)
            let rate = try XCTUnwrap((metrics["samples_per_s"] as? NSNumber)?.doubleValue)
            let baseRate = try XCTUnwrap(((runs[0]["metrics"] as? [String: Any])?["samples_per_s"] as? NSNumber)?.doubleValue)
            XCTAssertEqual(efficiency, rate / (Double(world) * baseRate), accuracy: 1e-9, "weak efficiency at \(world)")
            XCTAssertTrue(efficiency > 0 && efficiency.isFinite)
            if world == 1 { XCTAssertEqual(efficiency, 1, accuracy: 1e-12) }
            let breakdown = try XCTUnwrap(metrics["breakdown"] as? [String: Any])
            for part in ["compute", "exposed_comm", "data", "optimizer", "other"] {
                XCTAssertNotNil(breakdown[part] as? NSNumber, "world \(world): breakdown.\(part)")
            }
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/runs/\(world).json"), "runs/\(world).json")
        }

        // report.md links the charts, which exist and are well-formed XML SVG.
        let markdown = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        let charts = linkedSVGs(markdown)
        XCTAssertEqual(Set(charts), ["throughput.svg", "efficiency.svg", "breakdown.svg"], markdown)
        for chart in charts { try assertValidSVG(out + "/" + chart) }
        XCTAssertTrue(markdown.contains("## Summary") && markdown.contains("## Runs") && markdown.contains("## Where the time goes"))
        XCTAssertTrue(markdown.contains("What limits scaling"), markdown)
        if cores < 8 { XCTAssertTrue(markdown.contains("oversubscribed"), "oversubscription is not noted\n\(markdown)") }

        // `lockstep report DIR` renders the same bytes again.
        let before = try snapshot(out)
        let again = Lockstep.run(["report", out], timeout: 60)
        XCTAssertEqual(again.status, 0, again.output)
        let after = try snapshot(out)
        XCTAssertEqual(Set(before.keys), Set(after.keys))
        for (name, data) in before where after[name] != data {
            XCTFail("\(name) differs after lockstep report")
        }
    }

    func testAFailedWorldIsReportedAndTheOthersStillAre() throws {
        let out = dir + "/failing"
        // 512 samples and a batch of 100 per rank fit 1 rank but not 8 (64 samples each).
        let result = Lockstep.run(["scale", "--config", tiny, "--ranks", "1,8", "--out", out, "--set", "data.train_count=512",
                                   "--set", "train.batch=100", "--set", "train.steps=6"], timeout: 300)
        XCTAssertEqual(result.status, 1, result.output)
        let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("lockstep: error:") }
        XCTAssertEqual(lines.count, 1, result.output)
        XCTAssertTrue(result.stderr.contains("1 of 2 runs failed (world 8: exit "), result.output)
        XCTAssertTrue(result.stderr.contains("exceeds the 64 training samples each of 8 ranks gets"), result.output)
        XCTAssertTrue(result.stdout.contains("FAILED"), result.output)

        let runs = try XCTUnwrap(try json(out + "/report.json")["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 2)
        XCTAssertEqual(runs[0]["status"] as? String, "ok")
        XCTAssertEqual(runs[1]["status"] as? String, "failed")
        // `lockstep train` exits 2 for this usage error (a clean exit is the train command's business).
        XCTAssertNotEqual(runs[1]["exit_code"] as? Int ?? 0, 0)
        XCTAssertTrue((runs[1]["failure"] as? String ?? "").contains("exceeds the 64 training samples"), "\(runs[1])")
        let tail = runs[1]["stderr_tail"] as? [String] ?? []
        XCTAssertTrue(tail.contains { $0.contains("exceeds") }, "stderr tail: \(tail)")
        XCTAssertFalse(tail.contains { $0.contains("\u{1B}") }, "terminal colour codes in the tail: \(tail)")
        let markdown = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        XCTAssertTrue(markdown.contains("## Missing runs") && markdown.contains("**World 8** failed"), markdown)
        for chart in linkedSVGs(markdown) { try assertValidSVG(out + "/" + chart) }
    }

    func testStrongScalingBatchesAndRefusals() throws {
        // Strong scaling: per-rank batch = global / world.
        let dry = Lockstep.run(["scale", "--config", tiny, "--ranks", "1,2,4", "--mode", "strong", "--dry-run", "--out", dir + "/s"])
        XCTAssertEqual(dry.status, 0, dry.output)
        let commands = dry.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(commands.count, 3, dry.output)
        for (world, batch) in [(1, 32), (2, 16), (4, 8)] {
            XCTAssertTrue(commands.contains { $0.contains("mpirun -np \(world) ") && $0.hasSuffix("--set train.batch=\(batch)") },
                          "world \(world) should train with batch \(batch)\n\(dry.output)")
        }
        // A global batch that does not divide is refused, naming the world.
        let bad = Lockstep.run(["scale", "--config", tiny, "--ranks", "1,3", "--mode", "strong", "--out", dir + "/s"])
        XCTAssertEqual(bad.status, 2, bad.output)
        XCTAssertTrue(bad.stderr.contains("the global batch 32 does not divide evenly over 3 ranks"), bad.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/s/report.json"), "nothing runs after a refusal")
        for (arguments, message) in [
            (["--mode", "sideways"], "--mode: expected weak or strong"),
            (["--ranks", "1,0"], "--ranks 1,0: expected positive whole numbers"),
            (["--launcher", "ssh"], "--launcher: expected mpirun or srun"),
            (["--network", "carrier-pigeon"], "--network carrier-pigeon: expected a preset"),
        ] {
            let r = Lockstep.run(["scale", "--config", tiny, "--out", dir + "/s"] + arguments)
            XCTAssertEqual(r.status, 2, "\(arguments)\n\(r.output)")
            XCTAssertTrue(r.stderr.contains(message), "\(arguments)\n\(r.output)")
        }
        let missing = Lockstep.run(["report", dir + "/nothing-here"])
        XCTAssertEqual(missing.status, 2, missing.output)
        XCTAssertTrue(missing.stderr.contains("report.json: no such file"), missing.output)
    }

    func testSrunLaunchInsideAnAllocation() throws {
        let env = ["SLURM_JOB_ID": "4242", "SLURM_CPUS_ON_NODE": "2", "SLURM_JOB_NUM_NODES": "1"]
        let dry = Lockstep.run(["scale", "--config", tiny, "--ranks", "2,4", "--launcher", "srun", "--dry-run", "--out", dir + "/s"],
                               environment: env)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/srun") {
            XCTAssertEqual(dry.status, 0, dry.output)
            let lines = dry.stdout.split(separator: "\n").map(String.init)
            XCTAssertTrue(lines.contains { $0.hasPrefix("srun -n 2 --mpi=pmix --cpu-bind=cores ") }, dry.output)
            XCTAssertTrue(lines.contains { $0.contains("srun -n 4 --mpi=pmix --overcommit ") }, dry.output)
        }
        // Outside an allocation (SLURM_JOB_ID empty) srun is refused with the way out.
        let refused = Lockstep.run(["scale", "--config", tiny, "--launcher", "srun", "--dry-run"], environment: ["SLURM_JOB_ID": ""])
        XCTAssertEqual(refused.status, 2, refused.output)
        XCTAssertTrue(refused.stderr.contains("SLURM_JOB_ID is not set"), refused.output)
    }

    // MARK: - Helpers

    private func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(path) is not a JSON object")
    }

    /// The .svg files report.md shows as images.
    private func linkedSVGs(_ markdown: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: #"!\[[^\]]*\]\(([^)]+\.svg)\)"#)
        let range = NSRange(markdown.startIndex..., in: markdown)
        return regex.matches(in: markdown, range: range).compactMap { Range($0.range(at: 1), in: markdown).map { String(markdown[$0]) } }
    }

    /// The file exists, parses as XML, and its root is an <svg> with a size.
    private func assertValidSVG(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let parser = XMLParser(data: data)
        let root = SVGRootRecorder()
        parser.delegate = root
        XCTAssertTrue(parser.parse(), "\(path) is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")", file: file, line: line)
        XCTAssertEqual(root.name, "svg", "\(path): root element", file: file, line: line)
        XCTAssertNotNil(root.attributes["viewBox"], "\(path): no viewBox", file: file, line: line)
        XCTAssertGreaterThan(root.elements, 20, "\(path): suspiciously few elements", file: file, line: line)
    }

    /// Every file of the report's folder (not its runs), by name.
    private func snapshot(_ folder: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".md") || name.hasSuffix(".svg") || name.hasSuffix(".json") {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
        }
        return files
    }
}

/// Records the root element of an XML document and counts the elements.
private final class SVGRootRecorder: NSObject, XMLParserDelegate {
    var name: String?
    var attributes: [String: String] = [:]
    var elements = 0

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if name == nil {
            name = elementName
            self.attributes = attributes
        }
        elements += 1
    }
}
