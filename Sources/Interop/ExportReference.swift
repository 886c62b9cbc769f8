import Data
import NN
import RunConfig
import Tensor

/// `lockstep export --reference`: what Lockstep's own forward pass gives, written beside an
/// export (reference.safetensors) so that a framework's answers can be checked against it.
///
/// - A sequential model: `inputs` (N, C, H, W) or (N, features) as the model sees them
///   (x / 255), `labels` (I32), and `logits` (N, classes) of the first N evaluation images.
/// - A GPT: `prompt` (I32), `greedy` (I32): the next tokens by greedy decoding, each the first
///   most likely token given the last `context` tokens, and `prompt_logits` (P, vocab): the
///   logits at each position of the prompt. Each step runs the whole window; by causality the
///   logits at position t read nothing after t, so a window shorter than the context is padded.
public enum ExportReference {
    public static func sequential(_ model: ExportedModel, spec: ModelSpec, config: TrainingConfig,
                                  examples: Int) throws -> [(name: String, shape: [Int], values: TensorFileWriter.Values)] {
        let d = config.data
        let test: LabeledImages = switch d.dataset {
        case .synthetic:
            SyntheticImages.make(count: d.trainCount + d.testCount, classes: d.classes, imageShape: spec.inputShape,
                                 noise: d.noise, seed: d.seed).split(at: d.trainCount).1
        default: try FashionMNIST.load(directory: d.path).test
        }
        let n = min(examples, test.count)
        let net = try Sequential(spec: spec, maxBatch: n)
        try load(model, into: net.parameters)
        BatchLoader(data: test).load(ArraySlice(0..<n), into: net.input, labels: net.labels)
        net.forward(batch: n)
        // The input is channel-major, (C, B, H, W): back to (B, C, H, W).
        let channels = spec.inputShape.count == 3 ? spec.inputShape[0] : 1
        let plane = spec.inputShape.reduce(1, *) / channels
        let input = net.input.buffer
        var inputs = [Float](repeating: 0, count: n * channels * plane)
        for b in 0..<n {
            for c in 0..<channels {
                for j in 0..<plane { inputs[(b * channels + c) * plane + j] = input[(c * n + b) * plane + j] }
            }
        }
        let classes = net.classes
        return [("inputs", [n] + spec.inputShape, .f32(inputs)), ("labels", [n], .i32(Array(net.labels.prefix(n)))),
                ("logits", [n, classes], .f32(Array(net.logits.buffer.prefix(n * classes))))]
    }

    public static func gpt(_ model: ExportedModel, config: GPTConfig, prompt: [Int32],
                           tokens count: Int) throws -> [(name: String, shape: [Int], values: TensorFileWriter.Values)] {
        let net = try GPT(config: config, maxBatch: 1)
        try load(model, into: net.parameters)
        let t = config.context, v = config.vocab
        /// The logits (t, V) of the window of the last T of `tokens`, padded with 0.
        func run(_ tokens: [Int32]) -> (logits: UnsafeMutableBufferPointer<Float>, last: Int) {
            let window = tokens.suffix(t)
            for (i, token) in window.enumerated() { net.tokens[i] = token }
            for i in window.count..<t { net.tokens[i] = 0 }
            net.forward(batch: 1)
            return (net.logits.buffer, window.count - 1)
        }
        var tokens = prompt
        let first = run(tokens)
        let promptLogits = Array(first.logits.prefix(min(prompt.count, t) * v))
        var greedy: [Int32] = []
        for _ in 0..<count {
            let (logits, last) = run(tokens)
            var best = 0
            for j in 1..<v where logits[last * v + j] > logits[last * v + best] { best = j }
            greedy.append(Int32(best))
            tokens.append(Int32(best))
        }
        return [("prompt", [prompt.count], .i32(prompt)), ("greedy", [count], .i32(greedy)),
                ("prompt_logits", [min(prompt.count, t), v], .f32(promptLogits))]
    }

    private static func load(_ model: ExportedModel, into store: ParameterStore) throws {
        for (i, slice) in store.slices.enumerated() {
            let p = model[slice.name]
            precondition(p.shape == slice.shape, "ExportReference: \(slice.name) is \(p.shape), the model's \(slice.shape)")
            let view = store.view(store.values, i).buffer
            _ = p.values.withUnsafeBufferPointer { view.update(fromContentsOf: $0) }
        }
    }
}
