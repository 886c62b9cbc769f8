#!/usr/bin/python3
"""Loads a Lockstep GPT checkpoint into a PyTorch nanoGPT-layout model and scores its
validation windows, as Lockstep's evaluator does.

    gpt_check.py CHECKPOINT [--text FILE] [--windows N]

Reads CHECKPOINT (a safetensors file) with numpy, takes the model's shape and the data's
split from the config recorded in it (model.vocab, context, layers, heads, embed; data.path,
data.val_fraction or data.val_path, data.val_windows), builds the model below, and loads the
parameters with `load_state_dict(strict=True)`: the names and layouts are nanoGPT's, weights
[out, in], and the output head is tied to the token embedding, so `lm_head.weight` is wte.

Validation window i holds tokens i*T .. i*T + T of the validation split (the last
floor(n * val_fraction) bytes of the text, or the file data.val_path): the first T are the
inputs, the last T the targets. Prints one JSON line: the mean cross-entropy per token over
the windows (nats), the windows, and the keys load_state_dict found missing or unexpected.
Exits 0, or 1 when the checkpoint does not load, 2 on bad usage.

Needs Debian's python3 with torch (python3-torch) and numpy.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_check import read_raw  # noqa: E402


class Attention(nn.Module):
    def __init__(self, embed, heads):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(embed, 3 * embed)
        self.c_proj = nn.Linear(embed, embed)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.heads)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        y = scores.masked_fill(~causal, float("-inf")).softmax(dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(b, t, c))


class MLP(nn.Module):
    def __init__(self, embed):
        super().__init__()
        self.c_fc = nn.Linear(embed, 4 * embed)
        self.c_proj = nn.Linear(4 * embed, embed)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, embed, heads):
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(embed), Attention(embed, heads)
        self.ln_2, self.mlp = nn.LayerNorm(embed), MLP(embed)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab, context, layers, heads, embed):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, embed), wpe=nn.Embedding(context, embed),
            h=nn.ModuleList(Block(embed, heads) for _ in range(layers)), ln_f=nn.LayerNorm(embed)))
        self.lm_head = nn.Linear(embed, vocab, bias=False)
        self.lm_head.weight = self.transformer.wte.weight

    def forward(self, tokens):
        t = self.transformer
        x = t.wte(tokens) + t.wpe(torch.arange(tokens.shape[1]))
        for block in t.h:
            x = block(x)
        return self.lm_head(t.ln_f(x))


def config_values(text):
    """The canonical config text: one `key = value` line per key."""
    values = {}
    for line in text.splitlines():
        key, _, value = line.partition(" = ")
        values[key] = value.strip('"')
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--text", help="the corpus (default: data.path of the checkpoint's config)")
    parser.add_argument("--windows", type=int, help="the most windows (default: data.val_windows, 0 for all)")
    args = parser.parse_args()

    try:
        _, tensors, metadata, _ = read_raw(args.checkpoint)
    except (OSError, ValueError) as error:
        print(f"{args.checkpoint}: {error}", file=sys.stderr)
        return 1
    c = config_values(metadata["config"])
    if c.get("model.type") != "gpt":
        print(f"{args.checkpoint}: not a GPT checkpoint (model.type = {c.get('model.type')})", file=sys.stderr)
        return 1
    vocab, context = int(c["model.vocab"]), int(c["model.context"])
    model = GPT(vocab, context, int(c["model.layers"]), int(c["model.heads"]), int(c["model.embed"]))
    state = {name: torch.from_numpy(value.copy()) for name, value in tensors.items() if not name.startswith("optim.")}
    state["lm_head.weight"] = state["transformer.wte.weight"]
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        print(json.dumps({"missing": result.missing_keys, "unexpected": result.unexpected_keys}))
        return 1
    model.load_state_dict(state, strict=True)

    text = np.fromfile(args.text or c["data.path"], dtype=np.uint8)
    if c.get("data.val_path"):
        validation = np.fromfile(c["data.val_path"], dtype=np.uint8)
    else:
        validation = text[len(text) - int(len(text) * float(c["data.val_fraction"])):]
    limit = args.windows if args.windows is not None else int(c.get("data.val_windows", "0"))
    count = (len(validation) - 1) // context
    if limit > 0:
        count = min(count, limit)
    windows = torch.from_numpy(np.stack([validation[i * context:i * context + context + 1] for i in range(count)]).astype(np.int64))
    model.eval()
    with torch.no_grad():
        logits = model(windows[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, vocab), windows[:, 1:].reshape(-1), reduction="mean")
    print(json.dumps({"val_loss": float(loss), "windows": count, "missing": [], "unexpected": []}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
