import Checkpoint
import Foundation
import NN
import RunConfig

/// What an export needs of a checkpoint: the model its config describes, and its parameters.
public struct ExportedModel: Sendable {
    public enum Architecture: Sendable {
        case sequential(ModelSpec, [ResolvedLayer])
        case gpt(GPTConfig)
    }

    public struct Parameter: Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
    }

    public let architecture: Architecture
    /// model.name.
    public let name: String
    /// The parameters in Lockstep's layout and order.
    public let parameters: [Parameter]
    /// The checkpoint's config as canonical text (one `key = value` line per key).
    public let configText: String
    /// Where it came from, for the files' headers: "ckpt-00000468.safetensors, step 468".
    public let origin: String

    public subscript(_ name: String) -> Parameter { parameters.first { $0.name == name }! }

    /// The model of `checkpoint`, from the config recorded in it.
    /// - Throws: `InteropError` when the config does not parse or the tensors are not its model's.
    public init(checkpoint c: LoadedCheckpoint) throws(InteropError) {
        let settings: TrainingConfig
        do {
            settings = try TrainingConfig(Config.parse(c.metadata.config, source: "\(c.path) (its config)"))
        } catch {
            throw InteropError("\(c.path): the config recorded in it does not load: \(error)")
        }
        configText = c.metadata.config
        name = settings.modelName
        // `latest` is a link: name the checkpoint it points at.
        origin = "\(URL(fileURLWithPath: c.path).resolvingSymlinksInPath().lastPathComponent), step \(c.metadata.step)"
        let layout: [(name: String, shape: [Int])]
        switch settings.model {
        case let .sequential(spec):
            let resolved: [ResolvedLayer]
            do {
                resolved = try spec.resolve()
            } catch {
                throw InteropError("\(c.path): model.layers: \(error)")
            }
            architecture = .sequential(spec, resolved)
            layout = Self.sequentialLayout(resolved)
        case let .gpt(config):
            architecture = .gpt(config)
            layout = GPT.parameterShapes(config)
        }
        var parameters: [Parameter] = []
        for (name, shape) in layout {
            guard let entry = c.header.entries.first(where: { $0.name == name }), entry.shape == shape, let values = c.tensor(name) else {
                throw InteropError("\(c.path): has no tensor \(name) with shape \(shape), which its config's model has")
            }
            parameters.append(Parameter(name: name, shape: shape, values: values))
        }
        self.parameters = parameters
    }

    /// The parameters of a chain of layers, named as `Sequential` names them.
    static func sequentialLayout(_ layers: [ResolvedLayer]) -> [(name: String, shape: [Int])] {
        layers.flatMap { layer -> [(name: String, shape: [Int])] in
            switch layer.spec {
            case let .linear(inFeatures, outFeatures):
                [("\(layer.name).weight", [outFeatures, inFeatures]), ("\(layer.name).bias", [outFeatures])]
            case let .conv2d(inChannels, outChannels, kernel, _, _):
                [("\(layer.name).weight", [outChannels, inChannels, kernel, kernel]), ("\(layer.name).bias", [outChannels])]
            case .maxPool2d, .relu, .flatten: []
            }
        }
    }

    /// For each Linear layer, the (C, H, W) of the activation flattened before it, when that
    /// had more than one channel: its weight's columns follow (c, h, w).
    static func flattenedBefore(_ layers: [ResolvedLayer]) -> [String: [Int]] {
        var pending: [Int]?
        var out: [String: [Int]] = [:]
        for layer in layers {
            switch layer.spec {
            case .flatten: pending = layer.inputShape.count == 3 && layer.inputShape[0] > 1 ? layer.inputShape : nil
            case .linear:
                if let pending { out[layer.name] = pending }
                pending = nil
            default: break
            }
        }
        return out
    }
}
