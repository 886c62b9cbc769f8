"""The reference for scripts/bench/allreduce: MPI_Allreduce through mpi4py, in place, on float32
buffers of 4 KiB to 64 MiB, timed as nccl-tests time a collective: warm-up calls, then a barrier,
N calls, a barrier; algbw = bytes / time and busbw = algbw * 2(p-1)/p. Run it with Debian's
Python (python3-mpi4py, numpy), one process per rank:

  mpirun -np 2 --bind-to core /usr/bin/python3 scripts/bench/mpi4py_allreduce.py

Rank 0 prints one JSON line: {"peer": "mpi4py-MPI_Allreduce", "world": p, "rows": [...]}.
"""
import json
import time

import numpy as np
from mpi4py import MPI

SIZES = [4 << 10, 64 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20]


def main():
    comm = MPI.COMM_WORLD
    rank, p = comm.Get_rank(), comm.Get_size()
    rows = []
    for nbytes in SIZES:
        buf = np.ones(nbytes // 4, dtype=np.float32)
        # As many calls as Lockstep's benchmark makes by default: 5 to 200, about 256 MiB in all.
        iterations = max(5, min(200, (256 << 20) // nbytes))
        for _ in range(3):
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        comm.Barrier()
        start = time.perf_counter()
        for _ in range(iterations):
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        comm.Barrier()
        seconds = (time.perf_counter() - start) / iterations
        algbw = nbytes / seconds / 1e9
        rows.append({"bytes": nbytes, "us": seconds * 1e6, "algbw_GBps": algbw, "busbw_GBps": algbw * 2 * (p - 1) / p})
    if rank == 0:
        print(json.dumps({"peer": "mpi4py-MPI_Allreduce", "world": p, "rows": rows}))


if __name__ == "__main__":
    main()
