# Shared by the benchmark scripts in scripts/bench: source it with $bench (the script's name)
# and $bin (the lockstep binary) set.

# Usage and setup errors: one line naming the script, exit 2.
die() { echo "bench/$bench: $*" >&2; exit 2; }

# positive FLAG VALUE: VALUE must be a positive whole number.
positive() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1: expected a positive number, got $2"; }

# launcher NP: checks the binary, jq and mpirun; sets one OpenBLAS thread per rank and, as
# root, mpirun's OMPI_ALLOW variables; and sets the array mpi to the launch of NP ranks
# (--bind-to core, or --oversubscribe beyond the cores).
launcher() {
  [[ $1 =~ ^[1-9][0-9]*$ && $1 -ge 2 ]] || die "--np: expected 2 or more ranks, got $1"
  [[ -x $bin ]] || die "no lockstep binary at $bin: build it with swift build -c release"
  command -v jq >/dev/null || die "needs jq (Debian package jq)"
  command -v mpirun >/dev/null || die "needs mpirun (Debian package openmpi-bin)"
  export OPENBLAS_NUM_THREADS=1
  if [[ $(id -u) -eq 0 ]]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
  mpi=(mpirun -np "$1" --bind-to core)
  if [[ $1 -gt $(nproc) ]]; then mpi=(mpirun -np "$1" --oversubscribe); fi
}
