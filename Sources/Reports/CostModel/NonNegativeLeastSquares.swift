import Host

/// Weighted least squares with non-negative unknowns, for the few parameters of a cost model:
/// minimises Σ (wᵢ (Aᵢ·x − bᵢ))² over x ≥ 0 (except the `free` columns, which may take any
/// sign) by solving the unconstrained problem on every subset of the constrained columns, with
/// the free ones always in, and keeping the best feasible solution. Columns are scaled to unit
/// norm first, so latencies (µs) and per-byte times (ns) are solved on equal terms.
enum NonNegativeLeastSquares {
    struct Solution {
        var x: [Double]
        /// Σ (wᵢ rᵢ)².
        var weightedSSE: Double
    }

    static func solve(rows: [[Double]], targets: [Double], weights: [Double], free: Set<Int> = []) -> Solution {
        let k = rows.first?.count ?? 0
        let a = zip(rows, weights).map { row, w in row.map { $0 * w } }
        let b = zip(targets, weights).map { $0 * $1 }
        var norms = [Double](repeating: 0, count: k)
        for row in a { for j in 0..<k { norms[j] += row[j] * row[j] } }
        norms = norms.map { $0.squareRoot() }
        let usable = (0..<k).filter { norms[$0] > 0 && !free.contains($0) }
        let always = (0..<k).filter { norms[$0] > 0 && free.contains($0) }
        var best = Solution(x: [Double](repeating: 0, count: k), weightedSSE: b.reduce(0) { $0 + $1 * $1 })
        guard !usable.isEmpty || !always.isEmpty, usable.count <= 16 else { return best }
        for mask in 0..<(1 << usable.count) {
            let columns = always + usable.indices.filter { mask & (1 << $0) != 0 }.map { usable[$0] }
            guard !columns.isEmpty, let z = solveNormal(a: a, b: b, columns: columns, norms: norms),
                  zip(columns, z).allSatisfy({ free.contains($0) || $1 >= 0 }) else { continue }
            var x = [Double](repeating: 0, count: k)
            for (i, j) in columns.enumerated() { x[j] = z[i] / norms[j] }
            var sse = 0.0
            for (row, target) in zip(a, b) {
                var r = -target
                for j in 0..<k { r += row[j] * x[j] }
                sse += r * r
            }
            if sse < best.weightedSSE { best = Solution(x: x, weightedSSE: sse) }
        }
        return best
    }

    /// Solves (AᵀA) z = Aᵀb on `columns` of A scaled by `norms`; nil if singular.
    private static func solveNormal(a: [[Double]], b: [Double], columns: [Int], norms: [Double]) -> [Double]? {
        let m = columns.count
        var ata = [[Double]](repeating: [Double](repeating: 0, count: m + 1), count: m)
        for (row, target) in zip(a, b) {
            for (i, ci) in columns.enumerated() {
                let ai = row[ci] / norms[ci]
                for (j, cj) in columns.enumerated() { ata[i][j] += ai * row[cj] / norms[cj] }
                ata[i][m] += ai * target
            }
        }
        // Gaussian elimination with partial pivoting on the augmented matrix.
        for col in 0..<m {
            guard let pivot = (col..<m).max(by: { abs(ata[$0][col]) < abs(ata[$1][col]) }), abs(ata[pivot][col]) > 1e-12 else {
                return nil
            }
            ata.swapAt(col, pivot)
            for r in 0..<m where r != col {
                let f = ata[r][col] / ata[col][col]
                if f != 0 { for c in col...m { ata[r][c] -= f * ata[col][c] } }
            }
        }
        return (0..<m).map { ata[$0][m] / ata[$0][$0] }
    }
}
