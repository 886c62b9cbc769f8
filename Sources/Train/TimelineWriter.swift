import Comm
import Trace
import Foundation

/// Gathers every rank's timeline on rank 0 and writes it as Chrome trace JSON: one complete
/// ("X") event per phase with pid = rank and tid 0 for the step's own phases, tid 1 for the
/// communication thread's all-reduces. Timestamps are µs since rank 0's first event.
public enum TimelineWriter {
    public static func write(_ timeline: Timeline, comm: Communicator, to path: String) throws {
        let mine = timeline.recorded
        // Gather counts, then the events (padded to the largest count).
        var count = [Double(mine.count)]
        try count.withUnsafeMutableBufferPointer { (b) throws(CommError) in try comm.allReduce(b, .max) }
        let slots = Int(count[0])
        var padded = mine + [Timeline.Event](repeating: Timeline.Event(phase: -1, step: 0, start: 0, end: 0),
                                              count: slots - mine.count)
        var all = [Timeline.Event](repeating: Timeline.Event(phase: -1, step: 0, start: 0, end: 0), count: slots * comm.size)
        try padded.withUnsafeBytes { mineBytes in
            try all.withUnsafeMutableBytes { allBytes in try comm.allGather(mineBytes, into: allBytes) }
        }
        padded.removeAll()
        guard comm.rank == 0 else { return }
        let origin = all.filter { $0.phase >= 0 }.map(\.start).min() ?? 0
        var lines: [String] = []
        for rank in 0..<comm.size {
            lines.append(#"{"name":"process_name","ph":"M","pid":\#(rank),"tid":0,"args":{"name":"rank \#(rank)"}}"#)
            lines.append(#"{"name":"thread_name","ph":"M","pid":\#(rank),"tid":0,"args":{"name":"step"}}"#)
            lines.append(#"{"name":"thread_name","ph":"M","pid":\#(rank),"tid":1,"args":{"name":"communication"}}"#)
            for e in all[(rank * slots)..<((rank + 1) * slots)] where e.phase >= 0 {
                guard let phase = Timeline.Phase(code: e.phase) else { continue }
                let tid = if case .allReduce = phase { 1 } else { 0 }
                let ts = Double(e.start &- origin) / 1000, dur = Double(e.end &- e.start) / 1000
                lines.append(#"{"name":"\#(phase.name)","cat":"\#(tid == 1 ? "comm" : "compute")","ph":"X","pid":\#(rank),"tid":\#(tid),"ts":\#(String(format: "%.3f", ts)),"dur":\#(String(format: "%.3f", dur)),"args":{"step":\#(e.step)}}"#)
            }
        }
        let json = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" + lines.joined(separator: ",\n") + "\n]}\n"
        do {
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw TrainingError("\(path): cannot write the timeline: \((error as NSError).localizedDescription)")
        }
    }
}
