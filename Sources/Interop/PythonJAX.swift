import NN

/// model.py for JAX: pure `jax.numpy` forward functions over a pytree of parameters in
/// Flax's convention (Dense `kernel` [in, out], Conv `kernel` [kh, kw, in, out], LayerNorm
/// `scale`, Embed `embedding`), stored flat in params.safetensors under dotted paths.
enum PythonJAX {
    static func sequential(_ model: ExportedModel, spec: ModelSpec, layers: [ResolvedLayer]) -> String {
        var steps: [String] = []
        for layer in layers {
            let n = layer.name
            switch layer.spec {
            case .linear: steps.append("x = dense(x, params[\"\(n)\"])")
            case let .conv2d(_, _, _, s, p): steps.append("x = conv(x, params[\"\(n)\"], stride=\(s), padding=\(p))")
            case let .maxPool2d(k, s, p): steps.append("x = max_pool(x, kernel=\(k), stride=\(s), padding=\(p))  # \(n)")
            case .relu: steps.append("x = jax.nn.relu(x)  # \(n)")
            case .flatten: steps.append("x = x.reshape(x.shape[0], -1)  # \(n): (h, w, c) order")
            }
        }
        let channelsLast = spec.inputShape.count == 3 ? [spec.inputShape[1], spec.inputShape[2], spec.inputShape[0]] : spec.inputShape
        let header = PythonCommon.header(model, .jax, usage: """
            import model
            params = model.load()                                       # a pytree: {"fc1": {"kernel", "bias"}, ...}
            logits = model.forward(params, model.preprocess(images))    # uint8 images (N, \(spec.inputShape.map(String.init).joined(separator: ", "))) -> (N, \(layers.last!.outputShape[0]))
            fast = jax.jit(model.forward)
            """, layouts: """
            Layouts, Flax's convention (converted from Lockstep's, which are PyTorch's): inputs channels-last (N, H, W, C);
            Dense kernels [in, out] (the Linear weight transposed); Conv kernels [kh, kw, in, out]; the Dense after a
            Flatten of several channels has its kernel's rows in (h, w, c) order, as a channels-last flatten runs.
            """)
        return """
        \(header)
        import json
        import os

        import jax
        import jax.numpy as jnp
        import numpy as np

        HERE = os.path.dirname(os.path.abspath(__file__))
        INPUT_SHAPE = \(PythonCommon.tuple(spec.inputShape))
        INPUT_SHAPE_CHANNELS_LAST = \(PythonCommon.tuple(channelsLast))
        CLASSES = \(layers.last!.outputShape[0])
        HIGHEST = jax.lax.Precision.HIGHEST


        def dense(x, p):
            return jnp.dot(x, p["kernel"], precision=HIGHEST) + p["bias"]


        def conv(x, p, stride, padding):
            y = jax.lax.conv_general_dilated(x, p["kernel"], (stride, stride), ((padding, padding), (padding, padding)),
                                             dimension_numbers=("NHWC", "HWIO", "NHWC"), precision=HIGHEST)
            return y + p["bias"]


        def max_pool(x, kernel, stride, padding):
            return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, kernel, kernel, 1), (1, stride, stride, 1),
                                         ((0, 0), (padding, padding), (padding, padding), (0, 0)))


        def forward(params, x):
            \"\"\"x: (N,) + INPUT_SHAPE_CHANNELS_LAST float32 -> logits (N, CLASSES).\"\"\"
        \(steps.map { "    " + $0 }.joined(separator: "\n"))
            return x


        \(PythonCommon.reader)


        \(loader)


        \(PythonCommon.preprocess(channelsLast: true, tensor: "jnp.asarray(x)"))

        """
    }

