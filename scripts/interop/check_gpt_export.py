#!/usr/bin/env python3
"""Runs an export of a Lockstep GPT (lockstep export --reference) inside its framework and
compares it with Lockstep's own answers.

    check_gpt_export.py DIR --framework torch|keras|jax|numpy [--text FILE]

Scores the validation windows of the config recorded in DIR/lockstep-config.toml as
Lockstep's evaluator does (window i holds tokens i*T .. i*T + T of the validation split, the
last floor(n * data.val_fraction) bytes of data.path, at most data.val_windows of them: the
first T are the inputs, the last T the targets), and decodes greedily from the prompt of
DIR/reference.safetensors. Prints one JSON line: the mean cross-entropy per token (nats), the
windows, the greedy tokens, whether they equal Lockstep's, and the largest logit differences
at the prompt's positions.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frameworks  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory")
    parser.add_argument("--framework", required=True, choices=["torch", "keras", "jax", "numpy"])
    parser.add_argument("--text", help="the corpus (default: data.path of the config)")
    args = parser.parse_args()

    module = frameworks.load_module(args.directory)
    with open(os.path.join(args.directory, "lockstep-config.toml")) as f:
        c = frameworks.config_values(f.read())
    reference = module.read_safetensors(os.path.join(args.directory, "reference.safetensors"))
    logits_of, generate = frameworks.language_model(module, args.framework)
    context, vocab = int(c["model.context"]), int(c["model.vocab"])

    text = np.fromfile(args.text or c["data.path"], dtype=np.uint8)
    if c.get("data.val_path"):
        validation = np.fromfile(c["data.val_path"], dtype=np.uint8)
    else:
        validation = text[len(text) - int(len(text) * float(c["data.val_fraction"])):]
    count = (len(validation) - 1) // context
    limit = int(c.get("data.val_windows", "0"))
    if limit > 0:
        count = min(count, limit)
    windows = np.stack([validation[i * context:i * context + context + 1] for i in range(count)]).astype(np.int64)
    logits = logits_of(windows[:, :-1]).astype(np.float64).reshape(-1, vocab)
    targets = windows[:, 1:].reshape(-1)
    top = logits.max(axis=1, keepdims=True)
    log_probs = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
    loss = float(-log_probs[np.arange(len(targets)), targets].mean())

    prompt = [int(t) for t in reference["prompt"]]
    greedy = [int(t) for t in generate(prompt, len(reference["greedy"]))]
    prompt_logits = logits_of(np.array([prompt[-context:]]))[0]
    max_abs, max_rel = frameworks.differences(prompt_logits, reference["prompt_logits"])
    frameworks.report({"framework": args.framework, "val_loss": loss, "windows": count, "greedy": greedy,
                       "greedy_equal": greedy == [int(t) for t in reference["greedy"]],
                       "max_abs_diff": max_abs, "max_rel_diff": max_rel})
    return 0


if __name__ == "__main__":
    sys.exit(main())
