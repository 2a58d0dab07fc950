"""A velocity sweep at scale: models per second on 1 and 2 local Dask workers, against NEURON.

Usage::

    python benchmarks/sweep.py                   # 2,000 models (100 diameters × 20 temperatures)
    python benchmarks/sweep.py --models 10000    # the issue's 10,000
    python benchmarks/sweep.py --quick           # 200 models, NEURON on 20

HH axons of 1,000 compartments (6 mm, 6 µm segments, Ra 35.4 Ω·cm, dt 0.025 ms, 10 ms), the
diameter from 1 to 8 µm and the temperature from 6.3 to 25 °C, the velocity measured between
30 % and 70 % of the length (least squares over the first crossings of 0 mV, as
``hc.conduction_velocity``).  hhcable: ``hc.sweep`` on the ``LocalCluster`` it makes by
default, of 1, then 2 worker processes (started and warmed up before the clock starts: the
import and the compiled kernel's loading, a few seconds per process, are reported apart), the whole sweep
timed (planning, chunks as batches, Parquet written per chunk); and the same sweep in this
process without Dask (``workers=0``).  NEURON: a plain Python loop over the same models (one
section, ``nseg`` 1000, ``hh``; ``diam`` and ``celsius`` set, ``finitialize``, ``run``, a
``NetCon`` per segment on the path recording its first crossing), on a subset of the models
(``--neuron-models``, spread over the grid), in its own process.  The NEURON velocities are
compared with the sweep's for the same models.  Also measured: Dask's cost per task
(1,000 empty tasks), for the cluster estimate in docs/sweeps.md.

On a machine shared with other work, the speed-up from 1 to 2 workers is bounded by the
cores the workers get: each run reports the CPU time its workers used over the wall time
("cores got") and the load average before and after, so a poor scaling can be told from a
busy machine.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run import RESULT_TAG, cpu_model, fmt, have_neuron  # noqa: E402

LENGTH, SEGMENT, RA, DT, TSTOP = 6000.0, 6.0, 35.4, 0.025, 10.0  # µm, µm, Ω·cm, ms, ms
DELAY, DUR, AMP = 0.1, 0.2, 20.0  # ms, ms, nA
DIAM_RANGE, CELSIUS_RANGE = (1.0, 8.0), (6.3, 25.0)  # µm, °C
N_TEMPERATURES = 20
FROM, TO = 0.3, 0.7  # velocity path, fractions of the length
BASE = f"""
[morphology]
cable = {{ length_um = {LENGTH}, diam_um = 2.0 }}
[discretization]
max_segment_um = {SEGMENT}
[biophysics]
Ra_ohm_cm = {RA}
mechanisms = [ {{ name = "hh", where = "all" }} ]
[[stimulus]]
kind = "iclamp"
at = {{ x = 0.0 }}
delay_ms = {DELAY}
dur_ms = {DUR}
amp_nA = {AMP}
[[probe]]
name = "far"
at = {{ x = 0.9 }}
[simulation]
dt_ms = {DT}
tstop_ms = {TSTOP}
[velocity]
from = {{ x = {FROM} }}
to = {{ x = {TO} }}
"""


def grid(n_models):
    """Diameters (µm) and temperatures (°C) of about ``n_models`` models: every pair."""
    n_diam = max(1, round(n_models / N_TEMPERATURES))
    return np.geomspace(*DIAM_RANGE, n_diam), np.linspace(*CELSIUS_RANGE, N_TEMPERATURES)


def description(folder, n_models):
    """The sweep, as the tables of a sweep file (its base model written into ``folder``)."""
    (folder / "axon.toml").write_text(BASE)
    diams, temps = grid(n_models)
    return {"sweep": {"model": str(folder / "axon.toml"), "measures": ["velocity"]},
            "parameter": [{"key": "morphology.cable.diam_um", "values": [float(d) for d in diams]},
                          {"key": "biophysics.celsius", "values": [float(t) for t in temps]}]}


def warm_up():
    """Import hhcable and load the compiled kernel in this process (run on every worker)."""
    import hhcable as hc

    cell = hc.Cell(hc.Morphology.cable(length=100.0, diam=1.0), max_segment=10.0)
    cell.insert(hc.HH())
    hc.Simulation(cell, dt=DT).run(DT * 4)
    return os.getpid()


def noop(x):
    return x


def start(workers):
    """A warmed-up local cluster of ``workers`` processes, as hhcable makes by default (0: none)."""
    from hhcable.sweep import dask_client

    t = time.perf_counter()
    if not workers:
        warm_up()
        return None, None, time.perf_counter() - t
    context = dask_client(workers=workers)
    client = context.__enter__()
    client.run(warm_up)
    return context, client, time.perf_counter() - t


def time_sweep(desc, workers, client):
    """One timed sweep on ``client`` (None: in this process); its figures and velocities."""
    import hhcable as hc

    load = [os.getloadavg()[0]]
    ready = time.perf_counter()
    cpu = [time.process_time(), client.run(time.process_time) if client else {}]
    with tempfile.TemporaryDirectory() as out:
        table = hc.sweep(desc, Path(out) / "table.parquet", client=client, workers=None if client else 0,
                         progress=False)
        n_chunks = len(list((Path(out) / "table.parquet").glob("part-*.parquet")))
    wall = time.perf_counter() - ready
    after = client.run(time.process_time) if client else {}
    driver_cpu = time.process_time() - cpu[0]
    worker_cpu = sum(after[w] - cpu[1][w] for w in after if w in cpu[1]) if client else driver_cpu
    load.append(os.getloadavg()[0])
    rows = table.to_pylist()
    chunk_wall = {}
    for r in rows:
        chunk_wall[r["chunk"]] = chunk_wall.get(r["chunk"], 0.0) + r["wall_s"]
    return {"workers": workers, "n_models": len(rows), "n_chunks": n_chunks,
            "models_per_chunk": len(rows) / n_chunks, "sweep_s": wall, "models_per_s": len(rows) / wall,
            "chunk_s_median": float(np.median(list(chunk_wall.values()))),
            "worker_cpu_s": worker_cpu, "driver_cpu_s": driver_cpu, "cores_obtained": worker_cpu / wall,
            "models_per_cpu_s": len(rows) / worker_cpu, "errors": sum(r["error"] is not None for r in rows),
            "load_before_after": load, "rows": rows}


def task_overhead_ms(client, n=1000):
    """Wall time per task (ms) of ``n`` empty tasks: the scheduler's cost per task."""
    t = time.perf_counter()
    client.gather(client.map(noop, range(n), pure=False))
    return (time.perf_counter() - t) / n * 1e3


