import Foundation
import TestSupport
import XCTest

/// `lockstep train --timeline FILE` under mpirun writes Chrome trace JSON that Perfetto and
/// chrome://tracing open: it parses; every event is well formed; every rank is a pid; and a
/// step's phases nest: data, forward, backward, wait and optimizer lie inside their step's
/// interval on the same rank without overlapping each other, and every all-reduce of step s
/// lies inside step s's interval.
final class TimelineTraceTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("timeline")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testTimelineAtWorld2() throws {
        try checkTimeline(world: 2)
    }

    func testTimelineAtWorld3() throws {
        try checkTimeline(world: 3)
    }

    /// A complete ("X") event.
    private struct Span {
        var name: String
        var pid: Int
        var tid: Int
        var ts: Double
        var dur: Double
        var step: Int
        var end: Double { ts + dur }
    }

    /// Timestamps are printed in µs with 3 decimals: allow their rounding.
    private let slack = 0.002

    private func checkTimeline(world: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let trace = dir + "/trace-\(world).json", summary = dir + "/summary-\(world).json"
        let steps = 12
        let result = Lockstep.mpirun(world, ["train", "--config", Lockstep.path("Configs/tiny.toml"), "--quiet",
                                             "--set", "train.steps=\(steps)", "--set", "train.eval_every=0",
                                             "--timeline", trace, "--summary", summary], timeout: 120)
        XCTAssertEqual(result.status, 0, result.output, file: file, line: line)
        guard result.status == 0 else { return }
        let buckets = try XCTUnwrap((try Lockstep.summary(at: summary))["buckets"] as? Int, "summary lacks buckets")

        // It parses, as an object with a traceEvents array.
        let data = try Data(contentsOf: URL(fileURLWithPath: trace))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], "the trace is not a JSON object")
        let events = try XCTUnwrap(root["traceEvents"] as? [[String: Any]], "no traceEvents array")
        XCTAssertFalse(events.isEmpty, "no events", file: file, line: line)

        // Every event is well formed.
        var spans: [Span] = []
        var processNames = Set<Int>()
        for (i, e) in events.enumerated() {
            guard let ph = e["ph"] as? String, let name = e["name"] as? String, !name.isEmpty,
                  let pid = (e["pid"] as? NSNumber)?.intValue, let tid = (e["tid"] as? NSNumber)?.intValue else {
                XCTFail("event \(i) lacks ph, name, pid or tid: \(e)", file: file, line: line)
                continue
            }
            switch ph {
            case "M":
                if name == "process_name" { processNames.insert(pid) }
            case "X":
                guard let ts = (e["ts"] as? NSNumber)?.doubleValue, let dur = (e["dur"] as? NSNumber)?.doubleValue,
                      ts.isFinite, dur.isFinite, ts >= 0, dur >= 0 else {
                    XCTFail("complete event \(i) (\(name)) lacks a finite ts ≥ 0 and dur ≥ 0: \(e)", file: file, line: line)
                    continue
                }
                guard let args = e["args"] as? [String: Any], let step = (args["step"] as? NSNumber)?.intValue else {
                    XCTFail("complete event \(i) (\(name)) lacks args.step: \(e)", file: file, line: line)
                    continue
                }
                spans.append(Span(name: name, pid: pid, tid: tid, ts: ts, dur: dur, step: step))
            default:
                XCTFail("event \(i) has phase type \(ph); the writer emits only X and M: \(e)", file: file, line: line)
            }
        }

        // Every rank is present, as a pid with complete events and a process name.
        XCTAssertEqual(Set(spans.map(\.pid)), Set(0..<world), "pids of the complete events", file: file, line: line)
        XCTAssertEqual(processNames, Set(0..<world), "process_name metadata per rank", file: file, line: line)

        let phases = ["data", "forward", "backward", "wait", "optimizer"]
        for rank in 0..<world {
            let mine = spans.filter { $0.pid == rank }
            let stepSpans = mine.filter { $0.name == "step" }
            XCTAssertEqual(stepSpans.map(\.step).sorted(), Array(0..<steps), "rank \(rank): one step event per step",
                           file: file, line: line)
            let stepOf = Dictionary(stepSpans.map { ($0.step, $0) }, uniquingKeysWith: { a, _ in a })
            for s in 0..<steps {
                guard let step = stepOf[s] else { continue }
                func inside(_ e: Span) -> Bool { e.ts >= step.ts - slack && e.end <= step.end + slack }
                // The step's own phases: each present, inside the step, one after another.
                let children = mine.filter { $0.step == s && phases.contains($0.name) }.sorted { $0.ts < $1.ts }
                for phase in phases where !children.contains(where: { $0.name == phase }) {
                    XCTFail("rank \(rank) step \(s): no \(phase) event", file: file, line: line)
                }
                for c in children where !inside(c) {
                    XCTFail("rank \(rank) step \(s): \(c.name) [\(c.ts), \(c.end)] is outside its step [\(step.ts), \(step.end)]",
                            file: file, line: line)
                }
                for (a, b) in zip(children, children.dropFirst()) where a.end > b.ts + slack {
                    XCTFail("rank \(rank) step \(s): \(a.name) ends at \(a.end), after \(b.name) starts at \(b.ts)", file: file, line: line)
                }
                XCTAssertTrue(children.allSatisfy { $0.tid == step.tid }, "rank \(rank) step \(s): phases on the step's thread",
                              file: file, line: line)
                // Its all-reduces: one per bucket, each inside the step.
                let reduces = mine.filter { $0.step == s && $0.name.hasPrefix("allreduce") }
                XCTAssertEqual(reduces.count, buckets, "rank \(rank) step \(s): all-reduce events", file: file, line: line)
                for r in reduces where !inside(r) {
                    XCTFail("rank \(rank) step \(s): \(r.name) [\(r.ts), \(r.end)] is outside its step [\(step.ts), \(step.end)]",
                            file: file, line: line)
                }
            }
            // Steps follow one another.
            let ordered = stepSpans.sorted { $0.step < $1.step }
            for (a, b) in zip(ordered, ordered.dropFirst()) where a.end > b.ts + slack {
                XCTFail("rank \(rank): step \(a.step) ends at \(a.end), after step \(b.step) starts at \(b.ts)", file: file, line: line)
            }
        }
    }
}
