import NN

/// model.py for Keras 3: a functional model, channels-last, whose layers take their weights
/// from the export's model.safetensors (`<layer>.kernel`, `<layer>.bias`, converted by
/// `LayoutRules`).
enum PythonKeras {
    static func source(_ model: ExportedModel, spec: ModelSpec, layers: [ResolvedLayer]) -> String {
        var steps: [String] = []
        for layer in layers {
            let n = layer.name
            switch layer.spec {
            case let .linear(_, o):
                steps.append("x = keras.layers.Dense(\(o), name=\"\(n)\")(x)")
            case let .conv2d(_, o, k, s, p):
                if p > 0 { steps.append("x = keras.layers.ZeroPadding2D(padding=\(p), name=\"\(n)_pad\")(x)") }
                steps.append("x = keras.layers.Conv2D(\(o), \(k), strides=\(s), padding=\"valid\", name=\"\(n)\")(x)")
            case let .maxPool2d(k, s, p):
                if p > 0 { steps.append("x = keras.layers.Lambda(pad_with_minus_infinity(\(p)), name=\"\(n)_pad\")(x)") }
                steps.append("x = keras.layers.MaxPooling2D(pool_size=\(k), strides=\(s), padding=\"valid\", name=\"\(n)\")(x)")
            case .relu: steps.append("x = keras.layers.ReLU(name=\"\(n)\")(x)")
            case .flatten: steps.append("x = keras.layers.Flatten(name=\"\(n)\")(x)  # (h, w, c) order")
            }
        }
        let channelsLast = spec.inputShape.count == 3 ? [spec.inputShape[1], spec.inputShape[2], spec.inputShape[0]] : spec.inputShape
        let header = PythonCommon.header(model, .keras, usage: """
            import model
            net = model.load()                                  # a keras.Model
            logits = net(model.preprocess(images))              # uint8 images (N, \(spec.inputShape.map(String.init).joined(separator: ", "))) -> (N, \(layers.last!.outputShape[0]))
            net.save("model.keras")                             # a .keras file, if wanted
            """, layouts: """
            Layouts (converted from Lockstep's, which are PyTorch's): inputs are channels-last (N, H, W, C); Dense kernels
            [in, out] (the Linear weight transposed); Conv2D kernels [kh, kw, in, out]; the Dense after a Flatten of
            several channels has its kernel's rows in (h, w, c) order, as Keras flattens.
            """)
        return """
        \(header)
        import json
        import os

        import keras
        import numpy as np

        HERE = os.path.dirname(os.path.abspath(__file__))
        INPUT_SHAPE = \(PythonCommon.tuple(spec.inputShape))
        INPUT_SHAPE_CHANNELS_LAST = \(PythonCommon.tuple(channelsLast))
        CLASSES = \(layers.last!.outputShape[0])


        def pad_with_minus_infinity(p):
            \"\"\"PyTorch's max-pooling padding: -inf around each (H, W) plane.\"\"\"
            return lambda t: keras.ops.pad(t, [[0, 0], [p, p], [p, p], [0, 0]], constant_values=float("-inf"))


        def build():
            \"\"\"The model, its weights not yet loaded.\"\"\"
            inputs = keras.Input(shape=INPUT_SHAPE_CHANNELS_LAST, name="images")
            x = inputs
        \(steps.map { "    " + $0 }.joined(separator: "\n"))
            return keras.Model(inputs, x, name="\(pythonName(model.name))")


        \(PythonCommon.reader)


        \(PythonCommon.preprocess(channelsLast: true, tensor: "x"))


        def load(path=None):
            \"\"\"The model with the exported weights.\"\"\"
            net = build()
            params = read_safetensors(path or os.path.join(HERE, "model.safetensors"))
            for layer in net.layers:
                if layer.weights:
                    layer.set_weights([params[layer.name + ".kernel"], params[layer.name + ".bias"]])
            return net

        """
    }

    /// A name Keras accepts for a model: letters, digits and underscores.
    static func pythonName(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// The weights file's tensors: `<layer>.kernel` and `<layer>.bias`, channels-last.
    static func tensors(_ model: ExportedModel, layers: [ResolvedLayer]) -> [(name: String, shape: [Int], values: [Float])] {
        ChannelsLast.denseAndConv(model, layers: layers)
    }
}

/// The Dense and Conv kernels of Keras and of the JAX export (Flax's convention).
enum ChannelsLast {
    static func denseAndConv(_ model: ExportedModel, layers: [ResolvedLayer]) -> [(name: String, shape: [Int], values: [Float])] {
        let flattened = ExportedModel.flattenedBefore(layers)
        var out: [(name: String, shape: [Int], values: [Float])] = []
        for layer in layers {
            let isLinear = if case .linear = layer.spec { true } else { false }
            let isConv = if case .conv2d = layer.spec { true } else { false }
            guard isLinear || isConv else { continue }
            let w = model["\(layer.name).weight"].values, b = model["\(layer.name).bias"]
            switch layer.spec {
            case let .linear(i, o):
                let kernel = if let chw = flattened[layer.name] {
                    LayoutRules.channelsLastKernel(w, out: o, channels: chw[0], height: chw[1], width: chw[2])
                } else {
                    LayoutRules.transpose(w, rows: o, cols: i)
                }
                out.append(("\(layer.name).kernel", [i, o], kernel))
            case let .conv2d(i, o, k, _, _):
                out.append(("\(layer.name).kernel", [k, k, i, o], LayoutRules.convToHWIO(w, out: o, in: i, kernel: k)))
            case .maxPool2d, .relu, .flatten: continue
            }
            out.append(("\(layer.name).bias", b.shape, b.values))
        }
        return out
    }
}
