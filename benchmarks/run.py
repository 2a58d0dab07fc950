"""Time hhcable against NEURON on the same models, stepping only, side by side.

Usage::

    python benchmarks/run.py                  # all models, 5 alternating repeats
    python benchmarks/run.py --quick          # 1 repeat each (smoke run)
    python benchmarks/run.py --models squid axon30k --repeats 3
    python benchmarks/run.py --backend numpy    # only the numpy loop (default: numpy and numba)

Every measurement runs in its own subprocess (so peak memory is that run's alone); the
worker builds the model, initialises, and times only the time-stepping loop
(``Result.run_wall_s`` for hhcable; ``ParallelContext.psolve`` after ``finitialize`` for
NEURON, with its defaults: ``usetable_hh = 1``, ``secondorder = 0``, CVode off).  hhcable
and NEURON runs alternate, and the medians are reported.  NEURON is optional: without it the
NEURON columns read n/a.  hhcable runs with each backend asked for (``--backend``; by default
numpy and, if installed, the compiled numba kernel), and the best is the ``hhcable`` column.
``--exact-rates`` turns the rate tables off in both (``HH(use_table=False)``,
``usetable_hh = 0``).

Both simulators build the model from the same numbers (``peers.describe``: hhcable's own
sections, 3-d points, attachment points and ``nseg``; NEURON's sections are connected where
hhcable's hang) and the first round is checked before anything is timed: the first 0 mV
crossing at every probe (two points a cable, giving velocities; the tips of a tree) must
agree with hhcable's, velocities within 2 % and latencies within 5 %.  A model that fails is
not timed (its row says ``refused``).  The runs are ``peers.py``'s workers.
"""

import argparse
import json
import platform
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import peers  # noqa: E402
from peers import MB_PER_KB, NS_PER_S, cpu_model  # noqa: E402, F401  (channels.py and sweep.py take them from here)

#: Marks the result line of the workers of channels.py and sweep.py
RESULT_TAG = "BENCHMARK-RESULT "


# -- runs: peers.py's workers, one process each -------------------------------------------
def measure(simulator, spec_path, options):
    """One subprocess run (peers.py's worker); its figures plus whole-process wall time, or None."""
    out = peers.measure(sys.executable, simulator, spec_path, options, timeout=None)
    if "error" in out:
        sys.stderr.write(f"{simulator}/{Path(spec_path).stem} failed: {out['error']}\n")
        return None
    return out


def median_of(runs, key):
    values = [r[key] for r in runs if r is not None]
    return statistics.median(values) if values else None


def check_equal(spec, runs):
    """peers.py's check on the first round: every run against the first hhcable run (NEURON
    with its rate tables, as timed).  Prints it; returns why the model is refused, or None."""
    keys = [key for key in runs if runs[key] and runs[key][0] is not None]
    if not keys or keys[0] == "neuron" or all(t is None for t in runs[keys[0]][0]["crossings"]):
        print(f"{spec['name']}: check impossible (no hhcable run or no spike); not timed")
        return "no reference"
    ref = runs[keys[0]][0]
    failed = []
    for key in keys[1:]:
        passed, text = peers.check(spec, ref, runs[key][0])
        print(f"{spec['name']}: check {key} against {keys[0]}: {text}: {'ok' if passed else 'REFUSED, not timed'}")
        if not passed:
            failed.append(f"{key}: {text}")
    return "; ".join(failed) or None


def have_numba():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def have_neuron():
    try:
        import neuron  # noqa: F401
    except ImportError:
        return False
    return True


def fmt(x, spec):
    return "n/a" if x is None else format(x, spec)


