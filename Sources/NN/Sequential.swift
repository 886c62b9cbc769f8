import Tensor

/// A chain of layers with its parameters in one flat buffer, its gradients in another of the
/// same layout, and every activation preallocated for batches of up to `maxBatch` samples.
/// Activations with a (C, H, W) sample shape are stored channel-major, (C, B, H, W) for the
/// live batch B; flat ones are (B, features).
///
/// A Linear or Conv2d directly followed by a ReLU runs as one layer with the ReLU fused into
/// its epilogue, and a Conv2d (and its ReLU) followed by a max pooling runs the pooling too;
/// parameter names are unaffected. A step is
/// `input, labels ← batch; forward; loss fills logitsGradient; backward`, with no allocation.
public final class Sequential {
    public let spec: ModelSpec
    /// The layers as the spec names them, with their per-sample shapes.
    public let described: [ResolvedLayer]
    /// The layers that run, after fusion.
    public let layers: [Layer]
    public let parameters: ParameterStore
    public let maxBatch: Int
    /// Fan-in of each parameter slice, for initialisation.
    private let fanIns: [Int]
    /// `activations[i]` is the input of `layers[i]`; the last is the logits. (maxBatch, shape…)
    private let activations: [Tensor]
    /// `gradients[i]` is the loss gradient with respect to `activations[i]`, or nil where no
    /// earlier layer has parameters and so nobody needs it.
    private let activationGradients: [Tensor?]
    /// The class labels of the batch in `input`: (maxBatch). The data pipeline writes them.
    public let labels: UnsafeMutableBufferPointer<Int32>

    /// Builds the model, its flat buffers from `memory`, its convolutions by `conv`.
    /// - Throws: `ModelSpecError` when the layer shapes do not chain; what `memory` throws.
    public init(spec: ModelSpec, maxBatch: Int, memory: ParameterMemory = ParameterStore.privateMemory,
                conv: ConvAlgorithm = .im2col) throws {
        precondition(maxBatch > 0, "Sequential: maxBatch must be positive, got \(maxBatch)")
        self.spec = spec
        self.maxBatch = maxBatch
        let described = try spec.resolve()
        self.described = described

        var layers: [Layer] = []
        var shapes: [[Int]] = [spec.inputShape]
        var i = 0
        while i < described.count {
            let d = described[i]
            // The described layers after this one that it runs itself (a ReLU, a pooling).
            var absorbed = 0
            func following() -> LayerSpec? { i + absorbed + 1 < described.count ? described[i + absorbed + 1].spec : nil }
            let layer: Layer
            switch d.spec {
            case let .linear(inFeatures, outFeatures):
                let relu = following() == .relu
                if relu { absorbed += 1 }
                layer = Linear(name: d.name, inFeatures: inFeatures, outFeatures: outFeatures, relu: relu)
            case let .conv2d(_, outChannels, kernel, stride, padding):
                let g = ConvGeometry(channels: d.inputShape[0], height: d.inputShape[1], width: d.inputShape[2],
                                     kernel: kernel, stride: stride, padding: padding)
                let relu = following() == .relu
                if relu { absorbed += 1 }
                var pool: ConvGeometry?
                if case let .maxPool2d(poolKernel, poolStride, poolPadding) = following() {
                    absorbed += 1
                    pool = ConvGeometry(channels: outChannels, height: g.outHeight, width: g.outWidth,
                                        kernel: poolKernel, stride: poolStride, padding: poolPadding)
                }
                layer = Conv2d(name: d.name, geometry: g, outChannels: outChannels, relu: relu, pool: pool, algorithm: conv)
            case let .maxPool2d(kernel, stride, padding):
                let g = ConvGeometry(channels: d.inputShape[0], height: d.inputShape[1], width: d.inputShape[2],
                                     kernel: kernel, stride: stride, padding: padding)
                layer = MaxPool2d(name: d.name, geometry: g)
            case .relu:
                layer = ReLU(name: d.name, features: d.inputShape.reduce(1, *))
            case .flatten:
                layer = Flatten(name: d.name, inputShape: d.inputShape)
            }
            i += absorbed + 1
            layers.append(layer)
            shapes.append(described[i - 1].outputShape)
        }
        self.layers = layers

        var named: [(name: String, shape: [Int])] = []
        var fanIns: [Int] = []
        for layer in layers {
            for request in layer.parameterRequests {
                named.append((name: "\(layer.name).\(request.suffix)", shape: request.shape))
                fanIns.append(request.fanIn)
            }
        }
        parameters = try ParameterStore(named: named, allocate: memory)
        self.fanIns = fanIns
        var first = 0
        for layer in layers {
            layer.bind(parameters, first: first)
            layer.allocate(maxBatch: maxBatch)
            first += layer.parameterRequests.count
        }

        var activations: [Tensor] = [Tensor(zeros: [maxBatch] + shapes[0])]
        var activationGradients: [Tensor?] = [nil]
        var parametersBefore = false
        for (k, layer) in layers.enumerated() {
            parametersBefore = parametersBefore || !layer.parameterRequests.isEmpty
            let shape = [maxBatch] + shapes[k + 1]
            if layer.isReshape {
                activations.append(activations[k].reshaped(shape))
                activationGradients.append(activationGradients[k]?.reshaped(shape) ?? (parametersBefore ? Tensor(zeros: shape) : nil))
            } else {
                activations.append(Tensor(zeros: shape))
                activationGradients.append(parametersBefore || k == layers.count - 1 ? Tensor(zeros: shape) : nil)
            }
        }
        self.activations = activations
        self.activationGradients = activationGradients
        labels = .allocate(capacity: maxBatch)
        labels.initialize(repeating: 0)
    }

