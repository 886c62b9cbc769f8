"""Shared by the interop checks: loading an export's model.py and running it in its framework.

Each check runs inside one framework's interpreter: PyTorch in Debian's /usr/bin/python3
(python3-torch 1.13), Keras 3 on TensorFlow and JAX in .venv-interop (scripts/install-interop),
numpy in either.
"""
import gzip
import importlib.util
import json
import os
import sys

import numpy as np


def idx(path):
    """A gzip'd IDX file (Fashion-MNIST's format) as a numpy array of its shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_module(directory):
    """The export's model.py, imported from its folder as a fresh module."""
    path = os.path.join(directory, "model.py")
    spec = importlib.util.spec_from_file_location("exported_model_%d" % abs(hash(directory)), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def classifier(module, framework):
    """A function from preprocessed inputs to numpy logits, in the framework."""
    if framework == "torch":
        import torch
        torch.set_num_threads(1)
        net = module.load()

        def run(x):
            with torch.no_grad():
                return net(torch.as_tensor(x)).numpy()
        return run
    if framework == "keras":
        net = module.load()
        return lambda x: np.asarray(net(x, training=False))
    if framework == "jax":
        import jax
        params, forward = module.load(), jax.jit(module.forward)
        return lambda x: np.asarray(forward(params, x))
    if framework == "numpy":
        params = module.load()
        return lambda x: module.forward(params, x)
    raise SystemExit("unknown framework %s" % framework)


def language_model(module, framework):
    """(logits of a (B, t) batch of ids as numpy, greedy continuation) in the framework."""
    if framework == "torch":
        import torch
        torch.set_num_threads(1)
        net = module.load()

        def logits(tokens):
            with torch.no_grad():
                return net(torch.from_numpy(np.asarray(tokens, dtype=np.int64))).numpy()
        return logits, lambda prompt, n: module.generate(net, prompt, n)
    if framework == "keras":
        net = module.load()
        return (lambda tokens: np.asarray(net(np.asarray(tokens, dtype=np.int32))),
                lambda prompt, n: module.generate(net, prompt, n))
    if framework in ("jax", "numpy"):
        params = module.load()
        return (lambda tokens: np.asarray(module.forward(params, np.asarray(tokens, dtype=np.int32))),
                lambda prompt, n: module.generate(params, prompt, n))
    raise SystemExit("no language-model export for %s" % framework)


def differences(actual, expected):
    """The largest |a - e|, and the largest |a - e| / max(|e|, 1): the relative difference,
    absolute for values under 1."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    diff = np.abs(actual - expected)
    return float(diff.max()), float((diff / np.maximum(np.abs(expected), 1.0)).max())


def config_values(text):
    """A canonical config (lockstep-config.toml): one `key = value` line per key."""
    values = {}
    for line in text.splitlines():
        key, _, value = line.partition(" = ")
        values[key] = value.strip('"')
    return values


def report(result):
    print(json.dumps(result, sort_keys=True))
    sys.stdout.flush()