def main(argv=None):
    from models import models

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", help="subset of models (default: all)")
    p.add_argument("--repeats", type=int, default=5, help="alternating runs per simulator (default 5)")
    p.add_argument("--quick", action="store_true", help="one run per simulator (smoke test)")
    p.add_argument("--no-neuron", action="store_true", help="skip NEURON even if installed")
    p.add_argument("--exact-rates", action="store_true", help="hhcable without rate tables")
    p.add_argument("--backend", choices=("both", "numpy", "numba"), default="both",
                   help="hhcable backend(s) to time (default both; numba only if installed)")
    p.add_argument("--json", default=str(HERE / "results" / "latest.json"), help="where to write the table")
    args = p.parse_args(argv)

    available = models()
    names = args.models or [name for name, m in available.items() if m.default]
    unknown = set(names) - set(available)
    if unknown:
        p.error(f"unknown model(s) {sorted(unknown)}; choose from {sorted(available)}")
    repeats = 1 if args.quick else args.repeats
    use_neuron = have_neuron() and not args.no_neuron
    options = {"use_table": not args.exact_rates}
    backends = [b for b in ("numpy", "numba") if args.backend in (b, "both")]
    if "numba" in backends and not have_numba():
        if args.backend == "numba":
            p.error("--backend numba needs numba, which is not installed here")
        backends.remove("numba")

    rows = []
    header = (f"{'model':9} {'comps':>9} {'steps':>6} | "
              + " ".join(f"{b + ' ns/c-s':>14}" for b in backends)
              + f" {'NEURON ns/c-s':>13} " + " ".join(f"{'ratio ' + b:>11}" for b in backends)
              + f" | {'hc proc s':>9} {'NRN proc s':>10} | {'hc MB':>7} {'NRN MB':>7}")
    print(header)
    print("-" * len(header))
    fields = ("ns_per_compartment_step", "step_wall_s", "process_wall_s", "peak_memory_mb")
    tmp = tempfile.TemporaryDirectory()
    for name in names:
        spec = peers.describe(available[name])
        spec_path = Path(tmp.name) / f"{name}.json"
        spec_path.write_text(json.dumps(spec))
        runs = {key: [] for key in (*backends, "neuron")}
        refused = None
        for k in range(repeats):
            for b in backends:
                runs[b].append(measure("hhcable", spec_path, {**options, "backend": b}))
            if use_neuron:
                runs["neuron"].append(measure("neuron", spec_path, options))
            if k == 0:
                refused = check_equal(spec, runs)
                if refused:
                    break
        first = next((r for rs in runs.values() for r in rs if r), None)
        row = {"model": name, "description": available[name].description,
               "n_compartments": first and first["n_compartments"], "n_steps": first and first["n_steps"],
               "repeats": repeats}
        if refused:
            row["refused"] = refused
            runs = {key: [] for key in runs}
        for key in runs:
            for field in fields:
                row[f"{'hhcable_' + key if key != 'neuron' else key}_{field}"] = median_of(runs[key], field)
        nrn_ns = row["neuron_ns_per_compartment_step"]
        for b in backends:
            ns = row[f"hhcable_{b}_ns_per_compartment_step"]
            row[f"ratio_neuron_over_{b}"] = nrn_ns / ns if ns and nrn_ns else None
        # The "hhcable" columns: the fastest backend.
        best = min(backends, key=lambda b: row[f"hhcable_{b}_ns_per_compartment_step"] or float("inf"))
        row["hhcable_backend"] = best
        for field in fields:
            row[f"hhcable_{field}"] = row[f"hhcable_{best}_{field}"]
        hc_ns = row["hhcable_ns_per_compartment_step"]
        row["ratio_neuron_over_hhcable"] = nrn_ns / hc_ns if hc_ns and nrn_ns else None
        limit = available[name].peak_memory_limit_mb
        if limit is not None:
            row["peak_memory_limit_mb"] = limit
        rows.append(row)
        print(f"{name:9} {fmt(row['n_compartments'], 'd'):>9} {fmt(row['n_steps'], 'd'):>6} | "
              + " ".join(f"{fmt(row[f'hhcable_{b}_ns_per_compartment_step'], '.1f'):>14}" for b in backends)
              + f" {fmt(nrn_ns, '.1f'):>13} "
              + " ".join(f"{fmt(row[f'ratio_neuron_over_{b}'], '.2f'):>11}" for b in backends) + " | "
              f"{fmt(row['hhcable_process_wall_s'], '.2f'):>9} {fmt(row['neuron_process_wall_s'], '.2f'):>10} | "
              f"{fmt(row['hhcable_peak_memory_mb'], '.0f'):>7} {fmt(row['neuron_peak_memory_mb'], '.0f'):>7}"
              + (" REFUSED (check failed)" if refused else ""), flush=True)

    import numpy
    machine = {"cpu": cpu_model(), "cores": len(__import__("os").sched_getaffinity(0)),
               "python": platform.python_version(), "numpy": numpy.__version__,
               "numba": __import__("numba").__version__ if "numba" in backends else None,
               "neuron": __import__("neuron").__version__ if use_neuron else None}
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
          f"numpy {machine['numpy']}, NEURON {machine['neuron'] or 'n/a'}")
    tmp.cleanup()
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "options": options, "backends": backends, "rows": rows},
                              indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
