import NN

/// The model section: a chain of layers over images (model.type = "sequential"), or a GPT
/// over tokens (model.type = "gpt"), checked against the data section.
public enum ModelSettings: Sendable, Equatable {
    case sequential(ModelSpec)
    case gpt(GPTConfig)

    /// - Throws: `ConfigError` naming the key that does not fit.
    init(_ c: Config, data: DataSettings) throws(ConfigError) {
        switch c.string("model.type") {
        case "gpt":
            guard case let .int(layers) = c["model.layers"] else {
                throw ConfigError("\(c.origin(of: "model.layers", "model.type")): model.layers of a GPT is its number of blocks, an integer")
            }
            let config = GPTConfig(vocab: c.int("model.vocab"), context: c.int("model.context"), layers: layers,
                                   heads: c.int("model.heads"), embed: c.int("model.embed"))
            guard config.embed % config.heads == 0 else {
                throw ConfigError("\(c.origin(of: "model.embed", "model.heads")): model.embed = \(config.embed) is not a multiple of model.heads = \(config.heads)")
            }
            guard data.dataset.isText else {
                throw ConfigError("\(c.origin(of: "data.dataset", "model.type")): a GPT trains on tokens: data.dataset must be \"text\" or \"tokens\", got \"\(data.dataset.rawValue)\"")
            }
            if data.dataset == .text && config.vocab < 256 {
                throw ConfigError("\(c.origin(of: "model.vocab", "data.dataset")): model.vocab = \(config.vocab) is too small for data.dataset = \"text\", whose tokens are bytes: set model.vocab = 256")
            }
            let fraction = data.validationFraction
            if data.validationPath.isEmpty && !(fraction > 0 && fraction < 1) {
                throw ConfigError("\(c.origin(of: "data.val_fraction")): data.val_fraction must be above 0 and below 1 when data.val_path is empty, got \(fraction)")
            }
            self = .gpt(config)
        default:
            guard !data.dataset.isText else {
                throw ConfigError("\(c.origin(of: "data.dataset", "model.type")): data.dataset = \"\(data.dataset.rawValue)\" is token windows for model.type = \"gpt\"; a sequential model trains on images")
            }
            let spec = try Self.sequentialSpec(c)
            let resolved: [ResolvedLayer]
            switch Result(catching: { () throws(ModelSpecError) in try spec.resolve() }) {
            case let .success(layers): resolved = layers
            case let .failure(error):
                let origin = error.layer.map { c.layerOrigin($0) } ?? c.origin(of: "model.layers", "model.input")
                throw ConfigError("\(origin): model.layers: \(error.description)")
            }
            let imageShape = data.dataset == .fashionMNIST ? [1, 28, 28] : spec.inputShape
            if spec.inputShape != imageShape {
                throw ConfigError("\(c.origin(of: "model.input", "data.dataset")): model.input is \(spec.inputShape) but \(data.dataset.rawValue) images are \(imageShape)")
            }
            let classes = data.dataset == .fashionMNIST ? 10 : data.classes
            if resolved.last!.outputShape != [classes] {
                throw ConfigError("\(c.origin(of: "data.classes", "model.layers")): the model ends in \(resolved.last!.outputShape[0]) scores but the data has \(classes) classes")
            }
            self = .sequential(spec)
        }
    }

    /// The chain of layers, for a sequential model.
    public var sequential: ModelSpec? { if case let .sequential(spec) = self { spec } else { nil } }

    /// The model.layers tables as a `ModelSpec`.
    private static func sequentialSpec(_ c: Config) throws(ConfigError) -> ModelSpec {
        guard case let .tables(tables) = c["model.layers"] else {
            throw ConfigError("\(c.origin(of: "model.layers", "model.type")): model.layers of a sequential model is an array of layer tables")
        }
        guard !c.ints("model.input").isEmpty else { throw ConfigError("\(c.origin(of: "model.input", "model.type")): model.input is required") }
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
