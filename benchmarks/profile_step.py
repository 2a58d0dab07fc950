"""Where the compiled step's time goes: the whole run against its parts, and the memory floor.

Usage::

    python benchmarks/profile_step.py [MODEL ...] [--repeats N]     # models of benchmarks/models.py

For each model (hhcable's numba kernel on one thread) it times, in ns per compartment-step:
the whole compiled run (``Result.run_wall_s``, wall time); the voltage solve alone
(:func:`hhcable.kernels.solve_cells` over the same arrays: cables in two lanes, other cells
by Hines elimination) and the channels alone (the generated ``membrane`` loop), least CPU
time of ``--repeats``; and the memory floor: the
bytes the step moves per compartment (counted from the arrays each pass reads and writes,
below) over this machine's streaming bandwidth (numpy ``a += b`` over a working set of the
step's size).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

#: ns per s
NS_PER_S = 1e9
#: Bytes of one float64 or int64
WORD = 8


def solver_bytes():
    """Words (8 bytes) per compartment the voltage solve moves, backward Euler without crossings.

    Elimination reads g, ge, g_scale, c_over_dt, axial_diag, v, off and writes g and ge
    (zeroed), fac and x; substitution reads x and fac and writes v.  Stores to arrays the pass
    did not read cost a read too (the cache line is fetched first): fac, x and v.
    """
    read, write, fetched = 7 + 2, 4 + 1, 3
    return read + write + fetched


def membrane_words(spec):
    """Words per compartment the generated membrane loop of one channel class moves (rate tables).

    One loop over 1-D views of consecutive nodes reads v, every parameter and gate and g, ge,
    and writes the gates and g, ge (the table rows it reads stay in cache: neighbouring
    voltages share them).
    """
    return (1 + len(spec.params) + len(spec.gates) + 2) + (len(spec.gates) + 2)


def capture(model):
    """Run ``model`` on one thread; the compiled module and the arguments of its run loop."""
    import hhcable as hc
    from hhcable import kernels

    seen = {}
    real = kernels.module_for

    class Spy:
        def __init__(self, module):
            self.module = module

        def __getattr__(self, name):
            return getattr(self.module, name)

        def run(self, *args):
            seen.setdefault("args", args)
            return self.module.run(*args)

        def run_blocked(self, *args):
            seen.setdefault("args", args)
            return self.module.run_blocked(*args)

    kernels.module_for = lambda classes: Spy(real(classes))
    try:
        sims = []
        for morph, amp in zip(model.morphologies, model.amps):
            cell = hc.Cell(morph, Ra=model.Ra, celsius=model.celsius, max_segment=model.max_segment)
            cell.insert(hc.HH())
            sim = hc.Simulation(cell, dt=model.dt)
            sim.iclamp(at=0.0, delay=model.delay, dur=model.dur, amp=amp)
            sim.probe("v", at=0.5)
            sims.append(sim)
        res = hc.Batch(sims, backend="numba", threads=1).run(model.tstop)[0]
    finally:
        kernels.module_for = real
    return real([hc.HH]), seen["args"], res


def best(func, repeats):
    """Least CPU time (s) of ``repeats`` calls: CPU time, so that other work on the machine counts less."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        func()
        times.append(time.process_time() - start)
    return min(times)


def profile(name, model, repeats):
    import hhcable as hc
    from hhcable import kernels

    module, args, res = capture(model)
    (_, _, work_rows, dt, crank, parent, special, off, axial_diag, c_over_dt, g_scale, v, stim_nodes, stim_amp,
     thresholds, crossings, above, t, *_rest) = args
    group_args = args[-7:]
    inv_dv, part_cables, part_rest = args[-14:-11]
    cables, rest = part_cables[0], part_rest[0]
    n = v.size
    n_steps = stim_amp.shape[0]
    steps = min(n_steps, 200)
    per = NS_PER_S / (n * steps)
    whole = res.run_wall_s / (n * n_steps) * NS_PER_S
    v0 = v.copy()
    work = [row[:n] for row in work_rows[:kernels.WORK_ROWS]]  # the run's own arrays (kernels.Staggered)
    for row in work:
        row[:] = 0.0

    stims = np.arange(stim_nodes.size)

    def solve():
        for k in range(steps):
            kernels.add_stimuli(k, stims, stim_nodes, stim_amp, work[3])
            kernels.solve_cells(k, dt, crank, cables, rest, special, parent, off, axial_diag, c_over_dt, g_scale, v,
                                *work, thresholds, crossings, above, t, False)
        v[:] = v0

    def membrane():
        for _ in range(steps):
            module.membrane(v, dt, True, True, inv_dv, work[0], work[1], *group_args)

    solve_ns = best(solve, repeats) * per
    membrane_ns = best(membrane, repeats) * per
    words = solver_bytes() + membrane_words(hc.HH.spec())
    # Streaming bandwidth over a working set as large as the step's: a += b moves 3 words a node.
    a = np.ones(n * words // 3)
    b = np.ones_like(a)
    stream = best(lambda: [np.add(a, b, out=a) for _ in range(5)], repeats) / (5 * 3 * WORD * a.size)  # s per byte
    return {"model": name, "n": n, "whole": whole, "solve": solve_ns, "membrane": membrane_ns,
            "bytes": words * WORD, "GB_s": 1e-9 / stream, "floor": words * WORD * stream * NS_PER_S}


def main(argv=None):
    from models import models

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=["squid", "batch64", "axon1M"])
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    available = models()
    print(f"{'model':9} {'nodes':>8} | {'whole':>6} {'solve':>6} {'membrane':>8} | {'bytes':>5} {'GB/s':>5} "
          f"{'floor':>6}   (ns per compartment-step, one thread)")
    for name in args.models:
        r = profile(name, available[name], args.repeats)
        print(f"{name:9} {r['n']:>8} | {r['whole']:6.1f} {r['solve']:6.1f} {r['membrane']:8.1f} | "
              f"{r['bytes']:5d} {r['GB_s']:5.1f} {r['floor']:6.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
