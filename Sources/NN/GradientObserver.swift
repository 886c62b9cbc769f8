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

/// The observer for a backward pass nobody waits on: one block per parameter, no reports.
public final class WholeGradients: GradientObserver {
    private let blocks: [[Range<Int>]]

    public init(_ store: ParameterStore) {
        blocks = store.slices.map { [0..<$0.rows] }
    }

    public func rowBlocks(ofParameter index: Int) -> [Range<Int>] { blocks[index] }
    public func gradientReady(parameter index: Int, rows: Range<Int>) {}
}
