import Foundation
import NN

/// The checks of a config against the world and the machine, made at start-up before anything
/// is allocated: each key alone is within `ConfigLimits`, but their products (the global batch,
/// batch × context × vocab, …) may still not fit in 64 bits or in memory.
extension TrainingConfig {
    /// One kind of buffer a rank allocates, and what its size comes from.
    public struct MemoryPart: Sendable, Equatable {
        /// What it holds, e.g. "logits and their gradients".
        public var what: String
        /// Its size in the keys' terms, with the values.
        public var formula: String
        /// The keys its size depends on, most specific first, for the message's origin.
        public var keys: [String]
        /// Bytes, as a Double, so that no product can overflow.
        public var bytes: Double
    }

    /// This machine's memory in bytes.
    public static var machineMemoryBytes: Double { Double(ProcessInfo.processInfo.physicalMemory) }

    /// Checks that the global batch at `world` ranks fits in 64 bits, and that the buffers one
    /// rank allocates for micro-batches of up to `maxBatch` samples fit in `memoryBytes`.
    /// - Parameters:
    ///   - limit: what leaves `memoryBytes` to this rank, for the message: "this machine's
    ///     memory", "the address-space limit (ulimit -v)".
    ///   - writesCheckpoints: whether this rank keeps the checkpoint writer's staging copy.
    /// - Throws: `ConfigError` naming the keys' origin: `c.toml:9: the run's buffers need
    ///   1.7 TB per rank, but this machine's memory leaves 23.4 GB; the largest, …`.
    public func checkResources(world: Int, maxBatch: Int, memoryBytes: Double, limit: String = "this machine's memory",
                               writesCheckpoints: Bool = false) throws(ConfigError) {
        let c = config
        let (perStep, overflow1) = train.batch.multipliedReportingOverflow(by: max(world, 1))
        let (_, overflow2) = perStep.multipliedReportingOverflow(by: train.accumulate)
        guard !overflow1 && !overflow2 else {
            throw ConfigError("\(c.origin(of: ["train.batch", "train.accumulate"])): the global batch, train.batch × \(world) ranks × train.accumulate = \(train.batch) × \(world) × \(train.accumulate), does not fit in 64 bits")
        }
        let parts = memoryParts(maxBatch: maxBatch, writesCheckpoints: writesCheckpoints)
        let total = parts.reduce(0) { $0 + $1.bytes }
        guard !(total <= memoryBytes), let largest = parts.max(by: { $0.bytes < $1.bytes }) else { return }
        throw ConfigError("\(c.origin(of: largest.keys)): the run's buffers need \(Self.bytesText(total)) per rank, but \(limit) leaves \(Self.bytesText(memoryBytes)); the largest, \(largest.what) (\(largest.formula)), take \(Self.bytesText(largest.bytes))")
    }

    /// What one rank allocates for micro-batches of up to `maxBatch` samples: parameters,
    /// gradients and optimizer state (and the checkpoint writer's copy of them), the model's
    /// activations and scratch, and synthetic images. Estimates from above, in Doubles.
    public func memoryParts(maxBatch: Int, writesCheckpoints: Bool = false) -> [MemoryPart] {
        let b = Double(maxBatch), float = 4.0
        let states: Double = switch optimizer {
        case .adamW: 2
        case let .sgd(momentum, _, _): momentum > 0 ? 1 : 0
        }
        var parts: [MemoryPart] = []
        func parameters(_ count: Double, keys: [String]) {
            parts.append(MemoryPart(what: "the parameters, their gradients and the optimizer's state",
                                    formula: "\(Int(2 + states)) × \(Self.countText(count)) parameters", keys: keys,
                                    bytes: (2 + states) * count * float))
            if writesCheckpoints {
                parts.append(MemoryPart(what: "the checkpoint writer's copy of the parameters and optimizer state",
                                        formula: "\(Int(1 + states)) × \(Self.countText(count)) parameters", keys: keys + ["checkpoint.dir"],
                                        bytes: (1 + states) * count * float))
            }
        }
        switch model {
        case let .gpt(g):
            let v = Double(g.vocab), t = Double(g.context), l = Double(g.layers), h = Double(g.heads), e = Double(g.embed)
            parameters((v + t) * e + l * (12 * e * e + 13 * e) + 2 * e, keys: ["model.embed", "model.layers", "model.vocab"])
            parts.append(MemoryPart(what: "the logits and their gradients",
                                    formula: "2 × train.batch × model.context × model.vocab = 2 × \(maxBatch) × \(g.context) × \(g.vocab)",
                                    keys: ["train.batch", "model.context", "model.vocab"], bytes: 2 * b * t * v * float))
            parts.append(MemoryPart(what: "the activations",
                                    formula: "train.batch × model.context × model.embed × (16 × model.layers + 8) = \(maxBatch) × \(g.context) × \(g.embed) × \(16 * g.layers + 8)",
                                    keys: ["train.batch", "model.context", "model.embed", "model.layers"],
                                    bytes: b * t * e * (16 * l + 8) * float))
            parts.append(MemoryPart(what: "the attention probabilities",
                                    formula: "train.batch × model.heads × model.context² × (model.layers + 1) = \(maxBatch) × \(g.heads) × \(g.context)² × \(g.layers + 1)",
                                    keys: ["train.batch", "model.context", "model.heads", "model.layers"],
                                    bytes: b * h * t * t * (l + 1) * float))
        case let .sequential(spec):
            let layers = (try? spec.resolve()) ?? []
            var count = 0.0, values = Double(spec.inputShape.reduce(1, *)), scratch = 0.0
            for layer in layers {
                let out = Double(layer.outputShape.reduce(1, *))
                values += 3 * out
                switch layer.spec {
                case let .linear(inFeatures, outFeatures):
                    count += Double(inFeatures + 1) * Double(outFeatures)
                case let .conv2d(inChannels, outChannels, kernel, _, _):
                    let patch = Double(inChannels) * Double(kernel) * Double(kernel)
                    count += (patch + 1) * Double(outChannels)
                    scratch += patch * out / Double(outChannels) + out
                default:
                    break
                }
            }
            parameters(count, keys: ["model.layers"])
            parts.append(MemoryPart(what: "the activations and their gradients",
                                    formula: "train.batch × \(Self.countText(values + scratch)) values = \(maxBatch) × \(Self.countText(values + scratch))",
                                    keys: ["train.batch", "model.layers"], bytes: b * (values + scratch) * float))
            if data.dataset == .synthetic {
                let image = Double(spec.inputShape.reduce(1, *))
                let images = Double(data.trainCount) + Double(data.testCount)
                parts.append(MemoryPart(what: "the synthetic images",
                                        formula: "(data.train_count + data.test_count) × \(Self.countText(image)) bytes",
                                        keys: ["data.train_count", "data.test_count", "model.input"],
                                        bytes: images * image + Double(data.classes) * image * 8))
            }
        }
        return parts
    }

    /// Bytes for messages: 23.4 GB, 512 MB, 1.7 TB (powers of 1000).
    static func bytesText(_ bytes: Double) -> String {
        let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"]
        var value = bytes, unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        if unit == 0 || value >= 1000 { return "\(countText(bytes)) bytes" }
        return String(format: "%.1f", value) + " " + units[unit]
    }

    /// A count as an integer where one fits, else in scientific notation.
    static func countText(_ count: Double) -> String {
        count < 9e18 ? String(Int(count)) : String(format: "%.3g", count)
    }
}
