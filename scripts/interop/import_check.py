#!/usr/bin/python3
"""The import check of train.init_from, in PyTorch (Debian's python3-torch) with the
safetensors package.

    import_check.py make OUT.safetensors [--seed N] [--dtype float32|float64|float16]
    import_check.py compare INIT.safetensors CHECKPOINT --data DIR --batch N --lr LR [--momentum M]

`make` builds the Fashion-MNIST MLP of Configs/fashion-mlp.toml (784-1024-1024-10, PyTorch's
default initialisation, seeded) as an nn.Module whose state_dict names are Lockstep's (fc1,
fc2, fc3), and saves its state_dict with safetensors.torch.save_file.

`compare` loads INIT.safetensors into that module, takes one step of torch.optim.SGD on the
first N training images (the mean cross-entropy), and compares the result with the parameters
of CHECKPOINT, which Lockstep wrote after one step from the same file. Prints one JSON line:
the largest absolute and relative differences (|a - e| / max(|e|, 1)) over every parameter,
the checkpoint's step and optimizer steps, and how far the step moved the weights.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frameworks  # noqa: E402


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 1024)
        self.fc2 = nn.Linear(1024, 1024)
        self.fc3 = nn.Linear(1024, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make")
    make.add_argument("out")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--dtype", default="float32", choices=["float32", "float64", "float16"])
    compare = sub.add_parser("compare")
    compare.add_argument("init")
    compare.add_argument("checkpoint")
    compare.add_argument("--data", required=True)
    compare.add_argument("--batch", type=int, required=True)
    compare.add_argument("--lr", type=float, required=True)
    compare.add_argument("--momentum", type=float, default=0.0)
    args = parser.parse_args()
    torch.set_num_threads(1)

    if args.command == "make":
        torch.manual_seed(args.seed)
        model = MLP().to(getattr(torch, args.dtype))
        save_file(model.state_dict(), args.out)
        print(json.dumps({"tensors": list(model.state_dict()), "dtype": args.dtype}))
        return 0

    model = MLP()
    model.load_state_dict(load_file(args.init), strict=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images = frameworks.idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"))[:args.batch]
    labels = frameworks.idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"))[:args.batch]
    x = torch.from_numpy(images.astype(np.float32) * np.float32(1.0 / 255.0))
    y = torch.from_numpy(labels.astype(np.int64))
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    optimizer.step()

    lockstep = load_file(args.checkpoint)
    with open(args.checkpoint, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        metadata = json.loads(f.read(n))["__metadata__"]
    worst_abs = worst_rel = moved = 0.0
    for name, value in model.state_dict().items():
        mine, theirs = value.double(), lockstep[name].double()
        diff = (mine - theirs).abs()
        worst_abs = max(worst_abs, float(diff.max()))
        worst_rel = max(worst_rel, float((diff / theirs.abs().clamp(min=1.0)).max()))
        moved = max(moved, float((mine - before[name].double()).abs().max()))
    print(json.dumps({"max_abs_diff": worst_abs, "max_rel_diff": worst_rel, "step": int(metadata["step"]),
                      "optimizer_steps": int(metadata["optimizer.steps"]), "largest_change": moved}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
