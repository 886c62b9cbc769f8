/// A 2-D row-major window onto a tensor: `rows` × `cols` elements with a leading dimension
/// (row stride) `ld ≥ cols`. It is how layers hand the first `batch` rows of a preallocated
/// activation, or a block of rows of a weight, to GEMM without allocating.
public struct Matrix {
    public let tensor: Tensor
    /// Element offset of (0, 0) within `tensor`.
    public let start: Int
    public let rows: Int
    public let cols: Int
    public let ld: Int

    /// The first `rows` rows of `tensor`, read as a `rows` × `cols` matrix.
    public init(_ tensor: Tensor, rows: Int, cols: Int) {
        self.init(tensor, start: 0, rows: rows, cols: cols, ld: cols)
    }

    /// A window at `start` with row stride `ld`.
    public init(_ tensor: Tensor, start: Int, rows: Int, cols: Int, ld: Int) {
        precondition(rows >= 0 && cols >= 0 && ld >= max(cols, 1) && start >= 0,
                     "Matrix: bad window rows \(rows) cols \(cols) ld \(ld) start \(start)")
        precondition(rows == 0 || start + (rows - 1) * ld + cols <= tensor.count,
                     "Matrix \(rows)x\(cols) (ld \(ld)) at \(start) overflows a tensor of \(tensor.count) elements")
        self.tensor = tensor
        self.start = start
        self.rows = rows
        self.cols = cols
        self.ld = ld
    }

    /// Rows `range` of this matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "Matrix rows \(range) outside 0..<\(rows)")
        return Matrix(tensor, start: start + range.lowerBound * ld, rows: range.count, cols: cols, ld: ld)
    }

    /// Columns `range` of this matrix (a strided window).
    public func columns(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= cols, "Matrix columns \(range) outside 0..<\(cols)")
        return Matrix(tensor, start: start + range.lowerBound, rows: rows, cols: range.count, ld: ld)
    }

    var pointer: UnsafeMutablePointer<Float> { tensor.pointer + start }
}
