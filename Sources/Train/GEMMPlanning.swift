import Comm
import Foundation
import GradSync
import Host
import NN
import RunConfig
import Tensor

/// One GEMM shape of the plan: the provider it runs on, and the times per call (µs, the mean
/// over the ranks) the choice was made from.
public struct GEMMPlanEntry: Codable, Equatable, Sendable {
    public var shape: GEMMShape
    public var provider: GEMMProvider
    public var openblasUs: Double
    /// nil: oneDNN cannot run the shape.
    public var onednnUs: Double?

    enum CodingKeys: String, CodingKey {
        case shape, provider, openblasUs = "openblas_us", onednnUs = "onednn_us"
    }
}

/// How the run's GEMM plan came to be, for the run header and the summary.
public struct GEMMPlanReport: Equatable, Sendable {
    /// "measured" (timed at start-up), "cached" (read from this machine's cache) or "pinned"
    /// (one provider for every shape).
    public var source: String
    /// Per shape; empty when pinned.
    public var entries: [GEMMPlanEntry]
    /// The planner's start-up time.
    public var seconds: Double
    /// The run header's line, e.g. "GEMM plan: 6 shapes, 4 oneDNN, 2 OpenBLAS (cached, 3 ms)".
    public var line: String

    static let unplanned = GEMMPlanReport(source: "pinned", entries: [], seconds: 0, line: "GEMM plan: every shape on OpenBLAS")
}

extension Trainer {
    /// Installs the GEMM plan tensor.gemm asks for. "auto" (outside deterministic mode): rank 0
    /// collects the shapes of one forward and backward (`shapes`), and either reads the plan
    /// from this machine's cache or every rank times both providers on those shapes; the
    /// choice comes from the times summed over the ranks, so that every rank runs each shape
    /// on the same provider. Deterministic mode pins OpenBLAS, whose bits for a shape it
    /// knows, unless tensor.gemm names a provider.
    static func planGEMMs(_ settings: TrainingConfig, comm: Communicator, shapes: () -> [GEMMShape]) throws -> GEMMPlanReport {
        let start = MonotonicClock.nanoseconds()
        if let provider = settings.tensor.gemm.provider {
            GEMMPlan.force(provider)
            return GEMMPlanReport(source: "pinned", entries: [], seconds: 0,
                                  line: "GEMM plan: every shape on \(provider.displayName) (tensor.gemm = \"\(provider.rawValue)\")")
        }
        if settings.train.deterministic {
            GEMMPlan.force(.openblas)
            return GEMMPlanReport(source: "pinned", entries: [], seconds: 0,
                                  line: "GEMM plan: every shape on OpenBLAS (train.deterministic pins it; tensor.gemm = \"onednn\" chooses oneDNN)")
        }
        // Rank 0's shapes and, when its cache holds them, its plan.
        let mine = comm.rank == 0 ? shapes() : []
        let cache = comm.rank == 0 ? GEMMPlanCache(shapes: mine) : nil
        let cached = cache?.read(shapes: mine)
        var header = [Double(mine.count), cached == nil ? 0 : 1]
        try broadcast(&header, comm)
        var body = [Double](repeating: 0, count: Int(header[0]) * 7)
        for (i, shape) in mine.enumerated() {
            let flags = [shape.transA, shape.transB, shape.accumulates, cached?[i].provider == .onednn].map { $0 ? 1.0 : 0 }
            body.replaceSubrange(i * 7 ..< i * 7 + 7, with: [Double(shape.m), Double(shape.n), Double(shape.k)] + flags)
        }
        try broadcast(&body, comm)
        let planShapes = (0..<Int(header[0])).map { i in
            GEMMShape(m: Int(body[i * 7]), n: Int(body[i * 7 + 1]), k: Int(body[i * 7 + 2]), transA: body[i * 7 + 3] == 1,
                      transB: body[i * 7 + 4] == 1, accumulates: body[i * 7 + 5] == 1)
        }
        let entries: [GEMMPlanEntry]
        if let cached {
            entries = cached
        } else if header[1] == 1 {
            entries = planShapes.indices.map { i in
                GEMMPlanEntry(shape: planShapes[i], provider: body[i * 7 + 6] == 1 ? .onednn : .openblas, openblasUs: 0, onednnUs: nil)
            }
        } else {
            entries = try measure(planShapes, comm: comm)
            cache?.write(entries)
        }
        GEMMPlan.install(Dictionary(entries.map { ($0.shape, $0.provider) }, uniquingKeysWith: { first, _ in first }))
        let seconds = MonotonicClock.seconds(since: start)
        let source = header[1] == 1 ? "cached" : "measured"
        let onednn = entries.filter { $0.provider == .onednn }.count
        return GEMMPlanReport(source: source, entries: entries, seconds: seconds,
                              line: "GEMM plan: \(entries.count) shapes, \(onednn) oneDNN, \(entries.count - onednn) OpenBLAS (\(source), \(Int((seconds * 1000).rounded())) ms)")
    }

