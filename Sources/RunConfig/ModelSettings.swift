import NN

/// The model section: a chain of layers over images (model.type = "sequential"), or a GPT
/// over tokens (model.type = "gpt"), checked against the data section.
public enum ModelSettings: Sendable, Equatable {
    case sequential(ModelSpec)
    case gpt(GPTConfig)

    /// - Throws: `ConfigError` naming the key that does not fit.
    init(_ c: Config, data: DataSettings) throws(ConfigError) {
        let at = c.source
        switch c.string("model.type") {
        case "gpt":
            guard case let .int(layers) = c["model.layers"] else {
                throw ConfigError("\(at): model.layers of a GPT is its number of blocks, an integer")
            }
            let config = GPTConfig(vocab: c.int("model.vocab"), context: c.int("model.context"), layers: layers,
                                   heads: c.int("model.heads"), embed: c.int("model.embed"))
            guard config.embed % config.heads == 0 else {
                throw ConfigError("\(at): model.embed = \(config.embed) is not a multiple of model.heads = \(config.heads)")
            }
            guard data.dataset.isText else {
                throw ConfigError("\(at): a GPT trains on tokens: data.dataset must be \"text\" or \"tokens\", got \"\(data.dataset.rawValue)\"")
            }
            if data.dataset == .text && config.vocab < 256 {
                throw ConfigError("\(at): model.vocab = \(config.vocab) is too small for data.dataset = \"text\", whose tokens are bytes: set model.vocab = 256")
            }
            self = .gpt(config)
        default:
            guard !data.dataset.isText else {
                throw ConfigError("\(at): data.dataset = \"\(data.dataset.rawValue)\" is token windows for model.type = \"gpt\"; a sequential model trains on images")
            }
            let spec = try Self.sequentialSpec(c)
            let resolved: [ResolvedLayer]
            do {
                resolved = try spec.resolve()
            } catch let error as ModelSpecError {
                throw ConfigError("\(at): model.layers: \(error.description)")
            } catch {
                throw ConfigError("\(at): model.layers: \(error)")
            }
            let imageShape = data.dataset == .fashionMNIST ? [1, 28, 28] : spec.inputShape
            if spec.inputShape != imageShape {
                throw ConfigError("\(at): model.input is \(spec.inputShape) but \(data.dataset.rawValue) images are \(imageShape)")
            }
            let classes = data.dataset == .fashionMNIST ? 10 : data.classes
            if resolved.last!.outputShape != [classes] {
                throw ConfigError("\(at): the model ends in \(resolved.last!.outputShape[0]) scores but the data has \(classes) classes")
            }
            self = .sequential(spec)
        }
    }

    /// The model's parameters.
    public var parameterCount: Int {
        switch self {
        case let .gpt(config): return config.parameterCount
        case let .sequential(spec):
            var count = 0
            for layer in (try? spec.resolve()) ?? [] {
                switch layer.spec {
                case let .linear(inFeatures, outFeatures): count += (inFeatures + 1) * outFeatures
                case let .conv2d(inChannels, outChannels, kernel, _, _): count += (inChannels * kernel * kernel + 1) * outChannels
                case .maxPool2d, .relu, .flatten: break
                }
            }
            return count
        }
    }

    /// About how many Floats the model's activations, and their gradients, take for `batch`
    /// examples: what its buffers are sized for, within a few percent.
    public func activationFloats(batch: Int) -> Int {
        switch self {
        case let .gpt(c):
            // Per block: LayerNorm outputs, QKV, attention output, the MLP's 4C before and after
            // GELU (14C per position), and the attention probabilities; the residual stream;
            // logits and their gradient.
            let rows = batch * c.context
            return rows * (c.layers * (14 * c.embed + c.heads * c.context) + (c.layers + 2) * c.embed + 2 * c.vocab)
        case let .sequential(spec):
            let layers = (try? spec.resolve()) ?? []
            return 2 * batch * (spec.inputShape.reduce(1, *) + layers.reduce(0) { $0 + $1.outputShape.reduce(1, *) })
        }
    }

    /// The chain of layers, for a sequential model.
    public var sequential: ModelSpec? { if case let .sequential(spec) = self { spec } else { nil } }

    /// The model.layers tables as a `ModelSpec`.
    private static func sequentialSpec(_ c: Config) throws(ConfigError) -> ModelSpec {
        guard case let .tables(tables) = c["model.layers"] else {
            throw ConfigError("\(c.source): model.layers of a sequential model is an array of layer tables")
        }
        guard !c.ints("model.input").isEmpty else { throw ConfigError("\(c.source): model.input is required") }
        var layers: [(name: String?, spec: LayerSpec)] = []
        for table in tables {
            func int(_ key: String) -> Int { if case let .int(v)? = table[key] { return v }; return 0 }
            guard case let .string(type)? = table["type"] else { continue }
            let name: String? = if case let .string(n)? = table["name"] { n } else { nil }
            let spec: LayerSpec = switch type {
            case "linear": .linear(inFeatures: int("in"), outFeatures: int("out"))
            case "conv2d": .conv2d(inChannels: int("in"), outChannels: int("out"), kernel: int("kernel"),
                                   stride: int("stride"), padding: int("padding"))
            case "maxpool2d": .maxPool2d(kernel: int("kernel"), stride: int("stride") == 0 ? int("kernel") : int("stride"),
                                         padding: int("padding"))
            case "relu": .relu
            default: .flatten
            }
            layers.append((name: name, spec: spec))
        }
        return ModelSpec(name: c.string("model.name"), inputShape: c.ints("model.input"), layers: layers)
    }
}
