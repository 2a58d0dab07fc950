"""What a channel costs: HH alone and HH with the Connor–Stevens A-current, hhcable against NEURON.

Usage::

    python benchmarks/channels.py              # 3 alternating repeats, medians
    python benchmarks/channels.py --quick      # one run each
    python benchmarks/channels.py --membrane   # the compiled membrane step alone, per node

The squid axon of ``run.py`` (3,000 compartments, dt 0.0025 ms, 4 ms), once with ``hh`` and
once with ``hh`` plus ``ka_cs`` (two more gates), timed stepping only in separate processes:
hhcable's compiled kernel (generated from the channel descriptions) with rate tables and
with exact rates, hhcable's numpy loop, and NEURON (``hh`` with its tables, ``ka_cs`` from
``tests/nmodl/ka_cs.mod`` compiled with ``nrnivmodl`` into a temporary folder).  The
A-current's share is the extra time over HH alone, against 2/3 (two gates more than HH's
three, plus one current).

``--membrane`` times the compiled kernel's membrane step for HH alone (no voltage solve) on
30,000 nodes at voltages of a spike in progress (most at rest, a tenth spread over
-75..40 mV): conductances only, gates by the rate table, gates by the exact rates, in CPU
time of the thread (best of 15 blocks of 20 calls), so other work on the machine counts
less.
"""

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run import MB_PER_KB, NS_PER_S, RESULT_TAG, cpu_model, fmt, have_neuron, median_of  # noqa: E402

NMODL = HERE.parent / "tests" / "nmodl"
LENGTH, DIAM, SEGMENT, DT, TSTOP, CELSIUS = 30000.0, 476.0, 10.0, 0.0025, 4.0, 18.5
#: Maximal A-current conductance (S/cm²): small enough that the squid axon still conducts.
GKABAR = 0.005
RUNS = {  # label -> (simulator, with A-current, options)
    "hh numba": ("hhcable", False, {"backend": "numba"}),
    "hh+A numba": ("hhcable", True, {"backend": "numba"}),
    "hh numba exact": ("hhcable", False, {"backend": "numba", "use_table": False}),
    "hh+A numba exact": ("hhcable", True, {"backend": "numba", "use_table": False}),
    "hh numpy": ("hhcable", False, {"backend": "numpy"}),
    "hh+A numpy": ("hhcable", True, {"backend": "numpy"}),
    "hh NEURON": ("neuron", False, {}),
    "hh+A NEURON": ("neuron", True, {}),
}


def run_hhcable(with_a, options):
    import hhcable as hc

    table = options.get("use_table", True)
    cell = hc.Cell(hc.Morphology.cable(LENGTH, DIAM), celsius=CELSIUS, max_segment=SEGMENT)
    cell.insert(hc.HH(use_table=table))
    if with_a:
        cell.insert(hc.channels.KACS(gkabar=GKABAR, use_table=table))
    sim = hc.Simulation(cell, dt=DT, backend=options["backend"])
    sim.iclamp(at=0.0, delay=0.5, dur=0.3, amp=1e5)
    sim.probe("v", at=0.5)
    res = sim.run(TSTOP)
    return cell.n_compartments, res.run_wall_s, len(hc.spike_times(res.t, res["v"]))


def run_neuron(with_a, options):
    import neuron
    from neuron import h

    import hhcable as hc

    if with_a:
        neuron.load_mechanisms(options["mechanisms"])
    h.load_file("stdrun.hoc")
    h.celsius, h.dt = CELSIUS, DT
    h.cvode.active(0)
    sec = h.Section(name="axon")
    sec.L, sec.diam, sec.nseg, sec.Ra, sec.cm = LENGTH, DIAM, int(LENGTH / SEGMENT), 35.4, 1.0
    sec.insert("hh")
    if with_a:
        sec.insert("ka_cs")
        for seg in sec:
            seg.gkabar_ka_cs = GKABAR
    stim = h.IClamp(sec(0.0))
    stim.delay, stim.dur, stim.amp = 0.5, 0.3, 1e5
    rec, t = h.Vector().record(sec(0.5)._ref_v), h.Vector().record(h._ref_t)
    pc = h.ParallelContext()
    pc.set_maxstep(10.0)
    h.finitialize(-65.0)
    start = time.perf_counter()
    pc.psolve(TSTOP)
    wall = time.perf_counter() - start
    del stim
    return sec.nseg, wall, len(hc.spike_times(list(t), list(rec)))


def worker(label, options):
    simulator, with_a, _ = RUNS[label]
    n_comp, wall, spikes = (run_neuron if simulator == "neuron" else run_hhcable)(with_a, options)
    n_steps = round(TSTOP / DT)
    print(RESULT_TAG + json.dumps({
        "ns_per_compartment_step": wall / (n_comp * n_steps) * NS_PER_S, "spikes": spikes,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * MB_PER_KB}))


def measure(label, options):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", label, "--options", json.dumps(options)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(f"{label} failed:\n{proc.stderr[-2000:]}\n")
        return None
    return json.loads(lines[-1][len(RESULT_TAG):])


#: Nodes and voltages of the membrane-step profile (mV).
PROFILE_NODES, PROFILE_SPIKE_NODES = 30000, 3000


