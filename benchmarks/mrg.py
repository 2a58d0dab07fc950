"""The MRG double-cable fibre, hhcable against NEURON running the published model.

Usage::

    python benchmarks/mrg.py                # 5 alternating repeats, medians
    python benchmarks/mrg.py --quick        # one run each
    python benchmarks/mrg.py --tstop 50     # a longer run (ms)

The fibre of McIntyre, Richardson & Grill (2002): 10 µm, 21 nodes (221 compartments, each
with its periaxonal/myelin layer), 37 °C, dt 0.005 ms, a spike started at node 0, timed
stepping only in separate processes: hhcable's compiled kernel (numba, the layered solve)
with rate tables and with exact rates, hhcable's numpy loop, and NEURON (``axnode`` from
``tests/nmodl/axnode.mod`` compiled with ``nrnivmodl`` into a temporary folder, the fibre
from ``tests/neuron_models.build_mrg``, ``ParallelContext.psolve`` after ``finitialize``).
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
sys.path.insert(0, str(HERE.parent / "tests"))

from run import MB_PER_KB, NS_PER_S, RESULT_TAG, cpu_model, fmt, have_neuron, median_of  # noqa: E402

NMODL = HERE.parent / "tests" / "nmodl"
DIAM, N_NODES, DT, AMP = 10.0, 21, 0.005, 2.0  # µm, nodes, ms, nA
RUNS = {  # label -> (simulator, options)
    "hhcable numba": ("hhcable", {"backend": "numba"}),
    "hhcable numba exact": ("hhcable", {"backend": "numba", "use_table": False}),
    "hhcable numpy": ("hhcable", {"backend": "numpy"}),
    "NEURON": ("neuron", {}),
}


def run_hhcable(tstop, options):
    import hhcable as hc

    fibre = hc.mrg_fibre(diam=DIAM, n_nodes=N_NODES, node_channel=hc.MRGNode(use_table=options.get("use_table", True)))
    sim = hc.Simulation(fibre.cell, dt=DT, v_init=-80.0, backend=options["backend"])
    sim.iclamp(at=fibre.node(0), delay=0.1, dur=0.1, amp=AMP)
    sim.probe("v", at=fibre.node(-1))
    res = sim.run(tstop)
    return fibre.cell.n_compartments, res.run_wall_s, len(hc.spike_times(res.t, res["v"]))


def run_neuron(tstop, options):
    import numpy as np
    from neuron import h

    import hhcable as hc
    from neuron_models import build_mrg

    chain, nodes = build_mrg(DIAM, N_NODES)
    stim = h.IClamp(nodes[0](0.5))
    stim.delay, stim.dur, stim.amp = 0.1, 0.1, AMP
    v = h.Vector().record(nodes[-1](0.5)._ref_v)
    t = h.Vector().record(h._ref_t)
    h.cvode.active(0)
    h.dt = DT
    pc = h.ParallelContext()
    pc.set_maxstep(10)
    h.finitialize(-80.0)
    start = time.perf_counter()
    pc.psolve(tstop)
    wall = time.perf_counter() - start
    spikes = len(hc.spike_times(np.array(t), np.array(v)))
    return sum(sec.nseg for sec in chain), wall, spikes


def worker(label, tstop, mechanisms):
    simulator, options = RUNS[label]
    if simulator == "neuron":
        import neuron

        neuron.load_mechanisms(mechanisms)
        n_comp, wall, spikes = run_neuron(tstop, options)
    else:
        n_comp, wall, spikes = run_hhcable(tstop, options)
    steps = round(tstop / DT)
    print(RESULT_TAG + json.dumps({
        "n_compartments": n_comp, "n_steps": steps, "wall_s": wall, "spikes": spikes,
        "ns_per_compartment_step": wall * NS_PER_S / (n_comp * steps),
        "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * MB_PER_KB}))


def measure(label, tstop, mechanisms):
    cmd = [sys.executable, __file__, "--worker", label, "--tstop", str(tstop), "--mechanisms", mechanisms]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        print(f"  {label}: failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}", file=sys.stderr)
        return None
    return json.loads(lines[-1][len(RESULT_TAG):])


def compile_mechanisms(folder):
    """``axnode.mod`` compiled into ``folder``; the folder, or None without nrnivmodl."""
    if shutil.which("nrnivmodl") is None:
        return None
    shutil.copy(NMODL / "axnode.mod", folder)
    done = subprocess.run(["nrnivmodl"], cwd=folder, capture_output=True, text=True)
    return folder if done.returncode == 0 else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run each")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tstop", type=float, default=5.0, help="ms (default 5)")
    parser.add_argument("--json", help="write the table here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--mechanisms", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.tstop, args.mechanisms)
        return 0
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as tmp:
        mechanisms = compile_mechanisms(tmp) if have_neuron() else None
        labels = [lb for lb in RUNS if RUNS[lb][0] == "hhcable" or mechanisms]
        runs = {lb: [] for lb in labels}
        for _ in range(repeats):  # alternate, so drifts in machine load hit every row alike
            for lb in labels:
                out = measure(lb, args.tstop, mechanisms or "")
                if out:
                    runs[lb].append(out)
    rows = {lb: {"ns_per_compartment_step": median_of(r, "ns_per_compartment_step"),
                 "wall_s": median_of(r, "wall_s"), "spikes": r[0]["spikes"] if r else None,
                 "n_compartments": r[0]["n_compartments"] if r else None, "runs": len(r)}
            for lb, r in runs.items()}
    neuron_ns = rows.get("NEURON", {}).get("ns_per_compartment_step")
    print(f"MRG fibre {DIAM:g} µm, {N_NODES} nodes, dt {DT} ms, {args.tstop:g} ms; {cpu_model()}")
    print(f"{'run':<22}{'comps':>7}{'wall (s)':>11}{'ns/c-s':>9}{'x NEURON':>10}{'spikes':>8}")
    for lb, row in rows.items():
        ns = row["ns_per_compartment_step"]
        ratio = ns / neuron_ns if ns and neuron_ns else None
        row["ratio_to_neuron"] = ratio
        print(f"{lb:<22}{fmt(row['n_compartments'], 'd'):>7}{fmt(row['wall_s'], '.4f'):>11}"
              f"{fmt(ns, '.0f'):>9}{fmt(ratio, '.2f'):>10}{fmt(row['spikes'], 'd'):>8}")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": "mrg", "diam_um": DIAM, "n_nodes": N_NODES, "dt_ms": DT,
                                               "tstop_ms": args.tstop, "repeats": repeats, "cpu": cpu_model(),
                                               "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
