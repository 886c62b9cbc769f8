"""PyTorch DDP reference for `lockstep bench compare`: the model, optimizer, data and sampler
of a Lockstep TOML config, trained with PyTorch 1.13 DistributedDataParallel over gloo.

Run it with Debian's Python (torch and numpy are Debian packages; tomllib needs 3.11), one
process per rank under the same mpirun as Lockstep:

  mpirun -np 2 --bind-to core /usr/bin/python3 scripts/bench/torch_reference.py \
      --config Configs/fashion-mlp.toml --port 29533 --steps 200 --warmup 3 --json out.json
  mpirun -np 2 --bind-to core /usr/bin/python3 scripts/bench/torch_reference.py \
      --config Configs/fashion-mlp.toml --port 29533 --target-accuracy 0.88 --eval-every 117 \
      --max-epochs 20 --json out.json

Ranks come from OMPI_COMM_WORLD_RANK/SIZE (or RANK/WORLD_SIZE); rendezvous at
127.0.0.1:--port. One intra-op thread per rank. What it shares with Lockstep:

- model: nn.Sequential built from model.layers (flatten, linear, conv2d, maxpool2d, relu),
  PyTorch's default initialisation (the same uniform bounds Lockstep uses), seeded with
  train.seed; DDP broadcasts rank 0's parameters. DDP keeps its default buckets.
- optimizer: SGD (lr, momentum, nesterov, weight_decay) or AdamW (lr, beta1, beta2, eps,
  weight_decay), with Lockstep's schedule (warmup, step, cosine, linear scaling) applied per step.
- data: the IDX files of data.path, held as one float32 tensor (x / 255), as typical PyTorch
  code does; labels int64.
- order: DistributedSampler semantics: per epoch torch.randperm(n) seeded with train.seed +
  epoch, padded to world * ceil(n / world), rank r takes positions r, r + world, ...;
  train.batch per rank, train.accumulate micro-batches per step (DDP no_sync between them),
  whole steps only.
- evaluation: the full test set, rank r taking samples r, r + world, ... (no padding), in
  batches of train.batch, with one all-reduce of (correct, loss sum, count): every test
  sample counts once.

Modes:
- throughput (--steps N --warmup W): W untimed steps, then N timed between barriers;
  samples_per_s = N * global batch / wall seconds; step_ms_median over the timed steps (rank 0).
- time to accuracy (--target-accuracy A --eval-every K --max-epochs E): evaluates every K steps
  and at each epoch's end (K = 0: epoch ends only), as Lockstep does; time_to_target_s runs from
  the first step to the end of the first evaluation reaching A, evaluations included.

Rank 0 prints one JSON line and, with --json F, writes it to F. peak_rss_mb is the largest
ru_maxrss over the ranks. Errors are one line on stderr; bad arguments or configs exit 2.
"""
import argparse
import datetime
import gzip
import json
import math
import os
import resource
import statistics
import struct
import sys
import time

PROG = "torch_reference"


class Usage(Exception):
    """A usage or config error: exit 2."""


def fail(message, code, rank=0):
    if rank == 0:
        sys.stderr.write(f"{PROG}: error: {' '.join(str(message).split())}\n")
    leave(code)