    static func gpt(_ model: ExportedModel, config c: GPTConfig) -> String {
        let header = PythonCommon.header(model, .jax, usage: """
            import model
            params = model.load()                                       # a pytree: {"wte": {"embedding"}, "h": [...], ...}
            logits = model.forward(params, jnp.array([[1, 2, 3]]))      # (B, t) token ids, t <= \(c.context) -> (B, t, \(c.vocab))
            model.generate(params, [1, 2, 3], 50)                       # greedy: the 50 next tokens
            """, layouts: """
            Parameters in Flax's convention, converted from Lockstep's (nanoGPT's): transformer.wte.weight -> wte.embedding,
            transformer.wpe.weight -> wpe.embedding, transformer.h.{i}.<linear>.weight [out, in] -> h.{i}.<linear>.kernel
            [in, out], LayerNorm weight -> scale; biases as they are. The output head is tied to wte.embedding.
            """)
        return """
        \(header)
        import json
        import math
        import os

        import jax
        import jax.numpy as jnp
        import numpy as np

        HERE = os.path.dirname(os.path.abspath(__file__))
        VOCAB, CONTEXT, LAYERS, HEADS, EMBED = \(c.vocab), \(c.context), \(c.layers), \(c.heads), \(c.embed)
        HIGHEST = jax.lax.Precision.HIGHEST


        def dense(x, p):
            return jnp.matmul(x, p["kernel"], precision=HIGHEST) + p["bias"]


        def layer_norm(x, p):
            mean = x.mean(-1, keepdims=True)
            variance = ((x - mean) ** 2).mean(-1, keepdims=True)
            return (x - mean) / jnp.sqrt(variance + 1e-5) * p["scale"] + p["bias"]


        def attention(x, p):
            b, t, c = x.shape
            q, k, v = jnp.split(dense(x, p["c_attn"]), 3, axis=-1)
            q, k, v = (z.reshape(b, t, HEADS, c // HEADS).transpose(0, 2, 1, 3) for z in (q, k, v))
            scores = jnp.matmul(q, k.transpose(0, 1, 3, 2), precision=HIGHEST) / math.sqrt(c // HEADS)
            causal = jnp.tril(jnp.ones((t, t), dtype=bool))
            weights = jax.nn.softmax(jnp.where(causal, scores, -jnp.inf), axis=-1)
            y = jnp.matmul(weights, v, precision=HIGHEST).transpose(0, 2, 1, 3).reshape(b, t, c)
            return dense(y, p["c_proj"])


        def forward(params, tokens):
            \"\"\"tokens: (B, t) ids, t <= CONTEXT -> logits (B, t, VOCAB).\"\"\"
            tokens = jnp.asarray(tokens)
            x = params["wte"]["embedding"][tokens] + params["wpe"]["embedding"][: tokens.shape[1]]
            for block in params["h"]:
                x = x + attention(layer_norm(x, block["ln_1"]), block["attn"])
                h = jax.nn.gelu(dense(layer_norm(x, block["ln_2"]), block["mlp"]["c_fc"]), approximate=True)
                x = x + dense(h, block["mlp"]["c_proj"])
            x = layer_norm(x, params["ln_f"])
            return jnp.matmul(x, params["wte"]["embedding"].T, precision=HIGHEST)


        \(PythonCommon.reader)


        \(loader)


        \(PythonCommon.greedyGenerate(np: "jnp"))

        """
    }

    /// Builds the pytree from the flat dotted names: numeric parts index lists.
    static let loader = """
    def load(path=None):
        \"\"\"The parameters as a pytree of jax arrays, nested by the dotted names of params.safetensors.\"\"\"
        flat = read_safetensors(path or os.path.join(HERE, "params.safetensors"))
        tree = {}
        for name, value in flat.items():
            node, parts = tree, name.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = jnp.asarray(value)

        def lists(node):
            if not isinstance(node, dict):
                return node
            if node and all(key.isdigit() for key in node):
                return [lists(node[str(i)]) for i in range(len(node))]
            return {key: lists(value) for key, value in node.items()}

        return lists(tree)
    """

    /// params.safetensors of a GPT: Flax's names and layouts.
    static func gptTensors(_ model: ExportedModel, config: GPTConfig) -> [(name: String, shape: [Int], values: [Float])] {
        model.parameters.map { p in
            var name = p.name.hasPrefix("transformer.") ? String(p.name.dropFirst("transformer.".count)) : p.name
            if name == "wte.weight" || name == "wpe.weight" {
                return (name.replacingOccurrences(of: ".weight", with: ".embedding"), p.shape, p.values)
            }
            if p.shape.count == 2 {  // a Linear weight [out, in] -> kernel [in, out]
                name = String(name.dropLast(".weight".count)) + ".kernel"
                return (name, [p.shape[1], p.shape[0]], LayoutRules.transpose(p.values, rows: p.shape[0], cols: p.shape[1]))
            }
            let isNorm = name.contains("ln_") && name.hasSuffix(".weight")
            if isNorm { name = String(name.dropLast(".weight".count)) + ".scale" }
            return (name, p.shape, p.values)
        }
    }
}
