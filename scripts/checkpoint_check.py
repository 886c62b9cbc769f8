#!/usr/bin/env python3
"""Checks that a Lockstep checkpoint reads in Python exactly as Lockstep reads it.

    checkpoint_check.py CHECKPOINT [--lockstep BIN] [--reader auto|safetensors|numpy]

Loads CHECKPOINT (a safetensors file) in Python, with the `safetensors` package if it is
importable (or --reader safetensors), otherwise by parsing the format with numpy alone:
8 bytes little-endian header length, a JSON header, then raw little-endian data. Then it runs
`lockstep checkpoint inspect --json CHECKPOINT` and compares, tensor by tensor:

  - names (and their order in the data section), dtypes and shapes;
  - each tensor's sum (float64) and its first values (bit for bit as float32);
  - the string metadata;
  - Lockstep's checksums, recomputed in Python: SHA-256 of the data section
    (data_sha256) and of the sorted key=value metadata lines (metadata_sha256).

Exits 0 when everything matches, 1 with one line per problem otherwise, 2 on bad usage.
Needs Python 3 with numpy (Debian: python3-numpy); `safetensors` is optional.
"""
import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np


def read_raw(path):
    """Parses the safetensors file with the standard library and numpy only."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes, too short for a safetensors file")
    (length,) = struct.unpack("<Q", raw[:8])
    if 8 + length > len(raw):
        raise ValueError(f"{path}: header length {length} does not fit {len(raw)} bytes")
    header = json.loads(raw[8:8 + length])
    metadata = header.pop("__metadata__", {}) or {}
    data = raw[8 + length:]
    order = sorted(header, key=lambda name: header[name]["data_offsets"][0])
    tensors = {}
    for name in order:
        entry = header[name]
        if entry["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {entry['dtype']}, Lockstep writes F32")
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(entry["shape"])
    return order, tensors, metadata, data


def read_safetensors(path):
    """Loads the file with the safetensors package (as PyTorch, JAX and numpy users do)."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    tensors = load_file(path)
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata() or {}
    return tensors, metadata


def find_lockstep(explicit):
    candidates = [explicit, os.environ.get("LOCKSTEP_BIN"), shutil.which("lockstep"),
                  os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "lockstep")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--lockstep", help="the lockstep binary (default: $LOCKSTEP_BIN, PATH, .build/release)")
    parser.add_argument("--reader", choices=["auto", "safetensors", "numpy"], default="auto")
    args = parser.parse_args()

    lockstep = find_lockstep(args.lockstep)
    if lockstep is None:
        print("checkpoint_check: cannot find the lockstep binary; pass --lockstep BIN", file=sys.stderr)
        return 2

    reader = args.reader
    if reader == "auto":
        try:
            import safetensors  # noqa: F401
            reader = "safetensors"
        except ImportError:
            reader = "numpy"

    problems = []
    try:
        order, raw_tensors, raw_metadata, data = read_raw(args.checkpoint)
        if reader == "safetensors":
            tensors, metadata = read_safetensors(args.checkpoint)
        else:
            tensors, metadata = raw_tensors, raw_metadata
    except Exception as error:  # a file Python cannot read is a failed check, with the reason
        print(f"checkpoint_check: FAIL: cannot read {args.checkpoint} with {reader}: {error}")
        return 1

    inspect = subprocess.run([lockstep, "checkpoint", "inspect", "--json", args.checkpoint],
                             capture_output=True, text=True)
    if inspect.returncode != 0:
        print(f"checkpoint_check: FAIL: lockstep checkpoint inspect exited {inspect.returncode}: {inspect.stderr.strip()}")
        problems.append("inspect")
    else:
        report = json.loads(inspect.stdout)
        theirs = [t["name"] for t in report["tensors"]]
        if theirs != order:
            problems.append(f"tensor order: lockstep {theirs}, file {order}")
        if sorted(tensors) != sorted(theirs):
            problems.append(f"tensor names: {reader} reads {sorted(tensors)}, lockstep {sorted(theirs)}")
        for t in report["tensors"]:
            name = t["name"]
            if name not in tensors:
                continue
            values = np.asarray(tensors[name])
            if values.dtype != np.float32 or t["dtype"] != "F32":
                problems.append(f"{name}: dtype {values.dtype} in Python, {t['dtype']} in lockstep")
            if list(values.shape) != list(t["shape"]):
                problems.append(f"{name}: shape {list(values.shape)} in Python, {t['shape']} in lockstep")
                continue
            flat = values.reshape(-1)
            total = float(flat.astype(np.float64).sum())
            scale = float(np.abs(flat.astype(np.float64)).sum())
            if abs(total - t["sum"]) > 1e-9 * scale + 1e-12:
                problems.append(f"{name}: sum {total!r} in Python, {t['sum']!r} in lockstep")
            first = np.array(t["first"], dtype=np.float64).astype(np.float32)
            if first.size != min(4, flat.size) or first.tobytes() != flat[:first.size].tobytes():
                problems.append(f"{name}: first values {flat[:4].tolist()} in Python, {t['first']} in lockstep")
            if not np.isfinite(flat).all():
                problems.append(f"{name}: holds non-finite values")
        if report["metadata"] != metadata:
            keys = sorted(set(report["metadata"]) ^ set(metadata)) or \
                sorted(k for k in metadata if metadata[k] != report["metadata"].get(k))
            problems.append(f"metadata differs from lockstep's at {keys}")

    # Lockstep's own checksums, recomputed independently.
    digest = hashlib.sha256(data).hexdigest()
    if raw_metadata.get("data_sha256") != digest:
        problems.append(f"data_sha256: the data section hashes to {digest}, the metadata says {raw_metadata.get('data_sha256')}")
    lines = "\n".join(f"{k}={raw_metadata[k]}" for k in sorted(raw_metadata) if k != "metadata_sha256")
    digest = hashlib.sha256(lines.encode()).hexdigest()
    if raw_metadata.get("metadata_sha256") != digest:
        problems.append(f"metadata_sha256: the metadata hashes to {digest}, recorded {raw_metadata.get('metadata_sha256')}")

    for problem in problems:
        print(f"checkpoint_check: FAIL: {problem}")
    if problems:
        return 1
    print(f"checkpoint_check: {args.checkpoint}: {len(order)} tensors (reader: {reader}, numpy {np.__version__}); "
          f"names, shapes, sums, first values, metadata and checksums match lockstep checkpoint inspect")
    return 0


if __name__ == "__main__":
    sys.exit(main())