def leave(code):
    """Exits at once: torch 1.13's TCPStore server thread can spin forever once a peer has
    gone, and interpreter shutdown (or destroy_process_group) then waits for it."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# ---------------------------------------------------------------------------------------------
# The config: the keys of Lockstep's schema this reference uses, with Lockstep's defaults.

DEFAULTS = {
    "data.dataset": "fashion-mnist",
    "data.path": "/usr/share/datasets/fashion-mnist",
    "train.epochs": 1, "train.steps": 0, "train.batch": 128, "train.seed": 0, "train.accumulate": 1,
    "train.shuffle": True,
    "optimizer.name": "sgd", "optimizer.lr": 0.05, "optimizer.momentum": 0.0, "optimizer.nesterov": False,
    "optimizer.weight_decay": 0.0, "optimizer.beta1": 0.9, "optimizer.beta2": 0.999, "optimizer.eps": 1e-8,
    "schedule.name": "constant", "schedule.warmup_steps": 0, "schedule.step_every": 1000, "schedule.gamma": 0.1,
    "schedule.min_lr": 0.0, "schedule.linear_scaling": False, "schedule.base_batch": 256,
}


def load_config(path):
    import tomllib
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise Usage(f"{path}: no such file")
    except tomllib.TOMLDecodeError as e:
        raise Usage(f"{path}: {e}")
    cfg = dict(DEFAULTS)
    for section in ("data", "train", "optimizer", "schedule"):
        for key, value in (doc.get(section) or {}).items():
            cfg[f"{section}.{key}"] = value
    model = doc.get("model") or {}
    if "layers" not in model or "input" not in model:
        raise Usage(f"{path}: model.input and model.layers are required")
    cfg["model.name"] = model.get("name", "model")
    cfg["model.input"] = list(model["input"])
    cfg["model.layers"] = list(model["layers"])
    if cfg["data.dataset"] != "fashion-mnist":
        raise Usage(f"{path}: data.dataset = \"{cfg['data.dataset']}\": the reference reads fashion-mnist IDX files only")
    if cfg["optimizer.name"] not in ("sgd", "adamw"):
        raise Usage(f"{path}: optimizer.name must be sgd or adamw, got {cfg['optimizer.name']}")
    for key in ("train.batch", "train.accumulate"):
        if int(cfg[key]) < 1:
            raise Usage(f"{path}: {key} must be positive, got {cfg[key]}")
    return cfg


def build_model(cfg, source):
    import torch.nn as nn
    layers = []
    for i, spec in enumerate(cfg["model.layers"]):
        kind = spec.get("type")

        def need(key):
            if key not in spec:
                raise Usage(f"{source}: model.layers[{i}] ({kind}) needs {key}")
            return int(spec[key])

        if kind == "flatten":
            layers.append(nn.Flatten())
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind == "linear":
            layers.append(nn.Linear(need("in"), need("out")))
        elif kind == "conv2d":
            layers.append(nn.Conv2d(need("in"), need("out"), need("kernel"),
                                    stride=int(spec.get("stride", 1)), padding=int(spec.get("padding", 0))))
        elif kind == "maxpool2d":
            kernel = need("kernel")
            stride = int(spec.get("stride", 0)) or kernel
            layers.append(nn.MaxPool2d(kernel, stride=stride, padding=int(spec.get("padding", 0))))
        else:
            raise Usage(f"{source}: model.layers[{i}]: unknown type {kind!r} (use flatten, linear, conv2d, maxpool2d, relu)")
    return nn.Sequential(*layers)


def build_optimizer(cfg, params):
    import torch
    lr = float(cfg["optimizer.lr"])
    wd = float(cfg["optimizer.weight_decay"])
    if cfg["optimizer.name"] == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=(float(cfg["optimizer.beta1"]), float(cfg["optimizer.beta2"])),
                                 eps=float(cfg["optimizer.eps"]), weight_decay=wd)
    return torch.optim.SGD(params, lr=lr, momentum=float(cfg["optimizer.momentum"]),
                           nesterov=bool(cfg["optimizer.nesterov"]), weight_decay=wd)


class Schedule:
    """Lockstep's LRSchedule: linear warmup, then constant, step or cosine decay (0-based steps)."""

    def __init__(self, cfg, total_steps, global_batch):
        self.base = float(cfg["optimizer.lr"])
        if cfg["schedule.linear_scaling"]:
            self.base *= global_batch / int(cfg["schedule.base_batch"])
        self.name = cfg["schedule.name"]
        self.warmup = int(cfg["schedule.warmup_steps"])
        self.every = int(cfg["schedule.step_every"])
        self.gamma = float(cfg["schedule.gamma"])
        self.min_lr = float(cfg["schedule.min_lr"])
        self.total = total_steps
        self.constant = self.name == "constant" and self.warmup == 0

    def lr(self, step):
        if step < self.warmup:
            return self.base * (step + 1) / self.warmup
        if self.name == "step":
            return self.base * self.gamma ** (step // self.every)
        if self.name == "cosine":
            t = min((step - self.warmup) / max(self.total - self.warmup, 1), 1.0)
            return self.min_lr + (self.base - self.min_lr) * 0.5 * (1 + math.cos(math.pi * t))
        return self.base


# ---------------------------------------------------------------------------------------------
# Data.

def load_idx(path):
    import numpy as np
    for candidate in (path + ".gz", path):
        if os.path.exists(candidate):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(candidate, "rb") as f:
                raw = f.read()
            magic, = struct.unpack(">I", raw[:4])
            ndim = magic & 0xFF
            dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
            return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    raise Usage(f"{path}.gz: not found (install Debian's dataset-fashion-mnist, or set data.path)")


def load_split(directory, prefix, shape):
    import numpy as np
    import torch
    images = load_idx(f"{directory}/{prefix}-images-idx3-ubyte")
    labels = load_idx(f"{directory}/{prefix}-labels-idx1-ubyte")
    x = torch.from_numpy(images.astype(np.float32) / 255.0).reshape(images.shape[0], *shape)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def epoch_indices(n, world, rank, epoch, seed, shuffle):
    """DistributedSampler (drop_last=False): the epoch's order padded to world * ceil(n / world), rank::world."""
    import torch
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch)) if shuffle else torch.arange(n)
    total = world * ((n + world - 1) // world)
    if total > n:
        order = torch.cat([order, order[:total - n]])
    return order[rank:total:world]


# ---------------------------------------------------------------------------------------------
# Training and evaluation.

def evaluate(model, x, y, rank, world, batch):
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    idx = torch.arange(rank, x.shape[0], world)
    correct, loss_sum = 0, 0.0
    model.eval()
    with torch.no_grad():
        for start in range(0, idx.shape[0], batch):
            b = idx[start:start + batch]
            logits = model(x[b])
            loss_sum += float(F.cross_entropy(logits, y[b], reduction="sum"))
            correct += int((logits.argmax(dim=1) == y[b]).sum())
    model.train()
    totals = torch.tensor([float(correct), loss_sum, float(idx.shape[0])], dtype=torch.float64)
    dist.all_reduce(totals)
    count = max(float(totals[2]), 1.0)
    return float(totals[0]) / count, float(totals[1]) / count


def finite(v):
    return v if v is not None and math.isfinite(v) else None


def main():
    p = argparse.ArgumentParser(prog=PROG, description="PyTorch DDP (gloo) reference run of a Lockstep config.")
    p.add_argument("--config", required=True, help="the Lockstep TOML config")
    p.add_argument("--port", type=int, default=29533, help="rendezvous port on 127.0.0.1")
    p.add_argument("--steps", type=int, default=200, help="throughput mode: timed steps")
    p.add_argument("--warmup", type=int, default=20, help="throughput mode: untimed steps before them")
    p.add_argument("--target-accuracy", type=float, help="time-to-accuracy mode: stop at this test accuracy (0..1)")
    p.add_argument("--eval-every", type=int, default=0, help="time-to-accuracy mode: evaluate every K steps (0: at epoch ends)")
    p.add_argument("--max-epochs", type=int, default=20, help="time-to-accuracy mode: give up after this many epochs")
    p.add_argument("--json", help="write the result here (rank 0)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads per rank")
    a = p.parse_args()

    rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("RANK", 0)))
    world = int(os.environ.get("OMPI_COMM_WORLD_SIZE", os.environ.get("WORLD_SIZE", 1)))
    try:
        if a.steps < 1 or a.warmup < 0:
            raise Usage("--steps must be positive and --warmup non-negative")
        if a.target_accuracy is not None and not 0 < a.target_accuracy <= 1:
            raise Usage(f"--target-accuracy must be in (0, 1], got {a.target_accuracy}")
        if a.eval_every < 0 or a.max_epochs < 1:
            raise Usage("--eval-every must be non-negative and --max-epochs positive")
        if not 0 < a.port < 65536:
            raise Usage(f"--port must be in 1..65535, got {a.port}")
        cfg = load_config(a.config)
    except Usage as e:
        fail(e, 2, rank)

    wall_start = time.perf_counter()
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    import torch.nn.functional as F

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(a.port)
    torch.set_num_threads(a.threads)
    seed = int(cfg["train.seed"])
    torch.manual_seed(seed)
    try:
        net = build_model(cfg, a.config)
        shape = [int(d) for d in cfg["model.input"]]
        x, y = load_split(cfg["data.path"], "train", shape)
        tx, ty = load_split(cfg["data.path"], "t10k", shape)
    except Usage as e:
        fail(e, 2, rank)
    except RuntimeError as e:  # images that do not take model.input's shape
        fail(f"{a.config}: {e}", 2, rank)

    # The rendezvous store is made here, not by init_process_group, to say goodbye through it at the end.
    store = dist.TCPStore("127.0.0.1", a.port, world, rank == 0, timeout=datetime.timedelta(seconds=300))
    dist.init_process_group("gloo", store=store, rank=rank, world_size=world)
    model = nn.parallel.DistributedDataParallel(net)
    opt = build_optimizer(cfg, model.parameters())
    batch, accumulate = int(cfg["train.batch"]), int(cfg["train.accumulate"])
    global_batch = batch * accumulate * world
    n = x.shape[0]
    steps_per_epoch = ((n + world - 1) // world) // (batch * accumulate)
    if steps_per_epoch < 1:
        fail(f"train.batch x accumulate = {batch * accumulate} per rank exceeds the training samples each of {world} ranks gets", 2, rank)
    accuracy_mode = a.target_accuracy is not None
    total_steps = a.max_epochs * steps_per_epoch if accuracy_mode else a.warmup + a.steps
    schedule = Schedule(cfg, total_steps, global_batch)
    shuffle = bool(cfg["train.shuffle"])

    epoch, epoch_step = 0, 0
    indices = epoch_indices(n, world, rank, epoch, seed, shuffle)
    step_times, evals = [], []
    time_to_target, loss = None, None
    t0 = None

    def train_step():
        nonlocal loss
        if not schedule.constant:
            for group in opt.param_groups:
                group["lr"] = schedule.lr(step)
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for micro in range(accumulate):
            first = (epoch_step * accumulate + micro) * batch
            idx = indices[first:first + batch]
            if micro < accumulate - 1:
                with model.no_sync():
                    part = F.cross_entropy(model(x[idx]), y[idx]) / accumulate
                    part.backward()
            else:
                part = F.cross_entropy(model(x[idx]), y[idx]) / accumulate
                part.backward()
            total += float(part.detach())
        opt.step()
        loss = total

    dist.barrier()
    train_start = time.perf_counter()
    for step in range(total_steps):
        if epoch_step == steps_per_epoch:
            epoch, epoch_step = epoch + 1, 0
            indices = epoch_indices(n, world, rank, epoch, seed, shuffle)
        if not accuracy_mode and step == a.warmup:
            dist.barrier()
            t0 = time.perf_counter()
        s0 = time.perf_counter()
        train_step()
        step_times.append(time.perf_counter() - s0)
        epoch_step += 1
        if accuracy_mode:
            done = step + 1
            if (a.eval_every > 0 and done % a.eval_every == 0) or epoch_step == steps_per_epoch or done == total_steps:
                acc, test_loss = evaluate(model.module, tx, ty, rank, world, batch)
                elapsed = time.perf_counter() - train_start
                evals.append({"step": done, "accuracy": acc, "loss": finite(test_loss), "elapsed_s": elapsed})
                if acc >= a.target_accuracy:
                    time_to_target = elapsed
                    break
    dist.barrier()
    end = time.perf_counter()
    steps_done = len(step_times)

    if accuracy_mode:
        timed = step_times
        samples_per_s = steps_done * global_batch / sum(timed) if timed else 0.0
        acc, test_loss = evals[-1]["accuracy"], evals[-1]["loss"]
    else:
        timed = step_times[a.warmup:]
        samples_per_s = a.steps * global_batch / (end - t0)
        acc, test_loss = evaluate(model.module, tx, ty, rank, world, batch)
    rss = torch.tensor([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0], dtype=torch.float64)
    rss_rank0 = float(rss[0])
    dist.all_reduce(rss, op=dist.ReduceOp.MAX)

    if rank == 0:
        result = {
            "system": "pytorch", "peer": "torch-ddp-gloo", "torch": torch.__version__, "python": sys.version.split()[0],
            "mode": "accuracy" if accuracy_mode else "throughput", "config": a.config, "model": cfg["model.name"],
            "world": world, "batch_per_rank": batch, "accumulate": accumulate, "global_batch": global_batch,
            "threads": torch.get_num_threads(), "dataset_dtype": str(x.dtype).replace("torch.", ""),
            "steps": steps_done, "timed_steps": len(timed), "warmup": 0 if accuracy_mode else a.warmup,
            "epochs": epoch + 1, "steps_per_epoch": steps_per_epoch,
            "samples_per_s": samples_per_s,
            "step_ms_median": 1000 * statistics.median(timed) if timed else 0.0,
            "step_ms_mean": 1000 * statistics.fmean(timed) if timed else 0.0,
            "final_loss": finite(loss), "test_accuracy": acc, "test_loss": finite(test_loss),
            "target_accuracy": a.target_accuracy, "eval_every": a.eval_every if accuracy_mode else None,
            "time_to_target_s": time_to_target, "eval_history": evals,
            "train_s": end - train_start, "wall_s": time.perf_counter() - wall_start,
            "peak_rss_mb": float(rss[0]), "peak_rss_mb_rank0": rss_rank0,
        }
        text = json.dumps(result, allow_nan=False)
        print(text, flush=True)
        if a.json:
            try:
                with open(a.json, "w") as f:
                    f.write(text + "\n")
            except OSError as e:
                fail(f"{a.json}: cannot write: {e.strerror}", 1)
    # Every rank is done with gloo once the others have told rank 0 (whose process serves the
    # store) so through it; then each leaves without tearing torch down (see leave).
    dist.barrier()
    if rank != 0:
        store.set(f"done/{rank}", "1")
    else:
        store.wait([f"done/{r}" for r in range(1, world)])
    leave(0)


if __name__ == "__main__":
    main()
