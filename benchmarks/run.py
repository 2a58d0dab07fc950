"""Time hhcable against NEURON on the same models, stepping only, side by side.

Usage::

    python benchmarks/run.py                  # all models, 5 alternating repeats
    python benchmarks/run.py --quick          # 1 repeat each (smoke run)
    python benchmarks/run.py --models squid axon30k --repeats 3
    python benchmarks/run.py --backend numpy    # only the numpy loop (default: numpy and numba)
    python benchmarks/run.py --backend numba --threads 1 2 --no-neuron   # the kernel on 1 and 2 threads

Every measurement runs in its own subprocess (so peak memory is that run's alone); the
worker builds the model, initialises, and times only the time-stepping loop
(``Result.run_wall_s`` for hhcable; ``ParallelContext.psolve`` after ``finitialize`` for
NEURON, with its defaults: ``usetable_hh = 1``, ``secondorder = 0``, CVode off).  hhcable
and NEURON runs alternate, and the medians are reported.  NEURON is optional: without it the
NEURON columns read n/a.  hhcable runs with each backend asked for (``--backend``; by default
numpy and, if installed, the compiled numba kernel), and the best is the ``hhcable`` column.
"""

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

#: ns per s
NS_PER_S = 1e9
#: MB per kB (ru_maxrss is in kB on Linux)
MB_PER_KB = 1.0 / 1024.0
RESULT_TAG = "BENCHMARK-RESULT "
#: Largest nseg NEURON accepts for one section
NEURON_MAX_NSEG = 32767


# -- workers (run in a subprocess) ------------------------------------------------------------
def run_hhcable(model, options):
    import hhcable as hc

    sims = []
    for morph, amp in zip(model.morphologies, model.amps):
        cell = hc.Cell(morph, Ra=model.Ra, celsius=model.celsius, max_segment=model.max_segment)
        cell.insert(hc.HH(**options.get("hh", {})))
        sim = hc.Simulation(cell, dt=model.dt, **options.get("simulation", {}))
        sim.iclamp(at=0.0, delay=model.delay, dur=model.dur, amp=amp)
        sim.probe("v", at=0.5)
        sims.append(sim)
    n_comp = sum(s.cell.n_compartments for s in sims)
    result = hc.Batch(sims, backend=options.get("backend", "auto"), threads=options.get("threads")).run(model.tstop)[0]
    return n_comp, result.run_wall_s


