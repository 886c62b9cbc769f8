/// The caller's buffers for a batch of up to `capacity` token windows of `context` + 1 tokens,
/// each laid out (B, T) row-major: row k of `inputs` receives window k's first T tokens and
/// row k of `targets` its last T, as Int32. Loading into it allocates nothing.
public struct TokenBatch {
    public let inputs: UnsafeMutableBufferPointer<Int32>
    public let targets: UnsafeMutableBufferPointer<Int32>
    /// T, the model's context length.
    public let context: Int

    /// - Precondition: `context` ≥ 1, and `inputs` and `targets` have one length, a multiple of it.
    public init(inputs: UnsafeMutableBufferPointer<Int32>, targets: UnsafeMutableBufferPointer<Int32>, context: Int) {
        precondition(context > 0 && inputs.count == targets.count && inputs.count % context == 0,
                     "TokenBatch: \(inputs.count) inputs and \(targets.count) targets for context \(context)")
        self.inputs = inputs
        self.targets = targets
        self.context = context
    }

    /// B, the windows the buffers hold.
    public var capacity: Int { inputs.count / context }
}
