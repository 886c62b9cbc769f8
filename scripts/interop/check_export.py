#!/usr/bin/env python3
"""Runs an export of a Lockstep classifier (lockstep export --reference) inside its framework
and compares it with Lockstep's own answers.

    check_export.py DIR --framework torch|keras|jax|numpy [--data FASHION_MNIST_DIR]

Reads DIR/model.py (the export) and DIR/reference.safetensors (Lockstep's inputs, labels and
logits of its first N evaluation images). With --data, the test images come from the IDX
files there, through the export's own preprocess(); the first N give the logits compared
with Lockstep's, and all of them the test-set accuracy. Without it, the reference inputs are
used. Prints one JSON line: the largest absolute and relative logit differences, the largest
difference of the preprocessed inputs, and the correct predictions out of the count.
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
    parser.add_argument("--data", help="a Fashion-MNIST folder (t10k-*-ubyte.gz)")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    module = frameworks.load_module(args.directory)
    reference = module.read_safetensors(os.path.join(args.directory, "reference.safetensors"))
    n = len(reference["logits"])
    run = frameworks.classifier(module, args.framework)
    channels_last = hasattr(module, "INPUT_SHAPE_CHANNELS_LAST") and len(module.INPUT_SHAPE) == 3

    def as_numpy(x):
        return x.numpy() if hasattr(x, "numpy") else np.asarray(x)

    result = {"framework": args.framework, "examples": n}
    if args.data:
        images = frameworks.idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))
        labels = frameworks.idx(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
        first = module.preprocess(images[:n])
        seen = as_numpy(first)
        if channels_last:
            seen = seen.transpose(0, 3, 1, 2)
        result["inputs_max_diff"] = float(np.abs(seen.reshape(reference["inputs"].shape) - reference["inputs"]).max())
        logits = run(first)
        correct = 0
        for start in range(0, len(images), args.batch):
            batch = run(module.preprocess(images[start:start + args.batch]))
            correct += int((np.argmax(batch, axis=1) == labels[start:start + args.batch]).sum())
        result.update(correct=correct, count=len(images))
    else:
        x = reference["inputs"]
        if channels_last:
            x = x.transpose(0, 2, 3, 1)
        logits = run(x)
        correct = int((np.argmax(logits, axis=1) == reference["labels"]).sum())
        result.update(correct=correct, count=n)
    result["max_abs_diff"], result["max_rel_diff"] = frameworks.differences(logits, reference["logits"])
    result["accuracy"] = result["correct"] / result["count"]
    frameworks.report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