def run_neuron(model, options):
    import hhcable as hc
    from neuron import h

    h.load_file("stdrun.hoc")
    h.celsius = model.celsius
    h.dt = model.dt
    h.cvode.active(0)
    keep = []
    for morph, amp in zip(model.morphologies, model.amps):
        comp = hc.Cell(morph, max_segment=model.max_segment).compartments
        secs, ends = [], []
        for s in morph.sections:
            points = [dict(zip(("x", "y", "z", "radius"), p)) for p in s.points]
            nseg = len(comp.section_nodes[s.index]) - 2
            # NEURON allows at most 32767 segments a section: cut longer straight sections
            # into equal pieces (the compartments stay the same).
            pieces = -(-nseg // NEURON_MAX_NSEG)
            if pieces > 1 and len(points) != 2:
                raise SystemExit(f"section {s.index}: cannot split a bent section of {nseg} segments")
            parent = ends[s.parent] if s.parent >= 0 else None
            for k in range(pieces):
                sec = h.Section(name=f"s{len(keep)}_{s.index}_{k}")
                if pieces == 1:
                    chunk = points
                else:
                    a, b = points
                    chunk = [{key: a[key] + (b[key] - a[key]) * f for key in ("x", "y", "z", "radius")}
                             for f in (k / pieces, (k + 1) / pieces)]
                for d in chunk:
                    sec.pt3dadd(d["x"], d["y"], d["z"], 2.0 * d["radius"])
                sec.nseg = nseg // pieces
                sec.Ra = model.Ra
                sec.cm = 1.0
                sec.insert("hh")
                if parent is not None:
                    sec.connect(parent(s.parent_x if k == 0 else 1.0), 0.0)
                parent = sec
                secs.append(sec)
            ends.append(parent)
        stim = h.IClamp(secs[0](0.0))
        stim.delay, stim.dur, stim.amp = model.delay, model.dur, amp
        rec = h.Vector().record(secs[0](0.5)._ref_v)
        keep.append((secs, stim, rec))
    n_comp = sum(sec.nseg for secs, _, _ in keep for sec in secs)
    pc = h.ParallelContext()
    pc.set_maxstep(10.0)  # no network: any max step lets psolve run its fixed-step loop
    h.finitialize(-65.0)
    start = time.perf_counter()
    pc.psolve(model.tstop)
    wall = time.perf_counter() - start
    return n_comp, wall


def worker(simulator, name, options):
    from models import models

    model = models()[name]
    n_comp, wall = (run_neuron if simulator == "neuron" else run_hhcable)(model, options)
    n_steps = round(model.tstop / model.dt)
    print(RESULT_TAG + json.dumps({
        "n_compartments": n_comp, "n_steps": n_steps, "step_wall_s": wall,
        "ns_per_compartment_step": wall / (n_comp * n_steps) * NS_PER_S,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * MB_PER_KB,
    }))


# -- driver ---------------------------------------------------------------------------------
def measure(simulator, name, options):
    """One subprocess run; returns the worker's figures plus whole-process wall time, or None."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", simulator, name,
           "--options", json.dumps(options)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    total = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(f"{simulator}/{name} failed:\n{proc.stderr[-2000:]}\n")
        return None
    out = json.loads(lines[-1][len(RESULT_TAG):])
    out["process_wall_s"] = total
    return out


def median_of(runs, key):
    values = [r[key] for r in runs if r is not None]
    return statistics.median(values) if values else None


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


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


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
    p.add_argument("--threads", nargs="+", type=int,
                   help="time the numba kernel on each of these thread counts (default: its default, "
                        "every core for large models)")
    p.add_argument("--json", default=str(HERE / "results" / "latest.json"), help="where to write the table")
    p.add_argument("--worker", nargs=2, metavar=("SIMULATOR", "MODEL"), help=argparse.SUPPRESS)
    p.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(*args.worker, json.loads(args.options))
        return 0

    available = models()
    names = args.models or list(available)
    unknown = set(names) - set(available)
    if unknown:
        p.error(f"unknown model(s) {sorted(unknown)}; choose from {sorted(available)}")
    repeats = 1 if args.quick else args.repeats
    use_neuron = have_neuron() and not args.no_neuron
    options = {"hh": {"use_table": False}} if args.exact_rates else {}
    backends = [b for b in ("numpy", "numba") if args.backend in (b, "both")]
    if "numba" in backends and not have_numba():
        if args.backend == "numba":
            p.error("--backend numba needs numba, which is not installed here")
        backends.remove("numba")
    # Columns: each backend, and the numba kernel once per thread count asked for.
    variants = {b: {"backend": b} for b in backends}
    if args.threads and "numba" in variants:
        del variants["numba"]
        variants.update({f"numba_{n}t": {"backend": "numba", "threads": n} for n in args.threads})
    backends = list(variants)

    rows = []
    header = (f"{'model':9} {'comps':>9} {'steps':>6} | "
              + " ".join(f"{b + ' ns/c-s':>14}" for b in backends)
              + f" {'NEURON ns/c-s':>13} " + " ".join(f"{'ratio ' + b:>11}" for b in backends)
              + f" | {'hc proc s':>9} {'NRN proc s':>10} | {'hc MB':>7} {'NRN MB':>7}")
    print(header)
    print("-" * len(header))
    fields = ("ns_per_compartment_step", "step_wall_s", "process_wall_s", "peak_memory_mb")
    for name in names:
        runs = {key: [] for key in (*backends, "neuron")}
        for _ in range(repeats):
            for b in backends:
                runs[b].append(measure("hhcable", name, {**options, **variants[b]}))
            if use_neuron:
                runs["neuron"].append(measure("neuron", name, {}))
        first = next((r for rs in runs.values() for r in rs if r), None)
        row = {"model": name, "description": available[name].description,
               "n_compartments": first and first["n_compartments"], "n_steps": first and first["n_steps"],
               "repeats": repeats}
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
              f"{fmt(row['hhcable_peak_memory_mb'], '.0f'):>7} {fmt(row['neuron_peak_memory_mb'], '.0f'):>7}",
              flush=True)

    import numpy
    machine = {"cpu": cpu_model(), "cores": len(__import__("os").sched_getaffinity(0)),
               "python": platform.python_version(), "numpy": numpy.__version__,
               "numba": __import__("numba").__version__ if any(b.startswith("numba") for b in backends) else None,
               "neuron": __import__("neuron").__version__ if use_neuron else None}
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
          f"numpy {machine['numpy']}, NEURON {machine['neuron'] or 'n/a'}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "options": options, "backends": backends, "rows": rows},
                              indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