def time_writes(desc, rows, repeats=20):
    """The driver's cost (ms) of writing one chunk of these rows to the table (Parquet, atomically)."""
    from hhcable import sweepspec, sweeptable

    spec = sweepspec.load(desc)
    with tempfile.TemporaryDirectory() as out:
        store = sweeptable.Store(Path(out) / "t.parquet", spec)
        store.create(len(rows))
        start = time.perf_counter()
        for c in range(repeats):
            store.write(c, rows)
        return (time.perf_counter() - start) / repeats * 1e3


def neuron_loop(pairs):
    """A plain Python loop of NEURON runs, one per (diameter, temperature); wall time and velocities."""
    from neuron import h

    from hhcable.units import M_S_PER_UM_MS

    h.load_file("stdrun.hoc")
    h.cvode.active(0)
    h.dt, h.tstop = DT, TSTOP
    sec = h.Section(name="axon")
    sec.L, sec.nseg, sec.Ra, sec.cm = LENGTH, int(round(LENGTH / SEGMENT)), RA, 1.0
    sec.insert("hh")
    stim = h.IClamp(sec(0.0))
    stim.delay, stim.dur, stim.amp = DELAY, DUR, AMP
    segs = [seg for seg in sec if FROM * LENGTH <= seg.x * LENGTH <= TO * LENGTH]
    where = np.array([seg.x * LENGTH for seg in segs])
    times = [h.Vector() for _ in segs]
    probes = []
    for seg, vec in zip(segs, times):
        nc = h.NetCon(seg._ref_v, None, sec=sec)
        nc.threshold = 0.0
        nc.record(vec)
        probes.append(nc)
    out = {}
    start = time.perf_counter()
    for diam, celsius in pairs:
        sec.diam = diam
        h.celsius = celsius
        h.finitialize(-65.0)
        h.run()
        first = [v[0] if len(v) else np.nan for v in times]
        ok = not np.any(np.isnan(first))
        slope = np.polyfit(first, where, 1)[0] if ok else np.nan  # µm/ms
        out[f"{diam:.9g},{celsius:.9g}"] = float(abs(slope) * M_S_PER_UM_MS) if ok else None
    return {"wall_s": time.perf_counter() - start, "n_models": len(pairs), "cv": out}