    /// Times both providers on every rank and chooses from the sums.
    private static func measure(_ shapes: [GEMMShape], comm: Communicator) throws -> [GEMMPlanEntry] {
        let timings = GEMMPlanner.time(shapes)
        var sums = timings.map(\.openblas) + timings.map(\.onednn)
        try sums.withUnsafeMutableBufferPointer { (b) throws(CommError) in try comm.allReduce(b, .sum) }
        let ranks = Double(comm.size)
        return shapes.indices.map { i in
            let timing = GEMMTiming(shape: shapes[i], openblas: sums[i], onednn: sums[shapes.count + i])
            return GEMMPlanEntry(shape: shapes[i], provider: timing.faster, openblasUs: timing.openblas / ranks * 1e6,
                                 onednnUs: timing.onednn.isFinite ? timing.onednn / ranks * 1e6 : nil)
        }
    }

    private static func broadcast(_ values: inout [Double], _ comm: Communicator) throws(CommError) {
        try values.withUnsafeMutableBufferPointer { (b) throws(CommError) in
            try comm.broadcast(UnsafeMutableRawBufferPointer(b), root: 0)
        }
    }

    /// The distinct GEMM shapes of one forward and backward of the first micro-batch and, with
    /// accumulation, of the last (whose weight gradients come in the strategy's row blocks),
    /// in the order the step first calls them; one-row calls (sgemv) are left out. The GEMMs
    /// are recorded, not computed (their outputs keep what they held, zeros before the first
    /// step, so everything stays finite), and nothing of the run changes: the gradients are
    /// zeroed after, and no observer reports a block.
    static func traceGEMMShapes(model: TrainableModel, source: ExampleSource, plan: StepPlan, sync: GradientSync) -> [GEMMShape] {
        let trace = GEMMTrace(recordsOnly: true)
        GEMMTrace.active = trace
        let micros = plan.microBatches
        for micro in Set([0, micros - 1]).sorted() {
            let positions = plan.positions(micro: micro)
            source.loadTraining(TrainingState(), positions: positions)
            _ = model.forward(batch: positions.count, gradientScale: plan.lossScale)
            let observer = sync.observer(forMicroBatch: micro, of: micros, loss: 0)
            let silent = WholeGradients(rowBlocks: model.parameters.slices.indices.map { observer.rowBlocks(ofParameter: $0) })
            model.backward(batch: positions.count, observer: silent)
        }
        GEMMTrace.active = nil
        model.parameters.zeroGradients()
        var seen = Set<GEMMShape>(), shapes: [GEMMShape] = []
        for call in trace.calls where !(call.c.rows == 1 && call.transA == .none) && seen.insert(call.planShape).inserted {
            shapes.append(call.planShape)
        }
        return shapes
    }
}
