#!/usr/bin/env python3
"""Reads a run's TensorBoard folder (lockstep train --tensorboard DIR) with TensorBoard's own
EventAccumulator and compares it with the run's JSON Lines file (--metrics FILE).

    check_tensorboard.py DIR METRICS.jsonl

Every numeric value of a JSON Lines record must be a scalar in the event files, under the tag
train/<key> (or val/<key without val_> for an evaluation), at the record's step, equal to the
value rounded to float32, and the event files must hold nothing else. Prints one JSON line:
the tags, the scalars compared, and the mismatches (empty when all agree).
"""
import json
import sys

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

FIXED = {"kind", "step", "epoch", "wall_s", "time"}


def main():
    directory, metrics = sys.argv[1], sys.argv[2]
    expected = {}
    with open(metrics) as f:
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            for key, value in record.items():
                if key in FIXED or value is None:
                    continue
                tag = "train/" + key if record["kind"] == "train" else "val/" + key[len("val_"):] if key.startswith("val_") else "val/" + key
                expected.setdefault(tag, []).append((record["step"], float(np.float32(value))))
    accumulator = EventAccumulator(directory, size_guidance={"scalars": 0})
    accumulator.Reload()
    tags = sorted(accumulator.Tags()["scalars"])
    mismatches = []
    compared = 0
    for tag in sorted(set(tags) | set(expected)):
        seen = [(e.step, float(np.float32(e.value))) for e in accumulator.Scalars(tag)] if tag in tags else []
        want = expected.get(tag, [])
        compared += len(want)
        if seen != want:
            mismatches.append({"tag": tag, "tensorboard": seen[:5], "jsonl": want[:5], "counts": [len(seen), len(want)]})
    print(json.dumps({"tags": tags, "scalars": compared, "mismatches": mismatches}, sort_keys=True))
    return 0 if not mismatches else 1


if __name__ == "__main__":
    sys.exit(main())
