import NN

/// model.py for numpy alone: the forward pass in numpy over Lockstep's parameter names and
/// layouts, which are PyTorch's and MXNet Gluon's (Dense weight (units, in_units), Conv2D
/// OIHW, images NCHW): the form for MXNet-era stacks and for no framework at all.
enum PythonNumpy {
    static func sequential(_ model: ExportedModel, spec: ModelSpec, layers: [ResolvedLayer]) -> String {
        var steps: [String] = []
        for layer in layers {
            let n = layer.name
            switch layer.spec {
            case .linear: steps.append("x = linear(x, params[\"\(n).weight\"], params[\"\(n).bias\"])")
            case let .conv2d(_, _, _, s, p):
                steps.append("x = conv2d(x, params[\"\(n).weight\"], params[\"\(n).bias\"], stride=\(s), padding=\(p))")
            case let .maxPool2d(k, s, p): steps.append("x = max_pool2d(x, kernel=\(k), stride=\(s), padding=\(p))  # \(n)")
            case .relu: steps.append("x = np.maximum(x, 0)  # \(n)")
            case .flatten: steps.append("x = x.reshape(x.shape[0], -1)  # \(n): (c, h, w) order")
            }
        }
        let header = PythonCommon.header(model, .numpy, usage: """
            import model
            params = model.load()                                       # {"fc1.weight": array, ...}
            logits = model.forward(params, model.preprocess(images))    # uint8 images (N, \(spec.inputShape.map(String.init).joined(separator: ", "))) -> (N, \(layers.last!.outputShape[0]))
            """, layouts: """
            Layouts as Lockstep's, PyTorch's and MXNet Gluon's: images (N, C, H, W); Linear weights [out, in]; Conv2d weights
            [out, in, kh, kw]; a flatten in (c, h, w) order. For MXNet: Dense weight = <name>.weight, Conv2D weight likewise.
            """)
        return """
        \(header)
        import json
        import os

        import numpy as np

        HERE = os.path.dirname(os.path.abspath(__file__))
        INPUT_SHAPE = \(PythonCommon.tuple(spec.inputShape))
        CLASSES = \(layers.last!.outputShape[0])


        def linear(x, weight, bias):
            return x @ weight.T + bias


        def windows(x, kernel, stride):
            \"\"\"(N, C, H, W) -> (N, C, OH, OW, kernel, kernel): every kernel x kernel window at the stride.\"\"\"
            return np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]


        def conv2d(x, weight, bias, stride, padding):
            out, _, kernel, _ = weight.shape
            x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
            w = windows(x, kernel, stride)
            n, c, oh, ow = w.shape[:4]
            columns = w.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kernel * kernel)
            y = columns @ weight.reshape(out, -1).T + bias
            return y.reshape(n, oh, ow, out).transpose(0, 3, 1, 2)


        def max_pool2d(x, kernel, stride, padding):
            x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
            return windows(x, kernel, stride).max(axis=(4, 5))


        def forward(params, x):
            \"\"\"x: (N,) + INPUT_SHAPE float32 -> logits (N, CLASSES).\"\"\"
        \(steps.map { "    " + $0 }.joined(separator: "\n"))
            return x


        \(PythonCommon.reader)


        def load(path=None):
            \"\"\"The parameters: name -> float32 array.\"\"\"
            return read_safetensors(path or os.path.join(HERE, "params.safetensors"))


        \(PythonCommon.preprocess(channelsLast: false, tensor: "x"))

        """
    }

    static func gpt(_ model: ExportedModel, config c: GPTConfig) -> String {
        let header = PythonCommon.header(model, .numpy, usage: """
            import model
            params = model.load()                                        # {"transformer.wte.weight": array, ...}
            logits = model.forward(params, np.array([[1, 2, 3]]))        # (B, t) token ids, t <= \(c.context) -> (B, t, \(c.vocab))
            model.generate(params, [1, 2, 3], 50)                        # greedy: the 50 next tokens
            """, layouts: "Names and layouts as Lockstep's and nanoGPT's: Linear weights [out, in]; the head is tied to transformer.wte.weight.")
        return """
        \(header)
        import json
        import math
        import os

        import numpy as np

        HERE = os.path.dirname(os.path.abspath(__file__))
        VOCAB, CONTEXT, LAYERS, HEADS, EMBED = \(c.vocab), \(c.context), \(c.layers), \(c.heads), \(c.embed)


        def linear(x, params, name):
            return x @ params[name + ".weight"].T + params[name + ".bias"]


        def layer_norm(x, params, name):
            mean = x.mean(-1, keepdims=True)
            variance = ((x - mean) ** 2).mean(-1, keepdims=True)
            return (x - mean) / np.sqrt(variance + np.float32(1e-5)) * params[name + ".weight"] + params[name + ".bias"]


        def gelu(x):
            return np.float32(0.5) * x * (np.float32(1) + np.tanh(np.float32(math.sqrt(2 / math.pi)) * (x + np.float32(0.044715) * x ** 3)))


        def softmax(x):
            e = np.exp(x - x.max(-1, keepdims=True))
            return e / e.sum(-1, keepdims=True)


        def forward(params, tokens):
            \"\"\"tokens: (B, t) ids, t <= CONTEXT -> logits (B, t, VOCAB), float32.\"\"\"
            tokens = np.asarray(tokens)
            b, t = tokens.shape
            x = params["transformer.wte.weight"][tokens] + params["transformer.wpe.weight"][:t]
            causal = np.tril(np.ones((t, t), dtype=bool))
            for i in range(LAYERS):
                h = "transformer.h.%d." % i
                q, k, v = np.split(linear(layer_norm(x, params, h + "ln_1"), params, h + "attn.c_attn"), 3, axis=-1)
                q, k, v = (z.reshape(b, t, HEADS, EMBED // HEADS).transpose(0, 2, 1, 3) for z in (q, k, v))
                scores = (q @ k.transpose(0, 1, 3, 2)) / np.float32(math.sqrt(EMBED // HEADS))
                y = softmax(np.where(causal, scores, -np.inf)) @ v
                x = x + linear(y.transpose(0, 2, 1, 3).reshape(b, t, EMBED), params, h + "attn.c_proj")
                x = x + linear(gelu(linear(layer_norm(x, params, h + "ln_2"), params, h + "mlp.c_fc")), params, h + "mlp.c_proj")
            return layer_norm(x, params, "transformer.ln_f") @ params["transformer.wte.weight"].T


        \(PythonCommon.reader)


        def load(path=None):
            \"\"\"The parameters: name -> float32 array.\"\"\"
            return read_safetensors(path or os.path.join(HERE, "params.safetensors"))


        \(PythonCommon.greedyGenerate(np: "np"))

        """
    }
}
