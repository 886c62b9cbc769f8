import NN

/// model.py for Keras 3 of a GPT: nanoGPT's model as Keras layers (any backend), its weights
/// in the JAX export's names and layouts (Dense `kernel` [in, out], LayerNormalization `scale`
/// as gamma, Embedding `embedding`), assigned by name in `load()`.
enum PythonKerasGPT {
    static func source(_ model: ExportedModel, config c: GPTConfig) -> String {
        let header = PythonCommon.header(model, .keras, usage: """
            import model
            net = model.load()                                  # a keras.Model: (B, t) token ids -> (B, t, \(c.vocab)) logits
            logits = net(np.array([[1, 2, 3]]))                 # t <= \(c.context)
            model.generate(net, [1, 2, 3], 50)                  # greedy: the 50 next tokens
            """, layouts: """
            Weights in Keras's layouts, converted from Lockstep's (nanoGPT's): transformer.h.{i}.<linear>.weight [out, in] ->
            h.{i}.<linear>.kernel [in, out]; LayerNorm weight -> scale (gamma); wte, wpe -> embedding. The head is tied to
            wte.embedding.
            """)
        return """
        \(header)
        import json
        import math
        import os

        import keras
        import numpy as np
        from keras import ops

        HERE = os.path.dirname(os.path.abspath(__file__))
        VOCAB, CONTEXT, LAYERS, HEADS, EMBED = \(c.vocab), \(c.context), \(c.layers), \(c.heads), \(c.embed)


        class CausalSelfAttention(keras.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.c_attn = keras.layers.Dense(3 * EMBED, name="c_attn")
                self.c_proj = keras.layers.Dense(EMBED, name="c_proj")

            def call(self, x):
                b, t = ops.shape(x)[0], ops.shape(x)[1]
                q, k, v = ops.split(self.c_attn(x), 3, axis=-1)
                q, k, v = (ops.transpose(ops.reshape(z, (b, t, HEADS, EMBED // HEADS)), (0, 2, 1, 3)) for z in (q, k, v))
                scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) / math.sqrt(EMBED // HEADS)
                causal = ops.cast(ops.tril(ops.ones((t, t))), "bool")
                weights = ops.softmax(ops.where(causal, scores, float("-inf")), axis=-1)
                y = ops.reshape(ops.transpose(ops.matmul(weights, v), (0, 2, 1, 3)), (b, t, EMBED))
                return self.c_proj(y)


        class Block(keras.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.ln_1 = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_1")
                self.attn = CausalSelfAttention(name="attn")
                self.ln_2 = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_2")
                self.c_fc = keras.layers.Dense(4 * EMBED, name="c_fc")
                self.c_proj = keras.layers.Dense(EMBED, name="c_proj")

            def call(self, x):
                x = x + self.attn(self.ln_1(x))
                return x + self.c_proj(keras.activations.gelu(self.c_fc(self.ln_2(x)), approximate=True))


        class GPT(keras.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.wte = keras.layers.Embedding(VOCAB, EMBED, name="wte")
                self.wpe = keras.layers.Embedding(CONTEXT, EMBED, name="wpe")
                self.h = [Block(name="h_%d" % i) for i in range(LAYERS)]
                self.ln_f = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_f")

            def call(self, tokens):
                t = ops.shape(tokens)[1]
                x = self.wte(tokens) + self.wpe(ops.arange(t))
                for block in self.h:
                    x = block(x)
                return ops.matmul(self.ln_f(x), ops.transpose(self.wte.embeddings))


        \(PythonCommon.reader)


        def load(path=None):
            \"\"\"The model with the exported weights.\"\"\"
            net = GPT(name="gpt")
            net(np.zeros((1, 1), dtype="int32"))
            p = read_safetensors(path or os.path.join(HERE, "model.safetensors"))

            def dense(layer, name):
                layer.set_weights([p[name + ".kernel"], p[name + ".bias"]])

            def norm(layer, name):
                layer.set_weights([p[name + ".scale"], p[name + ".bias"]])

            net.wte.set_weights([p["wte.embedding"]])
            net.wpe.set_weights([p["wpe.embedding"]])
            for i, block in enumerate(net.h):
                h = "h.%d." % i
                norm(block.ln_1, h + "ln_1")
                dense(block.attn.c_attn, h + "attn.c_attn")
                dense(block.attn.c_proj, h + "attn.c_proj")
                norm(block.ln_2, h + "ln_2")
                dense(block.c_fc, h + "mlp.c_fc")
                dense(block.c_proj, h + "mlp.c_proj")
            norm(net.ln_f, "ln_f")
            return net


        def generate(net, prompt, new_tokens):
            \"\"\"Greedy decoding: new_tokens times, the most likely next token (the first on a tie) given the last
            CONTEXT tokens, as nanoGPT's generate at temperature 0. Returns the new tokens.\"\"\"
            tokens = [int(t) for t in prompt]
            for _ in range(new_tokens):
                logits = np.asarray(net(np.array([tokens[-CONTEXT:]], dtype="int32")))
                tokens.append(int(np.argmax(logits[0, -1])))
            return tokens[len(prompt):]

        """
    }
}