def membrane_profile():
    """ns per node of the compiled membrane step of HH: conductances, table, exact rates."""
    import numpy as np

    import hhcable as hc
    from hhcable import kernels
    from hhcable.channels.base import TABLE_DV
    from hhcable.engine import RateTable

    n, spike = PROFILE_NODES, PROFILE_SPIKE_NODES
    rng = np.random.default_rng(0)
    v = np.r_[np.full(n - spike, -65.0) + rng.normal(0.0, 0.5, n - spike), np.linspace(-75.0, 40.0, spike)]
    hh = hc.HH()
    spec = hh.spec()
    q = spec.q10_factors(hc.HH, CELSIUS).reshape(1, -1)
    table = RateTable(hc.HH, q[0], DT, {}).kernel_layout()[None]
    params = np.array([np.full(n, hh.params[p]) for p in spec.params])
    states = hh.steady_state(v)
    g, ge = np.zeros(n), np.zeros(n)
    membrane = kernels.module_for([hc.HH]).membrane_0
    out = {}
    for label, advance, use_table in (("conductances", False, True), ("table", True, True), ("exact", True, False)):
        args = (v, DT, advance, True, np.array([0, n]), np.arange(n), q, np.array([use_table]), params, states,
                table, 1.0 / TABLE_DV, g, ge)
        membrane(*args)
        best = float("inf")
        for _ in range(15):
            start = time.thread_time()
            for _ in range(20):
                membrane(*args)
            best = min(best, (time.thread_time() - start) / 20)
        out[label] = best / n * NS_PER_S
    return out


def compile_nmodl():
    """Compile ka_cs.mod for NEURON; the folder to load, or None if that cannot be done here."""
    if not have_neuron() or shutil.which("nrnivmodl") is None:
        return None
    build = Path(tempfile.mkdtemp(prefix="hhcable-bench-nmodl-"))
    shutil.copy(NMODL / "ka_cs.mod", build)
    done = subprocess.run(["nrnivmodl"], cwd=build, capture_output=True, text=True)
    return str(build) if done.returncode == 0 else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="alternating runs of each (default 3)")
    p.add_argument("--quick", action="store_true", help="one run each")
    p.add_argument("--runs", nargs="+", choices=list(RUNS), help="a subset of the runs (default: all)")
    p.add_argument("--membrane", action="store_true", help="time the compiled membrane step alone (ns per node)")
    p.add_argument("--json", default=str(HERE / "results" / "channels.json"), help="where to write the table")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker, json.loads(args.options))
        return 0
    if args.membrane:
        for label, ns in membrane_profile().items():
            print(f"membrane step, HH, {label:12} {ns:6.2f} ns/node (thread CPU time)")
        return 0
    mechanisms = compile_nmodl() if not args.runs or any("NEURON" in r for r in args.runs) else None
    labels = [label for label, (sim, with_a, _) in RUNS.items()
              if (sim == "hhcable" or (have_neuron() and (mechanisms or not with_a)))
              and (not args.runs or label in args.runs)]
    runs = {label: [] for label in labels}
    for _ in range(1 if args.quick else args.repeats):
        for label in labels:
            runs[label].append(measure(label, {**RUNS[label][2], "mechanisms": mechanisms}))
    rows = {label: {"ns_per_compartment_step": median_of(rs, "ns_per_compartment_step"),
                    "spikes": median_of(rs, "spikes"), "peak_memory_mb": median_of(rs, "peak_memory_mb")}
            for label, rs in runs.items()}
    print(f"{'run':18} {'ns/comp-step':>12} {'spikes':>6} {'peak MB':>8}")
    for label, row in rows.items():
        print(f"{label:18} {fmt(row['ns_per_compartment_step'], '.1f'):>12} {fmt(row['spikes'], '.0f'):>6} "
              f"{fmt(row['peak_memory_mb'], '.0f'):>8}")
    summary = {}
    for kind in ("numba", "numba exact", "numpy", "NEURON"):
        hh, hha = rows.get(f"hh {kind}"), rows.get(f"hh+A {kind}")
        if hh and hha and hh["ns_per_compartment_step"] and hha["ns_per_compartment_step"]:
            summary[f"A-current extra, {kind}"] = hha["ns_per_compartment_step"] / hh["ns_per_compartment_step"] - 1
        nrn = rows.get("hh NEURON")
        if kind != "NEURON" and nrn and nrn["ns_per_compartment_step"] and hh and hh["ns_per_compartment_step"]:
            summary[f"NEURON / hhcable {kind}, hh"] = nrn["ns_per_compartment_step"] / hh["ns_per_compartment_step"]
        nrn_a = rows.get("hh+A NEURON")
        if kind != "NEURON" and nrn_a and nrn_a["ns_per_compartment_step"] and hha and hha["ns_per_compartment_step"]:
            summary[f"NEURON / hhcable {kind}, hh+A"] = (nrn_a["ns_per_compartment_step"]
                                                        / hha["ns_per_compartment_step"])
    for key, value in summary.items():
        print(f"{key}: {value:.2f}" + (" (the gates' share: 0.67)" if key.startswith("A-current") else ""))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": {"cpu": cpu_model()}, "rows": rows, "summary": summary}, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
