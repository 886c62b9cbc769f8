import NN

/// model.py for PyTorch: an `nn.Module` whose `state_dict` is the export's model.safetensors.
enum PythonTorch {
    static func source(_ model: ExportedModel) -> String {
        switch model.architecture {
        case let .sequential(spec, layers): sequential(model, spec: spec, layers: layers)
        case let .gpt(config): gpt(model, config: config)
        }
    }

    static func sequential(_ model: ExportedModel, spec: ModelSpec, layers: [ResolvedLayer]) -> String {
        var members: [String] = [], steps: [String] = []
        for layer in layers {
            switch layer.spec {
            case let .linear(i, o):
                members.append("self.\(layer.name) = nn.Linear(\(i), \(o))")
                steps.append("x = self.\(layer.name)(x)")
            case let .conv2d(i, o, k, s, p):
                members.append("self.\(layer.name) = nn.Conv2d(\(i), \(o), kernel_size=\(k), stride=\(s), padding=\(p))")
                steps.append("x = self.\(layer.name)(x)")
            case let .maxPool2d(k, s, p): steps.append("x = F.max_pool2d(x, kernel_size=\(k), stride=\(s), padding=\(p))  # \(layer.name)")
            case .relu: steps.append("x = F.relu(x)  # \(layer.name)")
            case .flatten: steps.append("x = torch.flatten(x, 1)  # \(layer.name): (c, h, w) order")
            }
        }
        let header = PythonCommon.header(model, .torch, usage: """
            import model
            net = model.load()                        # an nn.Module in eval mode
            logits = net(model.preprocess(images))    # uint8 images (N, \(spec.inputShape.map(String.init).joined(separator: ", "))) -> (N, \(layers.last!.outputShape[0]))
            """, layouts: "model.safetensors is the state_dict (also: safetensors.torch.load_file), in PyTorch's layouts, which are Lockstep's.")
        return """
        \(header)
        import json
        import os

        import numpy as np
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        HERE = os.path.dirname(os.path.abspath(__file__))
        INPUT_SHAPE = \(PythonCommon.tuple(spec.inputShape))
        CLASSES = \(layers.last!.outputShape[0])


        class Model(nn.Module):
            def __init__(self):
                super().__init__()
        \(members.map { "        " + $0 }.joined(separator: "\n"))

            def forward(self, x):
        \(steps.map { "        " + $0 }.joined(separator: "\n"))
                return x


        \(PythonCommon.reader)


        \(PythonCommon.preprocess(channelsLast: false, tensor: "torch.from_numpy(x)"))


        def load(path=None):
            \"\"\"The model with the exported weights, in eval mode.\"\"\"
            net = Model()
            state = {name: torch.from_numpy(value) for name, value in read_safetensors(path or os.path.join(HERE, "model.safetensors")).items()}
            net.load_state_dict(state, strict=True)
            return net.eval()

        """
    }

    static func gpt(_ model: ExportedModel, config c: GPTConfig) -> String {
        let header = PythonCommon.header(model, .torch, usage: """
            import model
            net = model.load()                              # nanoGPT's GPT, an nn.Module in eval mode
            logits = net(torch.tensor([[1, 2, 3]]))          # (B, t) token ids, t <= \(c.context) -> (B, t, \(c.vocab))
            model.generate(net, [1, 2, 3], 50)              # greedy: the 50 next tokens
            """, layouts: """
            model.safetensors is the state_dict of nanoGPT's layout (also: safetensors.torch.load_file): Linear weights
            [out, in], as Lockstep's; lm_head.weight is a copy of transformer.wte.weight, to which the head is tied.
            """)
        return """
        \(header)
        import json
        import math
        import os

        import numpy as np
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        HERE = os.path.dirname(os.path.abspath(__file__))
        VOCAB, CONTEXT, LAYERS, HEADS, EMBED = \(c.vocab), \(c.context), \(c.layers), \(c.heads), \(c.embed)


        class CausalSelfAttention(nn.Module):
            def __init__(self):
                super().__init__()
                self.c_attn = nn.Linear(EMBED, 3 * EMBED)
                self.c_proj = nn.Linear(EMBED, EMBED)

            def forward(self, x):
                b, t, c = x.shape
                q, k, v = self.c_attn(x).split(c, dim=2)
                q, k, v = (z.view(b, t, HEADS, c // HEADS).transpose(1, 2) for z in (q, k, v))
                scores = (q @ k.transpose(-2, -1)) / math.sqrt(c // HEADS)
                causal = torch.ones(t, t, dtype=torch.bool).tril()
                y = scores.masked_fill(~causal, float("-inf")).softmax(dim=-1) @ v
                return self.c_proj(y.transpose(1, 2).reshape(b, t, c))


        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.c_fc = nn.Linear(EMBED, 4 * EMBED)
                self.c_proj = nn.Linear(4 * EMBED, EMBED)

            def forward(self, x):
                return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.ln_1, self.attn = nn.LayerNorm(EMBED), CausalSelfAttention()
                self.ln_2, self.mlp = nn.LayerNorm(EMBED), MLP()

            def forward(self, x):
                x = x + self.attn(self.ln_1(x))
                return x + self.mlp(self.ln_2(x))


        class GPT(nn.Module):
            def __init__(self):
                super().__init__()
                self.transformer = nn.ModuleDict(dict(
                    wte=nn.Embedding(VOCAB, EMBED), wpe=nn.Embedding(CONTEXT, EMBED),
                    h=nn.ModuleList(Block() for _ in range(LAYERS)), ln_f=nn.LayerNorm(EMBED)))
                self.lm_head = nn.Linear(EMBED, VOCAB, bias=False)
                self.lm_head.weight = self.transformer.wte.weight

            def forward(self, tokens):
                t = self.transformer
                x = t.wte(tokens) + t.wpe(torch.arange(tokens.shape[1]))
                for block in t.h:
                    x = block(x)
                return self.lm_head(t.ln_f(x))


        \(PythonCommon.reader)


        def load(path=None):
            \"\"\"The model with the exported weights, in eval mode.\"\"\"
            net = GPT()
            state = {name: torch.from_numpy(value) for name, value in read_safetensors(path or os.path.join(HERE, "model.safetensors")).items()}
            net.load_state_dict(state, strict=True)
            return net.eval()


        def generate(net, prompt, new_tokens):
            \"\"\"Greedy decoding: new_tokens times, the most likely next token (the first on a tie) given the last
            CONTEXT tokens, as nanoGPT's generate at temperature 0. Returns the new tokens.\"\"\"
            tokens = [int(t) for t in prompt]
            with torch.no_grad():
                for _ in range(new_tokens):
                    logits = net(torch.tensor([tokens[-CONTEXT:]], dtype=torch.long))
                    tokens.append(int(torch.argmax(logits[0, -1])))
            return tokens[len(prompt):]

        """
    }
}
