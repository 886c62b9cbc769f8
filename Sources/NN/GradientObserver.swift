/// Told by backward when parts of the flat gradient buffer are final.
///
/// The gradient reducer implements this to start a bucket's all-reduce as soon as every
/// gradient in it is complete, while backward goes on with earlier layers. A large weight's
/// gradient is computed in blocks of rows, so that a bucket boundary inside it does not wait
/// for the whole matrix.
public protocol GradientObserver: AnyObject {
    /// The row blocks, in order, in which backward computes parameter `index`'s gradient.
    /// They cover `0..<slice.rows` exactly.
    func rowBlocks(ofParameter index: Int) -> [Range<Int>]
    /// Rows `rows` of parameter `index`'s gradient are final for this step.
    func gradientReady(parameter index: Int, rows: Range<Int>)
}

/// The observer for a backward pass nobody waits on: no reports, and by default one block per
/// parameter.
public final class WholeGradients: GradientObserver {
    private let blocks: [[Range<Int>]]

    public init(_ store: ParameterStore) {
        blocks = store.slices.map { [0..<$0.rows] }
    }

    /// Computes each parameter's gradient in the given row blocks, as an observer that reports
    /// them would: a GEMM's bits can depend on its number of rows (OpenBLAS's Haswell kernels
    /// round the rows past their last full panel differently), so deterministic mode computes
    /// every chunk in the same blocks, whether or not its buckets are summed as they finish.
    public init(rowBlocks: [[Range<Int>]]) {
        blocks = rowBlocks
    }

    public func rowBlocks(ofParameter index: Int) -> [Range<Int>] { blocks[index] }
    public func gradientReady(parameter index: Int, rows: Range<Int>) {}
}