    deinit { labels.deallocate() }

    /// How each convolution runs at the largest batch, e.g. "conv1 onednn (jit:avx512_core),
    /// conv2 im2col"; nil for a model without convolutions.
    public var convolutionPaths: String? {
        let convs = layers.compactMap { $0 as? Conv2d }
        guard !convs.isEmpty else { return nil }
        return convs.map { conv in
            conv.oneDNNImplementation.map { "\(conv.name) onednn (\($0))" } ?? "\(conv.name) im2col"
        }.joined(separator: ", ")
    }

    /// Per-sample input shape, e.g. [1, 28, 28].
    public var inputShape: [Int] { spec.inputShape }
    /// The number of class scores the model produces.
    public var classes: Int { described.last!.outputShape[0] }
    /// The input batch, (C, B, H, W) for image inputs (channel-major, as every (C, H, W)
    /// activation), (B, features) otherwise. The data pipeline writes into it.
    public var input: Tensor { activations[0] }
    /// The class scores: (maxBatch, classes).
    public var logits: Tensor { activations[activations.count - 1] }
    /// The loss gradient with respect to the logits: (maxBatch, classes). The loss writes it.
    public var logitsGradient: Tensor { activationGradients[activationGradients.count - 1]! }

    /// Fills every parameter as PyTorch initialises Linear and Conv2d by default: weights
    /// kaiming-uniform with a = √5 and biases uniform, both U(-1/√fan_in, 1/√fan_in), drawn
    /// in layout order from a generator seeded with `seed`.
    public func initialize(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for (index, slice) in parameters.slices.enumerated() {
            let bound = 1 / Float(fanIns[index]).squareRoot()
            let p = parameters.values.pointer + slice.offset
            for i in 0..<slice.count { p[i] = rng.uniform(-bound, bound) }
        }
    }

    /// Runs the first `batch` samples of `input` through every layer into `logits`.
    public func forward(batch: Int) {
        precondition(batch > 0 && batch <= maxBatch, "forward: batch \(batch) outside 1...\(maxBatch)")
        for (i, layer) in layers.enumerated() {
            layer.forward(activations[i], into: activations[i + 1], batch: batch)
        }
    }

    /// Propagates `logitsGradient` back through every layer, accumulating into
    /// `parameters.gradients` and telling `observer` as each block of them becomes final.
    public func backward(batch: Int, observer: GradientObserver) {
        precondition(batch > 0 && batch <= maxBatch, "backward: batch \(batch) outside 1...\(maxBatch)")
        // Layers before the first with parameters need no gradient.
        for i in stride(from: layers.count - 1, through: 0, by: -1) where activationGradients[i + 1] != nil {
            layers[i].backward(input: activations[i], output: activations[i + 1], outputGradient: activationGradients[i + 1]!,
                               inputGradient: activationGradients[i], batch: batch, observer: observer)
        }
    }
}

extension Sequential: TrainableModel {
    public var predictionsPerExample: Int { 1 }

    public var modelFlopsPerExample: Double {
        var multiplyAdds = 0
        for layer in described {
            switch layer.spec {
            case let .linear(inFeatures, outFeatures): multiplyAdds += inFeatures * outFeatures
            case let .conv2d(inChannels, outChannels, kernel, _, _):
                multiplyAdds += outChannels * inChannels * kernel * kernel * layer.outputShape[1] * layer.outputShape[2]
            case .maxPool2d, .relu, .flatten: break
            }
        }
        return 6 * Double(multiplyAdds)
    }

    public func forward(batch: Int, gradientScale: Float) -> Double {
        forward(batch: batch)
        return CrossEntropy.lossAndGradient(self, labels: UnsafeBufferPointer(labels), batch: batch, gradientScale: gradientScale)
    }

    public func evaluate(batch: Int) -> (loss: Double, correct: Int) {
        forward(batch: batch)
        let loss = CrossEntropy.loss(self, labels: UnsafeBufferPointer(labels), batch: batch)
        return (loss, countArgmaxMatches(Matrix(logits, rows: batch, cols: classes), labels: UnsafeBufferPointer(labels)))
    }
}
