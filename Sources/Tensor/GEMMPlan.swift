import Foundation

/// The libraries `gemm` can run a call on.
public enum GEMMProvider: String, Sendable, Codable, CaseIterable {
    /// OpenBLAS's `cblas_sgemm`.
    case openblas
    /// oneDNN's f32 matmul (`OneDNNMatmul`).
    case onednn

    /// As the run header names it: "OpenBLAS", "oneDNN".
    public var displayName: String { self == .openblas ? "OpenBLAS" : "oneDNN" }
}

/// What the plan keys a GEMM call by: `op(a)` M × K, `op(b)` K × N, the transposes, and
/// whether it accumulates into c (beta ≠ 0). Leading dimensions and alpha are left out: the
/// layers call each shape with one layout.
public struct GEMMShape: Hashable, Sendable, Codable, CustomStringConvertible {
    public let m, n, k: Int
    public let transA, transB: Bool
    public let accumulates: Bool

    public init(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, accumulates: Bool) {
        (self.m, self.n, self.k, self.transA, self.transB, self.accumulates) = (m, n, k, transA, transB, accumulates)
    }

    /// e.g. "128×1024×784 NT", with " +=" when it accumulates.
    public var description: String {
        "\(m)×\(n)×\(k) \(transA ? "T" : "N")\(transB ? "T" : "N")" + (accumulates ? " +=" : "")
    }

    /// The shape `description` names, or nil for any other text.
    public init?(_ text: String) {
        let words = text.split(separator: " ")
        let sizes = words.first?.split(separator: "×").compactMap { Int($0) } ?? []
        guard words.count == 2 || (words.count == 3 && words[2] == "+="), sizes.count == 3, sizes.allSatisfy({ $0 > 0 }),
              let ops = words.count > 1 ? Array(words[1]) : nil, ops.count == 2, ops.allSatisfy({ $0 == "N" || $0 == "T" })
        else { return nil }
        self.init(m: sizes[0], n: sizes[1], k: sizes[2], transA: ops[0] == "T", transB: ops[1] == "T", accumulates: words.count == 3)
    }

    /// Encoded as its `description`.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let shape = GEMMShape(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a GEMM shape: \(text)")
        }
        self = shape
    }
}

/// Which provider runs each GEMM shape: a table installed once before training (the
/// planner's choice), or one provider for every shape. A shape the table does not hold (an
/// evaluation batch, a rank's share of a balanced batch) takes the provider of the nearest
/// shape it holds with the same transposes and accumulation, within a factor of 2 in each
/// size; every other shape, and every shape before anything is installed, runs on OpenBLAS. A provider that cannot take a
/// call (oneDNN without a primitive for it) hands it to OpenBLAS.
///
/// The plan is process state that `gemm` reads on every call without a lock: install it
/// before the threads that compute start, and not while they run.
public enum GEMMPlan {
    struct State {
        var table: [GEMMShape: GEMMProvider] = [:]
        var forced: GEMMProvider?
        /// Whether any shape leaves OpenBLAS, so that the default costs `gemm` one load.
        var usesOneDNN = false
    }

    nonisolated(unsafe) static var state = State()

    /// Runs the shapes of `table` on their providers, every other shape on OpenBLAS.
    public static func install(_ table: [GEMMShape: GEMMProvider]) {
        state = State(table: table, forced: nil, usesOneDNN: table.values.contains(.onednn))
    }

    /// Runs every shape on `provider`.
    public static func force(_ provider: GEMMProvider) {
        state = State(table: [:], forced: provider, usesOneDNN: provider == .onednn)
    }

    /// Back to OpenBLAS for every shape.
    public static func reset() { state = State() }

    /// Runs `body` with every shape on `provider`, then restores the plan before it.
    public static func withProvider<R>(_ provider: GEMMProvider, _ body: () throws -> R) rethrows -> R {
        let saved = state
        force(provider)
        defer { state = saved }
        return try body()
    }

    /// The provider that runs `shape` now.
    public static func provider(for shape: GEMMShape) -> GEMMProvider {
        guard state.usesOneDNN else { return .openblas }
        return state.forced ?? state.table[shape] ?? nearest(shape, in: state.table)
    }

    /// The provider of the planned shape closest to `shape` (the sum of the sizes' log ratios)
    /// among those with its transposes and accumulation and within a factor of 2 in each size;
    /// OpenBLAS when there is none.
    static func nearest(_ shape: GEMMShape, in table: [GEMMShape: GEMMProvider]) -> GEMMProvider {
        // Called for every unplanned GEMM in a step: no allocation.
        func ratio(_ a: Int, _ b: Int) -> Double { abs(log2(Double(a) / Double(b))) }
        var best: (distance: Double, sizes: (Int, Int, Int), provider: GEMMProvider) = (.infinity, (.max, .max, .max), .openblas)
        for (planned, provider) in table
        where planned.transA == shape.transA && planned.transB == shape.transB && planned.accumulates == shape.accumulates {
            let dm = ratio(planned.m, shape.m), dn = ratio(planned.n, shape.n), dk = ratio(planned.k, shape.k)
            guard max(dm, dn, dk) <= 1 else { continue }
            let distance = dm + dn + dk, sizes = (planned.m, planned.n, planned.k)
            // A tie goes to the smaller sizes, whatever order the table is read in, so that
            // every rank picks the same.
            if distance < best.distance || (distance == best.distance && sizes < best.sizes) {
                best = (distance, sizes, provider)
            }
        }
        return best.provider
    }
}