def time_neuron(n_models, n_neuron):
    """NEURON on ``n_neuron`` models spread over the grid of ``n_models``, in its own process."""
    diams, temps = grid(n_models)
    pairs = [(float(d), float(t)) for d in diams for t in temps]
    pick = np.unique(np.linspace(0, len(pairs) - 1, min(n_neuron, len(pairs))).astype(int))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--neuron-worker", json.dumps([pairs[i] for i in pick])]
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(f"NEURON failed:\n{proc.stderr[-2000:]}\n")
        return None
    out = json.loads(lines[-1][len(RESULT_TAG):])
    out.update(models_per_s=out["n_models"] / out["wall_s"], load_before_after=[load, os.getloadavg()[0]])
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", type=int, default=2000, help="about this many models (default 2000; the issue: 10000)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="local workers to time (default 1 2)")
    p.add_argument("--neuron-models", type=int, default=200, help="models in the NEURON loop (default 200)")
    p.add_argument("--repeats", type=int, default=3, help="timed sweeps of each, alternating; the best counts")
    p.add_argument("--quick", action="store_true", help="200 models, 20 in NEURON, 1 repeat")
    p.add_argument("--json", default=str(HERE / "results" / "sweep.json"), help="where to write the figures")
    p.add_argument("--neuron-worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.neuron_worker:
        print(RESULT_TAG + json.dumps(neuron_loop([tuple(x) for x in json.loads(args.neuron_worker)])))
        return 0
    if args.quick:
        args.models, args.neuron_models, args.repeats = 200, 20, 1
    if args.models < 1 or args.repeats < 1 or args.neuron_models < 0 or any(w < 0 for w in args.workers):
        p.error("--models and --repeats must be >= 1, --neuron-models and --workers >= 0")
    folder = Path(tempfile.mkdtemp(prefix="hhcable-bench-sweep-"))
    try:
        return report_runs(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report_runs(args, folder):
    """Time every configuration, print the table, write the JSON; the exit status."""
    desc = description(folder, args.models)
    configs = [0] + sorted({w for w in args.workers if w})
    clusters = {w: start(w) for w in configs}
    timed = {w: [] for w in configs}
    try:
        for _ in range(args.repeats):  # alternating, so that others' load falls on every configuration
            for w in configs:
                timed[w].append(time_sweep(desc, w, clusters[w][1]))
        task_ms = {w: task_overhead_ms(clusters[w][1]) for w in configs if w}
    finally:
        for context, _, _ in reversed(list(clusters.values())):  # last made, first closed
            if context is not None:
                context.__exit__(None, None, None)
    runs = {}
    for w, rs in timed.items():
        best = max(rs, key=lambda r: r["models_per_s"])
        runs[w] = {**{k: v for k, v in best.items() if k != "rows"}, "startup_s": clusters[w][2],
                   "models_per_s_all": [r["models_per_s"] for r in rs],
                   "cores_obtained_all": [r["cores_obtained"] for r in rs], "task_overhead_ms": task_ms.get(w)}
    rows = timed[0][0]["rows"]
    runs[0]["driver_write_ms_per_chunk"] = time_writes(desc, rows[: int(runs[0]["models_per_chunk"])])
    cv = {f"{r['morphology.cable.diam_um']:.9g},{r['biophysics.celsius']:.9g}": r["cv_m_s"] for r in rows}
    neuron = time_neuron(args.models, args.neuron_models) if have_neuron() and args.neuron_models else None
    one = runs.get(1)
    report = {"machine": f"{cpu_model()}, {os.cpu_count()} cores", "python": sys.version.split()[0],
              "grid": f"{len(desc['parameter'][0]['values'])} diameters × {N_TEMPERATURES} temperatures",
              "repeats": args.repeats, "runs": {str(w): r for w, r in runs.items()},
              "neuron": None if neuron is None else {k: v for k, v in neuron.items() if k != "cv"}}
    print(f"{report['machine']}; {report['grid']} = {runs[0]['n_models']} models of "
          f"{int(round(LENGTH / SEGMENT))} compartments, {int(round(TSTOP / DT))} steps")
    print(f"{'run':22} {'models/s':>9} {'sweep s':>8} {'start s':>8} {'chunks':>6} {'chunk s':>8} "
          f"{'x 1 worker':>10} {'cores got':>9} {'models/cpu-s':>12} {'load before/after':>18}")
    for w, r in runs.items():
        name = "this process (no Dask)" if w == 0 else f"{w} local worker{'s' if w > 1 else ''}"
        scale = r["models_per_s"] / one["models_per_s"] if one else None
        print(f"{name:22} {r['models_per_s']:9.1f} {r['sweep_s']:8.1f} {r['startup_s']:8.1f} {r['n_chunks']:6d} "
              f"{r['chunk_s_median']:8.2f} {fmt(scale, '.2f'):>10} {r['cores_obtained']:9.2f} "
              f"{r['models_per_cpu_s']:12.1f} {r['load_before_after'][0]:8.2f} / {r['load_before_after'][1]:.2f}")
    if neuron:
        print(f"{'NEURON loop':22} {neuron['models_per_s']:9.1f} {neuron['wall_s']:8.1f} {'':8} {'':6} {'':8} "
              f"{'':10} {'':9} {'':12} {neuron['load_before_after'][0]:8.2f} / {neuron['load_before_after'][1]:.2f}")
        diffs = [abs(cv[k] / v - 1) for k, v in neuron["cv"].items() if v is not None and cv.get(k) is not None]
        report["neuron"]["max_rel_cv_difference"] = max(diffs) if diffs else None
        report["ratios_to_neuron"] = {str(w): r["models_per_s"] / neuron["models_per_s"] for w, r in runs.items()}
        print(f"velocity, sweep against NEURON on {len(diffs)} models: max relative difference "
              f"{fmt(report['neuron']['max_rel_cv_difference'], '.2e')}")
        print("models/s against the NEURON loop: " + ", ".join(
            f"{'here' if w == '0' else w + ' w'} {x:.1f}x" for w, x in report["ratios_to_neuron"].items()))
    print("(best of " + ", ".join(f"{len(r['models_per_s_all'])}: " + " ".join(f"{x:.0f}" for x in r["models_per_s_all"])
                                  + " models/s" for r in runs.values()) + ")")
    tasks = [r["task_overhead_ms"] for r in runs.values() if r["task_overhead_ms"]]
    if tasks:
        print(f"Dask cost per task (1,000 empty tasks): {min(tasks):.2f} ms of wall time")
    print(f"the driver's cost of writing a chunk of {runs[0]['models_per_chunk']:.0f} rows: "
          f"{runs[0]['driver_write_ms_per_chunk']:.1f} ms")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
