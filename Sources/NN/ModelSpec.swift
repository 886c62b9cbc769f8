import Tensor

/// One layer of a model description, as a config states it.
public enum LayerSpec: Equatable, Sendable {
    /// y = x·Wᵀ + b with W [out, in].
    case linear(inFeatures: Int, outFeatures: Int)
    /// 2-D convolution with W [out, in, k, k].
    case conv2d(inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int)
    case maxPool2d(kernel: Int, stride: Int, padding: Int)
    case relu
    case flatten

    /// The config's name for this kind of layer.
    public var kind: String {
        switch self {
        case .linear: "linear"
        case .conv2d: "conv2d"
        case .maxPool2d: "maxpool2d"
        case .relu: "relu"
        case .flatten: "flatten"
        }
    }
}

/// A model: a per-sample input shape and a chain of layers.
public struct ModelSpec: Equatable, Sendable {
    public var name: String
    /// Per-sample input, e.g. [1, 28, 28].
    public var inputShape: [Int]
    /// The layers in order; a nil name is filled in as fc1, fc2, … or conv1, conv2, ….
    public var layers: [(name: String?, spec: LayerSpec)]

    public init(name: String, inputShape: [Int], layers: [(name: String?, spec: LayerSpec)]) {
        self.name = name
        self.inputShape = inputShape
        self.layers = layers
    }

    public static func == (a: ModelSpec, b: ModelSpec) -> Bool {
        a.name == b.name && a.inputShape == b.inputShape && a.layers.count == b.layers.count
            && zip(a.layers, b.layers).allSatisfy { $0.name == $1.name && $0.spec == $1.spec }
    }
}

/// Why a model description cannot be built. The text names the layer and the numbers.
public struct ModelSpecError: Error, Equatable, CustomStringConvertible {
    public let description: String
    /// The index in `ModelSpec.layers` of the layer at fault, if one is.
    public let layer: Int?
    public init(_ description: String, layer: Int? = nil) {
        self.description = description
        self.layer = layer
    }
}

/// A layer with its resolved name and per-sample shapes.
public struct ResolvedLayer: Equatable, Sendable {
    public let name: String
    public let spec: LayerSpec
    public let inputShape: [Int]
    public let outputShape: [Int]
}

extension ModelSpec {
    /// The most values one sample may have at the input and after any layer: 2³¹, so that a
    /// batch's buffers are sized without overflow (and any larger would not fit in memory).
    public static let maximumValuesPerSample = 1 << 31

    /// Checks that the layers chain, and names them.
    ///
    /// - Throws: `ModelSpecError` naming the first layer whose input does not fit, e.g.
    ///   "layer 8 (fc1, linear): in is 3200 but its input has 3136 features", or whose output
    ///   is larger than `maximumValuesPerSample`.
    public func resolve() throws(ModelSpecError) -> [ResolvedLayer] {
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ModelSpecError("model.input must be positive dimensions, got \(inputShape)")
        }
        guard Self.values(inputShape) != nil else {
            throw ModelSpecError("model.input \(inputShape) is more than \(Self.maximumValuesPerSample) values per sample")
        }
        guard !layers.isEmpty else { throw ModelSpecError("model.layers is empty") }
        var shape = inputShape
        var counters: [String: Int] = [:]
        var resolved: [ResolvedLayer] = []
        for (i, (given, spec)) in layers.enumerated() {
            let prefix = spec.kind == "linear" ? "fc" : spec.kind == "conv2d" ? "conv" : spec.kind
            counters[prefix, default: 0] += 1
            let name = given ?? "\(prefix)\(counters[prefix]!)"
            let at = "layer \(i + 1) (\(name), \(spec.kind))"
            func failure(_ text: String) -> ModelSpecError { ModelSpecError("\(at): \(text)", layer: i) }
            let out: [Int]
            switch spec {
            case let .linear(inFeatures, outFeatures):
                guard inFeatures > 0, outFeatures > 0 else {
                    throw failure("in and out must be positive, got in = \(inFeatures), out = \(outFeatures)")
                }
                guard shape.count == 1 else {
                    throw failure("needs a flat input but receives \(shape.map(String.init).joined(separator: "×")); add a flatten layer before it")
                }
                guard shape[0] == inFeatures else {
                    throw failure("in is \(inFeatures) but its input has \(shape[0]) features")
                }
                out = [outFeatures]
            case let .conv2d(inChannels, outChannels, kernel, stride, padding):
                guard inChannels > 0, outChannels > 0, kernel > 0, stride > 0, padding >= 0 else {
                    throw failure("in, out, kernel and stride must be positive and padding non-negative")
                }
                guard shape.count == 3 else {
                    throw failure("needs a (channels, height, width) input but receives \(shape)")
                }
                guard shape[0] == inChannels else {
                    throw failure("in is \(inChannels) channels but its input has \(shape[0])")
                }
                let g = ConvGeometry(channels: shape[0], height: shape[1], width: shape[2], kernel: kernel, stride: stride, padding: padding)
                guard g.isValid else {
                    throw failure("a \(kernel)×\(kernel) kernel with padding \(padding) does not fit a \(shape[1])×\(shape[2]) input")
                }
                out = [outChannels, g.outHeight, g.outWidth]
            case let .maxPool2d(kernel, stride, padding):
                guard kernel > 0, stride > 0, padding >= 0, padding * 2 <= kernel else {
                    throw failure("kernel and stride must be positive, and padding at most half the kernel")
                }
                guard shape.count == 3 else {
                    throw failure("needs a (channels, height, width) input but receives \(shape)")
                }
                let g = ConvGeometry(channels: shape[0], height: shape[1], width: shape[2], kernel: kernel, stride: stride, padding: padding)
                guard g.isValid else {
                    throw failure("a \(kernel)×\(kernel) window does not fit a \(shape[1])×\(shape[2]) input")
                }
                out = [shape[0], g.outHeight, g.outWidth]
            case .relu:
                out = shape
            case .flatten:
                out = [shape.reduce(1, *)]
            }
            guard Self.values(out) != nil else {
                throw failure("its output \(out.map(String.init).joined(separator: "×")) is more than \(Self.maximumValuesPerSample) values per sample")
            }
            if resolved.contains(where: { $0.name == name }) {
                throw failure("the name \(name) is used twice")
            }
            resolved.append(ResolvedLayer(name: name, spec: spec, inputShape: shape, outputShape: out))
            shape = out
        }
        guard shape.count == 1 else {
            throw ModelSpecError("the last layer gives \(shape); the model must end in class scores (flatten and linear)",
                                 layer: layers.count - 1)
        }
        return resolved
    }

    /// The product of `shape`, or nil above `maximumValuesPerSample`.
    private static func values(_ shape: [Int]) -> Int? {
        var product = 1
        for n in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: n)
            guard !overflow, next <= maximumValuesPerSample else { return nil }
            product = next
        }
        return product
    }
}
