"""A stand-in for the peers of scripts/bench/peers, for its tests: it takes the options a real
peer takes, a GPT's (--corpus FILE --steps N --batch B --layers L --heads H --embed C
--context T, and --warmup, --sdpa) or an image model's (--model mlp|cnn --steps N --batch B),
and prints, on rank 0, the one JSON line a real peer prints, with made-up speeds. It imports
nothing beyond the standard library: no torch, no numpy, no MPI.

Each rank sleeps --step-ms per step (default 5) and touches --rss-mb MB (default 8), so the
harness has a time and a resident set to measure. --fail N exits with status N instead.
"""
import argparse, json, os, sys, time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "cnn"])
    p.add_argument("--corpus")
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--layers", type=int)
    p.add_argument("--heads", type=int)
    p.add_argument("--embed", type=int)
    p.add_argument("--context", type=int)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--sdpa", action="store_true")
    p.add_argument("--step-ms", type=float, default=5.0)
    p.add_argument("--rss-mb", type=int, default=8)
    p.add_argument("--fail", type=int, default=0)
    a = p.parse_args()
    rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", 0))
    world = int(os.environ.get("OMPI_COMM_WORLD_SIZE", 1))
    if a.model is None and (a.corpus is None or not os.path.isfile(a.corpus)):
        sys.exit(f"peer_stub: --corpus {a.corpus}: no such file")
    if a.fail:
        sys.stderr.write(f"peer_stub: failing with status {a.fail} as asked\n")
        sys.exit(a.fail)
    ballast = bytearray(a.rss_mb << 20)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    for _ in range(a.warmup):
        time.sleep(a.step_ms / 1000)
    t0 = time.perf_counter()
    for _ in range(a.steps):
        time.sleep(a.step_ms / 1000)
    dt = time.perf_counter() - t0
    if a.model is not None:
        if rank == 0:
            print(json.dumps({"peer": "peer-stub", "torch": "0.0+stub", "model": a.model, "world": world,
                              "batch_per_rank": a.batch, "steps": a.steps, "step_ms": 1000 * dt / a.steps,
                              "samples_per_s": a.steps * a.batch * world / dt, "loss": 2.3}))
        return
    C, T, L = a.embed, a.context, a.layers
    params = 256 * C + T * C + L * (12 * C * C + 13 * C) + 2 * C
    if rank == 0:
        print(json.dumps({"peer": "peer-stub", "torch": "0.0+stub", "sdpa": a.sdpa, "compile": False,
                          "params": params, "world": world, "layers": L, "heads": a.heads, "embed": C,
                          "context": T, "batch_per_rank": a.batch, "steps": a.steps,
                          "step_ms": 1000 * dt / a.steps, "tokens_per_s": a.steps * a.batch * T * world / dt,
                          "loss": 5.5}))


if __name__ == "__main__":
    main()
