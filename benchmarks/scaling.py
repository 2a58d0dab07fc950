"""Scaling from 1 to 2 threads: hhcable's runs on one and on two threads, alternating in one process.

Usage::

    python benchmarks/scaling.py [--models MODEL ...] [--repeats N] [--exact] [--json FILE]

The host's memory bandwidth can change from one minute to the next (on the benchmark VM two
threads streaming 1M nodes got anywhere from 30 to 72 GB/s within an hour), so timings from
separate processes compare badly. Here each model of ``benchmarks/models.py`` is run on one
thread, then on two, and so on ``--repeats`` times, each run a fresh ``hc.Batch`` built as
``peers.py`` builds it; the table gives the least and the median wall time per
compartment-step of each (``Result.run_wall_s``, which leaves out compilation) and their
ratios.
"""

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: ns per s
NS_PER_S = 1e9
#: The models timed by default (those whose scaling the speed issue asks for, and the axons)
DEFAULT = ("batch64x3k", "axon1M", "axon30k", "ca1")


def time_model(model, repeats, exact):
    """ns per compartment-step of every run on 1 and on 2 threads, alternating: ``{1: [...], 2: [...]}``."""
    import peers

    spec = peers.describe(model)
    times = {1: [], 2: []}
    for _ in range(repeats):
        for threads in times:
            run = peers.run_hhcable(spec, {"use_table": not exact, "threads": threads})
            times[threads].append(run["step_wall_s"] / (run["n_steps"] * run["n_compartments"]) * NS_PER_S)
    return times


def row(name, times):
    """The table's row for one model: least and median of each thread count, and their ratios."""
    one, two = times[1], times[2]
    return {"model": name, "ns_1": min(one), "ns_2": min(two),
            "median_1": statistics.median(one), "median_2": statistics.median(two),
            "scaling": min(one) / min(two), "scaling_median": statistics.median(one) / statistics.median(two),
            "runs_1": one, "runs_2": two}


def main(argv=None):
    from models import models

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(DEFAULT),
                   help=f"models of benchmarks/models.py (default: {' '.join(DEFAULT)})")
    p.add_argument("--repeats", type=int, default=3, help="runs on each thread count (default 3)")
    p.add_argument("--exact", action="store_true", help="exact rates instead of rate tables")
    p.add_argument("--json", help="also write the table here")
    args = p.parse_args(argv)
    available = models()
    unknown = set(args.models) - set(available)
    if unknown:
        p.error(f"unknown model(s) {sorted(unknown)}; choose from {sorted(available)}")
    if args.repeats < 1:
        p.error(f"--repeats must be at least 1, got {args.repeats}")
    print(f"{'model':12} {'1 thread':>15} {'2 threads':>15} {'scaling':>15}   (ns per compartment-step, "
          f"{'exact rates' if args.exact else 'rate tables'}; least (median) of {args.repeats})")
    rows = []
    for name in args.models:
        r = row(name, time_model(available[name], args.repeats, args.exact))
        rows.append(r)
        print(f"{name:12} {r['ns_1']:6.2f} ({r['median_1']:5.2f}) {r['ns_2']:6.2f} ({r['median_2']:5.2f}) "
              f"{r['scaling']:6.2f}x ({r['scaling_median']:4.2f}x)", flush=True)
    if args.json:
        import peers

        peers.write_json(args.json, {"exact_rates": args.exact, "repeats": args.repeats, "rows": rows})  # whole
    return 0


if __name__ == "__main__":
    sys.exit(main())
