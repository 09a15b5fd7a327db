#!/usr/bin/python3
"""mpi4py.futures peer for bench/run.py.

Two ways to launch, both on the existing MPI world (1 master + workers):

  MPIPoolExecutor:
    mpirun -n 3 /usr/bin/python3 -m mpi4py.futures bench/peer_mpi4py.py MODE
  MPICommExecutor:
    mpirun -n 3 /usr/bin/python3 bench/peer_mpi4py.py --comm MODE ...

MODE and options (key=value):
  throughput n=N      N no-op tasks via executor.map (chunksize 1), wait all
  chain n=N           N dependent tasks: task i+1 is submitted with the
                      result of task i (f.result() in between)
  busy n=N ms=MS      N tasks that spin MS ms on time.perf_counter
  sleep n=N ms=MS     N tasks that sleep MS ms
  idle secs=S         start, run a few tasks, print READY, sleep S seconds
  runs=R              repeat the measurement R times in this process

Prints one line per run: "BENCH tasks=N seconds=S" (chain: "BENCH hops=N
seconds=S"). The timed part excludes start-up and a short warm-up.
"""

import sys

from peer_common import busy, inc, measure, noop, parse, sleepy


def run(ex, nworkers, o):
    """Run the benchmark on executor ex (master side only)."""
    # Warm-up: make sure every worker is up and has served a task.
    for _ in ex.map(noop, range(4 * nworkers)):
        pass

    def one_run(mode, n):
        if mode == "throughput":
            # The fast path: map() submits one task per item (chunksize=1,
            # the same granularity as the other runners) and yields results.
            for _ in ex.map(noop, range(n)):
                pass
        elif mode == "chain":
            x = 0
            for _ in range(n):
                x = ex.submit(inc, x).result()
            if x != n:
                raise SystemExit("peer_mpi4py: chain gave %d" % x)
        else:
            for _ in ex.map(busy if mode == "busy" else sleepy,
                            [o["ms"]] * n):
                pass

    measure(o, nworkers, one_run)


def main():
    from mpi4py import MPI

    argv = sys.argv[1:]
    comm_mode = "--comm" in argv
    o = parse([a for a in argv if a != "--comm"], "peer_mpi4py")
    world = MPI.COMM_WORLD
    if comm_mode:
        from mpi4py.futures import MPICommExecutor

        # Every rank gets here; only rank 0 gets an executor, the others
        # serve tasks inside the with-block until rank 0 leaves it.
        with MPICommExecutor(world, root=0) as ex:
            if ex is not None:
                run(ex, world.Get_size() - 1, o)
    else:
        from mpi4py.futures import MPIPoolExecutor

        # Under "python -m mpi4py.futures" only rank 0 runs this script; the
        # pool uses the other ranks of the world as its workers.
        with MPIPoolExecutor() as ex:
            run(ex, world.Get_size() - 1, o)


if __name__ == "__main__":
    main()
