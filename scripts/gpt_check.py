#!/usr/bin/python3
"""Loads a Lockstep GPT checkpoint into a PyTorch nanoGPT-layout model and scores its
validation windows, as Lockstep's evaluator does.

    gpt_check.py CHECKPOINT [--text FILE] [--windows N]

Reads CHECKPOINT (a safetensors file) with numpy, takes the model's shape and the data's
split from the config recorded in it (model.vocab, context, layers, heads, embed; data.path,
data.val_fraction or data.val_path, data.val_windows), builds the model of scripts/lib/nanogpt.py, and loads the
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
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from checkpoint_check import read_raw  # noqa: E402
from nanogpt import GPT  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "interop"))
from frameworks import config_values  # noqa: E402


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
