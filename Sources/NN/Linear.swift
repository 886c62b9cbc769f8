import Tensor

/// A fully connected layer, `y = x·Wᵀ + b`, optionally followed by a fused ReLU.
///
/// - `weight`: [out, in], kaiming-uniform with a = √5, that is U(-1/√in, 1/√in), as PyTorch.
/// - `bias`: [out], U(-1/√in, 1/√in).
/// - x: (B, in) → y: (B, out).
public final class Linear: Layer {
    public let name: String
    public let inFeatures: Int
    public let outFeatures: Int
    /// Whether a ReLU is applied to the output in the same pass.
    public let relu: Bool

    private var weight: LinearWeight!, bias: Tensor!, biasGrad: Tensor!

    public init(name: String, inFeatures: Int, outFeatures: Int, relu: Bool) {
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.relu = relu
    }

    public var parameterRequests: [ParameterRequest] {
        [ParameterRequest(suffix: "weight", shape: [outFeatures, inFeatures], fanIn: inFeatures),
         ParameterRequest(suffix: "bias", shape: [outFeatures], fanIn: inFeatures)]
    }

    public func bind(_ store: ParameterStore, first: Int) {
        weight = LinearWeight(store, index: first)
        bias = store.value(first + 1)
        biasGrad = store.gradient(first + 1)
    }

    public func forward(_ x: Tensor, into y: Tensor, batch: Int) {
        // x: (B, in), W: (out, in) -> y: (B, out)
        let out = Matrix(y, rows: batch, cols: outFeatures)
        weight.forward(Matrix(x, rows: batch, cols: inFeatures), into: out)
        addBiasRows(out, bias: bias, relu: relu)
    }

    public func backward(input x: Tensor, output y: Tensor, outputGradient dy: Tensor, inputGradient dx: Tensor?, batch: Int,
                         observer: GradientObserver) {
        if relu { reluBackward(dy, output: y, into: dy, count: batch * outFeatures) }
        let g = Matrix(dy, rows: batch, cols: outFeatures)          // dy: (B, out)
        let input = Matrix(x, rows: batch, cols: inFeatures)         // x: (B, in)
        // The bias gradient first: it shares a bucket with the weight's last rows, which would
        // otherwise wait for the whole weight gradient before that bucket could be summed.
        accumulateColumnSums(g, into: Matrix(biasGrad, rows: 1, cols: outFeatures))
        observer.reportWhole(parameter: weight.index + 1)
        // Then the weight gradient, block by block, so that each block's sum overlaps the next
        // block and dx below.
        weight.accumulateGradient(outputGradient: g, input: input, observer: observer)
        if let dx {
            // dx = dy · W: (B, out)·(out, in)
            weight.inputGradient(g, into: Matrix(dx, rows: batch, cols: inFeatures))
        }
    }
}
