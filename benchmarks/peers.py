"""Time hhcable against every peer simulator that is installed, on the same models, after
checking that they compute the same thing.

Usage::

    python benchmarks/peers.py                         # every model, best of 3 processes
    python benchmarks/peers.py --quick                 # one process each (the check run)
    python benchmarks/peers.py --models squid ca1 --repeats 5
    python benchmarks/peers.py --peer-python /work/peers-venv/bin/python

Peers: NEURON (rate tables on and off: ``usetable_hh``), Arbor (1 and 2 threads), Brian2
(``SpatialNeuron``, runtime mode with Cython) and Jaxley (jax on the CPU); each is optional
and skipped when the peer python cannot import it.  hhcable runs with its rate tables and
with exact rates (``HH(use_table=False)``), in ``sys.executable``; the peers run in
``--peer-python`` (default ``sys.executable``), so they may live in a virtual environment of
their own.  Every run is a separate process; the figure kept is the best of ``--repeats``.

Every simulator builds the same compartments from hhcable's own discretisation (the 3-d
points and ``nseg`` of every section), with the same dt, temperature, HH parameters and
current step.  The first round of runs is the check: the first 0 mV crossing at every probe
(cables: two points per cell, giving a velocity; trees: the tips) must agree with hhcable's
exact-rate run, velocities within 2 % and latencies within 5 %.  A simulator that fails is
not timed on that model (the table says ``refused``).  Timed is the stepping alone:
``Result.run_wall_s`` (hhcable), ``ParallelContext.psolve`` after ``finitialize`` (NEURON),
``simulation.run`` (Arbor), from the first step to the last of ``Network.run``, read by a
clock at the start of every step, so that code generation, compilation and the run call's
preparation are left out (Brian2), and the
second call of the jitted ``jx.integrate`` (Jaxley: the first compiles).  Peak memory is
the process's peak resident set.
"""

import argparse
import inspect
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

#: ns per s
NS_PER_S = 1e9
#: MB per kB (ru_maxrss is in kB on Linux)
MB_PER_KB = 1.0 / 1024.0
#: µm per m and ms per s: a velocity in µm/ms is mm/s; m/s = µm/ms / 1000
UM_PER_MS_PER_M_PER_S = 1000.0
#: Kelvin at 0 °C
ZERO_CELSIUS_K = 273.15
RESULT_TAG = "PEER-RESULT "
#: Largest nseg NEURON accepts for one section
NEURON_MAX_NSEG = 32767
#: Threshold of the crossings the check compares (mV)
THRESHOLD_MV = 0.0
#: Acceptance of the check (relative): velocities and latencies
VELOCITY_TOLERANCE = 0.02
LATENCY_TOLERANCE = 0.05
#: Tips probed on a tree (spread over the range of path lengths)
MAX_TIPS = 12
#: The HH model of Hodgkin & Huxley (1952) as NEURON's hh.mod: S/cm², mV
HH = {"gnabar": 0.12, "gkbar": 0.036, "gl": 0.0003, "ena": 50.0, "ek": -77.0, "el": -54.3}
#: Temperature factor base and reference: Q10 = 3 from 6.3 °C
Q10, Q10_CELSIUS = 3.0, 6.3
V_INIT = -65.0  # mV

#: Columns of the table: (key, simulator, options, exact rates?)
COLUMNS = [
    ("hhcable", "hhcable", {"use_table": True}, False),
    ("hhcable exact", "hhcable", {"use_table": False}, True),
    ("NEURON tables", "neuron", {"use_table": True}, False),
    ("NEURON exact", "neuron", {"use_table": False}, True),
    ("Arbor 1 thread", "arbor", {"threads": 1}, True),
    ("Arbor 2 threads", "arbor", {"threads": 2}, True),
    ("Jaxley CPU", "jaxley", {}, True),
    ("Brian2", "brian2", {}, True),
]
REFERENCE = "hhcable exact"
IMPORT_NAME = {"neuron": "neuron", "arbor": "arbor", "jaxley": "jaxley", "brian2": "brian2"}


# -- the model as plain numbers -------------------------------------------------------------
def describe(model):
    """The model as plain numbers every simulator builds from: sections (3-d points, parent,
    attachment point, ``nseg`` from hhcable's discretisation), probes and velocity pairs."""
    import hhcable as hc

    cells = []
    for morph in model.morphologies:
        comp = hc.Cell(morph, Ra=model.Ra, max_segment=model.max_segment).compartments
        cells.append([{"name": s.name, "points": [[float(v) for v in p] for p in s.points],
                       "parent": int(s.parent), "parent_x": float(s.parent_x),
                       "length": float(s.arc[-1]), "nseg": len(comp.section_nodes[s.index]) - 2}
                      for s in morph.sections])
    probes, pairs = [list(p) for p in model.probes], []
    for i, j in model.pairs:
        (ci, si, xi), (cj, sj, xj) = probes[i], probes[j]
        if (ci, si) != (cj, sj):
            raise ValueError(f"{model.name}: velocity pairs must lie on one section")
        pairs.append([i, j, (xj - xi) * cells[ci][si]["length"]])
    if not probes:
        probes = tip_probes(cells[0])
    return {"name": model.name, "dt": model.dt, "tstop": model.tstop, "celsius": model.celsius,
            "Ra": model.Ra, "cm": 1.0, "delay": model.delay, "dur": model.dur, "amps": model.amps,
            "stim_at": list(model.stim_at), "cells": cells, "probes": probes, "pairs": pairs,
            "n_compartments": sum(s["nseg"] for cell in cells for s in cell)}


def tip_probes(sections):
    """The 1 ends of up to MAX_TIPS leaf sections, spread over the range of path lengths."""
    parents = {s["parent"] for s in sections}
    path = []
    for s in sections:
        up = path[s["parent"]] * 1.0 if s["parent"] >= 0 else 0.0
        below = sections[s["parent"]]["length"] * s["parent_x"] if s["parent"] >= 0 else 0.0
        path.append(up + below + s["length"] if s["parent"] >= 0 else s["length"])
    leaves = sorted((path[k], k) for k in range(len(sections)) if k not in parents)
    step = max(1, len(leaves) // MAX_TIPS)
    chosen = leaves[::-1][::step][:MAX_TIPS]
    return [[0, k, 1.0] for _, k in chosen]


def first_crossings(t, traces):
    """First upward crossing of THRESHOLD_MV (ms, linear between samples) of each trace, or None."""
    import numpy as np

    t = np.asarray(t)
    out = []
    for v in traces:
        v = np.asarray(v)
        up = np.flatnonzero((v[:-1] < THRESHOLD_MV) & (v[1:] >= THRESHOLD_MV))
        if up.size == 0:
            out.append(None)
            continue
        k = up[0]
        out.append(float(t[k] + (THRESHOLD_MV - v[k]) * (t[k + 1] - t[k]) / (v[k + 1] - v[k])))
    return out


# -- workers (each in its own process) ------------------------------------------------------
def run_hhcable(spec, options):
    import hhcable as hc
    from models import models

    model = models()[spec["name"]]
    sims = []
    for c, (morph, amp) in enumerate(zip(model.morphologies, spec["amps"])):
        cell = hc.Cell(morph, Ra=spec["Ra"], celsius=spec["celsius"], max_segment=model.max_segment)
        cell.insert(hc.HH(use_table=options.get("use_table", True)))
        sim = hc.Simulation(cell, dt=spec["dt"])
        s, x = spec["stim_at"]
        sim.iclamp(at=hc.Location(section=s, x=x), delay=spec["delay"], dur=spec["dur"], amp=amp)
        for k, (pc, ps, px) in enumerate(spec["probes"]):
            if pc == c:
                sim.probe(f"p{k}", at=hc.Location(section=ps, x=px))
        sims.append(sim)
    batch_kwargs, threads = {}, 1
    if options.get("threads") and "threads" in inspect.signature(hc.Batch).parameters:
        batch_kwargs["threads"] = threads = options["threads"]
    results = hc.Batch(sims, backend=options.get("backend", "auto"), **batch_kwargs).run(spec["tstop"])
    traces = {}
    for res in results:
        for name in res.names:
            traces[int(name[1:])] = res[name]
    t = results[0].t
    info = results[0].info
    threads = info.get("threads", threads)
    return {"n_compartments": sum(s.cell.n_compartments for s in sims),
            "n_steps": round(spec["tstop"] / spec["dt"]), "step_wall_s": results[0].run_wall_s,
            "threads": threads, "backend": info.get("backend"),
            "crossings": first_crossings(t, [traces[k] for k in range(len(spec["probes"]))])}


def neuron_sections(h, cell, Ra, cm, name):
    """NEURON sections of one cell; a section longer than NEURON_MAX_NSEG segments (straight
    only) is cut into equal pieces.  Returns ``pieces[section] = [sec, ...]``."""
    pieces = []
    for k, s in enumerate(cell):
        n_pieces = -(-s["nseg"] // NEURON_MAX_NSEG)
        if n_pieces > 1 and len(s["points"]) != 2:
            raise SystemExit(f"section {k}: cannot split a bent section of {s['nseg']} segments")
        parent = pieces[s["parent"]] if s["parent"] >= 0 else None
        secs = []
        for p in range(n_pieces):
            sec = h.Section(name=f"{name}_{k}_{p}")
            a, b = s["points"][0], s["points"][-1]
            chunk = s["points"] if n_pieces == 1 else [
                [a[i] + (b[i] - a[i]) * f for i in range(4)] for f in (p / n_pieces, (p + 1) / n_pieces)]
            for x, y, z, r in chunk:
                sec.pt3dadd(x, y, z, 2.0 * r)
            sec.nseg = s["nseg"] // n_pieces
            sec.Ra, sec.cm = Ra, cm
            sec.insert("hh")
            if p > 0:
                sec.connect(secs[-1](1.0), 0.0)
            elif parent is not None:
                x_par = s["parent_x"]
                i = min(int(x_par * len(parent)), len(parent) - 1)
                sec.connect(parent[i](x_par * len(parent) - i), 0.0)
            secs.append(sec)
        pieces.append(secs)
    return pieces


def neuron_seg(pieces, s, x):
    """NEURON's segment at ``sec(x)`` of a possibly cut section."""
    secs = pieces[s]
    i = min(int(x * len(secs)), len(secs) - 1)
    return secs[i](x * len(secs) - i)


def run_neuron(spec, options):
    from neuron import h

    h.load_file("stdrun.hoc")
    h.celsius, h.dt = spec["celsius"], spec["dt"]
    h.usetable_hh = 1 if options.get("use_table", True) else 0
    h.cvode.active(0)
    keep, recs = [], {}
    for c, (cell, amp) in enumerate(zip(spec["cells"], spec["amps"])):
        pieces = neuron_sections(h, cell, spec["Ra"], spec["cm"], f"c{c}")
        stim = h.IClamp(neuron_seg(pieces, *spec["stim_at"]))
        stim.delay, stim.dur, stim.amp = spec["delay"], spec["dur"], amp
        for k, (pc, ps, px) in enumerate(spec["probes"]):
            if pc == c:
                recs[k] = h.Vector().record(neuron_seg(pieces, ps, px)._ref_v)
        keep.append((pieces, stim))
    t = h.Vector().record(h._ref_t)
    n_comp = sum(sec.nseg for pieces, _ in keep for secs in pieces for sec in secs)
    pc = h.ParallelContext()
    pc.set_maxstep(10.0)  # no network: any max step lets psolve run its fixed-step loop
    h.finitialize(V_INIT)
    start = time.perf_counter()
    pc.psolve(spec["tstop"])
    wall = time.perf_counter() - start
    return {"n_compartments": n_comp, "n_steps": round(spec["tstop"] / spec["dt"]), "step_wall_s": wall,
            "threads": 1, "crossings": first_crossings(t, [recs[k] for k in range(len(spec["probes"]))])}


def arbor_cell(A, U, cell, spec, c, amp):
    """One Arbor cable cell: a segment per pair of 3-d points, tagged by section (tag k + 1),
    children hung where NEURON hangs them; CV boundaries at NEURON's segment boundaries.
    Returns the cell and the indices of the model's probes on it."""
    tree = A.segment_tree()
    ends = []  # per section: {x: id of the segment ending there}
    for k, s in enumerate(cell):
        pts = s["points"]
        arc = [0.0]
        for a, b in zip(pts, pts[1:]):
            arc.append(arc[-1] + math.dist(a[:3], b[:3]))
        total = arc[-1]
        cuts = sorted({child["parent_x"] for child in cell if child["parent"] == k} - {0.0, 1.0})
        if s["parent"] < 0:
            seg = A.mnpos
        else:
            where = ends[s["parent"]]
            seg = where[s["parent_x"]] if s["parent_x"] in where else where[0.0]
        mine = {0.0: seg}
        prev = pts[0]
        for i in range(1, len(pts)):
            # insert the attachment points that fall inside this pair of points
            for x in cuts:
                if arc[i - 1] < x * total < arc[i]:
                    f = (x * total - arc[i - 1]) / (arc[i] - arc[i - 1])
                    mid = [pts[i - 1][j] + (pts[i][j] - pts[i - 1][j]) * f for j in range(4)]
                    seg = tree.append(seg, A.mpoint(*prev), A.mpoint(*mid), tag=k + 1)
                    mine[x], prev = seg, mid
                elif x * total == arc[i - 1] and i > 1:
                    mine[x] = seg
            seg = tree.append(seg, A.mpoint(*prev), A.mpoint(*pts[i]), tag=k + 1)
            prev = pts[i]
        mine[1.0] = seg
        ends.append(mine)
    decor = A.decor()
    decor.set_property(Vm=V_INIT * U.mV, cm=spec["cm"] * U.uF / U.cm2, rL=spec["Ra"] * U.Ohm * U.cm,
                       tempK=(spec["celsius"] + ZERO_CELSIUS_K) * U.Kelvin)
    decor.paint("(all)", A.density("hh", {"gnabar": HH["gnabar"], "gkbar": HH["gkbar"], "gl": HH["gl"],
                                          "el": HH["el"]}))
    s, x = spec["stim_at"]
    decor.place(f"(on-components {x} (tag {s + 1}))", A.i_clamp(spec["delay"] * U.ms, spec["dur"] * U.ms,
                                                                   amp * U.nA))
    probes = [k for k, (pc, _, _) in enumerate(spec["probes"]) if pc == c]
    if len(cell) == 1:  # one branch: the same boundaries, without a million-term expression
        policy = A.cv_policy(f"(fixed-per-branch {cell[0]['nseg']})")
    else:
        bounds = " ".join(f"(on-components {i / s_['nseg']!r} (tag {j + 1}))"
                          for j, s_ in enumerate(cell) for i in range(s_["nseg"] + 1))
        policy = A.cv_policy(f"(explicit (sum {bounds}))")
    return A.cable_cell(A.morphology(tree), decor, discretization=policy), probes


def run_arbor(spec, options):
    import arbor as A
    from arbor import units as U

    class Recipe(A.recipe):
        def __init__(self, cells):
            A.recipe.__init__(self)
            self.cells = cells
            self.props = A.neuron_cable_properties()
            self.props.set_ion("na", int_con=10 * U.mM, ext_con=140 * U.mM, rev_pot=HH["ena"] * U.mV)
            self.props.set_ion("k", int_con=54.4 * U.mM, ext_con=2.5 * U.mM, rev_pot=HH["ek"] * U.mV)

        def num_cells(self):
            return len(self.cells)

        def cell_kind(self, gid):
            return A.cell_kind.cable

        def cell_description(self, gid):
            return self.cells[gid]

        def global_properties(self, kind):
            return self.props

        def probes(self, gid):
            return [A.cable_probe_membrane_voltage(f"(on-components {spec['probes'][k][2]!r} "
                                                   f"(tag {spec['probes'][k][1] + 1}))", f"p{k}")
                    for k in built[gid][1]]

    built = [arbor_cell(A, U, cell, spec, c, amp) for c, (cell, amp) in enumerate(zip(spec["cells"], spec["amps"]))]
    recipe = Recipe([b[0] for b in built])
    ctx = A.context(threads=options["threads"])
    sim = A.simulation(recipe, ctx, A.partition_load_balance(recipe, ctx))
    every = A.regular_schedule(spec["dt"] * U.ms)
    handles = {k: sim.sample((gid, f"p{k}"), every) for gid, (_, ks) in enumerate(built) for k in ks}
    n_cv = sum(A.cv_data(b[0]).num_cv for b in built)
    start = time.perf_counter()
    sim.run(spec["tstop"] * U.ms, spec["dt"] * U.ms)
    wall = time.perf_counter() - start
    crossings = [None] * len(spec["probes"])
    for k, handle in handles.items():
        (data, _), = sim.samples(handle)
        crossings[k] = first_crossings(data[:, 0], [data[:, 1]])[0]
    return {"n_compartments": n_cv, "n_steps": round(spec["tstop"] / spec["dt"]), "step_wall_s": wall,
            "threads": options["threads"], "crossings": crossings}


def resampled(points, n):
    """Radius (µm) at the n + 1 equally spaced arc positions of a section's 3-d points."""
    import numpy as np

    pts = np.asarray(points)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts[:, :3], axis=0), axis=1))])
    return np.interp(np.linspace(0.0, arc[-1], n + 1), arc, pts[:, 3])


def run_brian2(spec, options):
    import brian2 as b2
    import numpy as np

    b2.prefs.codegen.target = "cython"
    b2.defaultclock.dt = spec["dt"] * b2.ms
    phi = Q10 ** ((spec["celsius"] - Q10_CELSIUS) / 10.0)
    eqs = f"""
    Im = gNa * m**3 * h * (ENa - v) + gK * n**4 * (EK - v) + gL * (EL - v) : amp/meter**2
    I = amp_i * stim(t) : amp (point current)
    amp_i : amp (constant)
    dm/dt = {phi!r} * (am * (1 - m) - bm * m) : 1
    dh/dt = {phi!r} * (ah * (1 - h) - bh * h) : 1
    dn/dt = {phi!r} * (an * (1 - n) - bn * n) : 1
    am = 1.0 / exprel(-(v + 40*mV) / (10*mV)) / ms : Hz
    bm = 4.0 * exp(-(v + 65*mV) / (18*mV)) / ms : Hz
    ah = 0.07 * exp(-(v + 65*mV) / (20*mV)) / ms : Hz
    bh = 1.0 / (1.0 + exp(-(v + 35*mV) / (10*mV))) / ms : Hz
    an = 0.1 / exprel(-(v + 55*mV) / (10*mV)) / ms : Hz
    bn = 0.125 * exp(-(v + 65*mV) / (80*mV)) / ms : Hz
    """
    ns = {"gNa": HH["gnabar"] * b2.siemens / b2.cm**2, "gK": HH["gkbar"] * b2.siemens / b2.cm**2,
          "gL": HH["gl"] * b2.siemens / b2.cm**2, "ENa": HH["ena"] * b2.mV, "EK": HH["ek"] * b2.mV,
          "EL": HH["el"] * b2.mV}
    n_steps = round(spec["tstop"] / spec["dt"])
    on = np.zeros(n_steps + 1)
    on[round(spec["delay"] / spec["dt"]):round((spec["delay"] + spec["dur"]) / spec["dt"])] = 1.0
    ns["stim"] = b2.TimedArray(on, dt=spec["dt"] * b2.ms)
    neurons, monitors = [], []
    for c, (cell, amp) in enumerate(zip(spec["cells"], spec["amps"])):
        secs = []
        for k, s in enumerate(cell):
            d = 2.0 * resampled(s["points"], s["nseg"])
            sec = b2.Section(n=s["nseg"], diameter=d * b2.um, length=np.full(s["nseg"], s["length"] / s["nseg"]) * b2.um)
            if s["parent"] >= 0:
                # Brian2 hangs a child at its parent's 1 end only (the soma's x = 0.5 children move there)
                secs[s["parent"]].children.add(f"s{k}", sec)
            secs.append(sec)
        neuron = b2.SpatialNeuron(secs[0], eqs, Cm=spec["cm"] * b2.uF / b2.cm**2, Ri=spec["Ra"] * b2.ohm * b2.cm,
                                  method="exponential_euler", namespace=ns)
        index = [sec.indices[:] for sec in secs]
        neuron.v = V_INIT * b2.mV
        for gate, (a, b) in hh_rates(V_INIT).items():
            setattr(neuron, gate, a / (a + b))  # steady state at V_INIT
        s, x = spec["stim_at"]
        neuron.amp_i[index[s][min(int(x * len(index[s])), len(index[s]) - 1)]] = amp * b2.nA
        where = {k: index[ps][min(int(px * len(index[ps])), len(index[ps]) - 1)]
                 for k, (pc, ps, px) in enumerate(spec["probes"]) if pc == c}
        mon = b2.StateMonitor(neuron, "v", record=list(where.values()))
        neurons.append(neuron)
        monitors.append((mon, list(where)))
    stamps = []
    # A clock reading at the start of every step: the stepping is timed from the first step
    # to the last, without the run call's preparation of the code objects (~0.2-0.3 s).
    clock = b2.NetworkOperation(lambda: stamps.append(time.perf_counter()), when="start")
    net = b2.Network(*neurons, *(m for m, _ in monitors), clock)
    net.run(n_steps * spec["dt"] * b2.ms)
    wall = stamps[-1] - stamps[0]
    crossings = [None] * len(spec["probes"])
    for mon, ks in monitors:
        t = np.asarray(mon.t / b2.ms)
        found = first_crossings(t, np.asarray(mon.v / b2.mV))
        for k, value in zip(ks, found):
            crossings[k] = value
    return {"n_compartments": sum(len(nn) for nn in neurons), "n_steps": len(stamps) - 1, "step_wall_s": wall,
            "threads": 1, "crossings": crossings}


def hh_rates(v):
    """HH rate constants (1/ms) at 6.3 °C and ``v`` (mV), NEURON's hh.mod: {gate: (alpha, beta)}."""
    def exprel(x):
        return 1.0 if x == 0 else math.expm1(x) / x

    return {"m": (1.0 / exprel(-(v + 40) / 10), 4.0 * math.exp(-(v + 65) / 18)),
            "h": (0.07 * math.exp(-(v + 65) / 20), 1.0 / (1.0 + math.exp(-(v + 35) / 10))),
            "n": (0.1 / exprel(-(v + 55) / 10), 0.125 * math.exp(-(v + 65) / 80))}


def run_jaxley(spec, options):
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platform_name", "cpu")
    import jax.numpy as jnp
    import jaxley as jx
    import numpy as np
    from jaxley.channels import HH as JaxleyHH
    from jaxley.solver_gate import solve_gate_exponential

    phi = Q10 ** ((spec["celsius"] - Q10_CELSIUS) / 10.0)

    class HHQ10(JaxleyHH):
        """Jaxley's HH (NEURON's rates, exact) with the Q10 temperature factor."""

        def update_states(self, states, dt, v, params):
            p = self._name
            out = {}
            for g, gate in (("m", self.m_gate), ("h", self.h_gate), ("n", self.n_gate)):
                a, b = gate(v)
                out[f"{p}_{g}"] = solve_gate_exponential(states[f"{p}_{g}"], dt, phi * a, phi * b)
            return out

    cells = []
    for c, cell in enumerate(spec["cells"]):
        branches = [jx.Branch(jx.Compartment(), ncomp=s["nseg"]) for s in cell]
        # Jaxley hangs a child at its parent's 1 end only (the soma's x = 0.5 children move there)
        jcell = jx.Cell(branches, parents=[s["parent"] for s in cell])
        cells.append(jcell)
    net = jx.Network(cells) if len(cells) > 1 else cells[0]
    net.insert(HHQ10())
    radius, length = [], []
    for cell in spec["cells"]:
        for s in cell:
            r = resampled(s["points"], 2 * s["nseg"])[1::2]  # radius at each compartment's centre
            radius.append(r)
            length.append(np.full(s["nseg"], s["length"] / s["nseg"]))
    net.set("length", np.concatenate(length))  # set() derives area and axial loads (cylinders)
    net.set("radius", np.concatenate(radius))
    net.set("axial_resistivity", spec["Ra"])
    net.set("capacitance", spec["cm"])
    net.set("v", V_INIT)
    net.init_states()
    view = (lambda c: net.cell(c)) if len(cells) > 1 else (lambda c: net)
    s, x = spec["stim_at"]
    for c, amp in enumerate(spec["amps"]):
        comp = min(int(x * spec["cells"][c][s]["nseg"]), spec["cells"][c][s]["nseg"] - 1)
        current = jx.step_current(spec["delay"], spec["dur"], amp, spec["dt"], spec["tstop"])
        view(c).branch(s).comp(comp).stimulate(current, verbose=False)
    for k, (pc, ps, px) in enumerate(spec["probes"]):
        nseg = spec["cells"][pc][ps]["nseg"]
        view(pc).branch(ps).comp(min(int(px * nseg), nseg - 1)).record("v", verbose=False)

    @jax.jit
    def simulate():
        return jx.integrate(net, delta_t=spec["dt"], t_max=spec["tstop"])

    simulate().block_until_ready()  # compile (and a first run)
    start = time.perf_counter()
    v = simulate().block_until_ready()
    wall = time.perf_counter() - start
    v = np.asarray(v)
    t = np.arange(v.shape[1]) * spec["dt"]
    threads = len(os.sched_getaffinity(0))
    return {"n_compartments": int(sum(s["nseg"] for cell in spec["cells"] for s in cell)),
            "n_steps": v.shape[1] - 1, "step_wall_s": wall, "threads": f"XLA:{threads}",
            "crossings": first_crossings(t, v)}


WORKERS = {"hhcable": run_hhcable, "neuron": run_neuron, "arbor": run_arbor, "brian2": run_brian2,
           "jaxley": run_jaxley}


def worker(simulator, spec_path, options):
    spec = json.loads(Path(spec_path).read_text())
    spec["dt"] *= options.get("dt_scale", 1.0)
    out = WORKERS[simulator](spec, options)
    out["ns_per_compartment_step"] = out["step_wall_s"] / (out["n_compartments"] * out["n_steps"]) * NS_PER_S
    out["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * MB_PER_KB
    out["dt"] = spec["dt"]
    print(RESULT_TAG + json.dumps(out), flush=True)


# -- driver ---------------------------------------------------------------------------------
def measure(python, simulator, spec_path, options, timeout):
    """One run in its own process: the worker's figures, or {"error": ...}."""
    cmd = [python, str(Path(__file__).resolve()), "--worker", simulator, str(spec_path),
           "--options", json.dumps(options)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    total = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {proc.returncode}: {tail[:300]}"}
    return {**json.loads(lines[-1][len(RESULT_TAG):]), "process_wall_s": total}


def check(spec, reference, run):
    """Whether ``run`` computes what ``reference`` does: (passed, one line of figures)."""
    delay = spec["delay"]
    ref, got = reference["crossings"], run["crossings"]
    worst_v, worst_t = 0.0, 0.0
    for i, j, dist in spec["pairs"]:
        if None in (ref[i], ref[j], got[i], got[j]):
            return False, f"no spike at probe {i} or {j}"
        v_ref, v_got = dist / (ref[j] - ref[i]), dist / (got[j] - got[i])
        worst_v = max(worst_v, abs(v_got / v_ref - 1.0))
    for k, (a, b) in enumerate(zip(ref, got)):
        if (a is None) != (b is None):
            return False, f"probe {k}: spike in {'one' if a is None else 'the reference'} only"
        if a is not None:
            worst_t = max(worst_t, abs((b - delay) / (a - delay) - 1.0))
    passed = worst_v <= VELOCITY_TOLERANCE and worst_t <= LATENCY_TOLERANCE
    text = f"latency {100 * worst_t:.3f} %"
    if spec["pairs"]:
        text = f"velocity {100 * worst_v:.3f} %, " + text
    return passed, text


def velocity(spec, run):
    """Mean velocity (m/s) over the model's probe pairs, or None."""
    values = [dist / (run["crossings"][j] - run["crossings"][i]) / UM_PER_MS_PER_M_PER_S
              for i, j, dist in spec["pairs"] if None not in (run["crossings"][i], run["crossings"][j])]
    return sum(values) / len(values) if values else None


def peer_versions(python, modules):
    """{module: version, or None where ``python`` cannot import it}, in one process."""
    code = ("import importlib, json, sys\nout = {}\nfor m in sys.argv[1:]:\n"
            "    try:\n        out[m] = getattr(importlib.import_module(m), '__version__', '?')\n"
            "    except Exception:\n        out[m] = None\nprint(json.dumps(out))")
    proc = subprocess.run([python, "-c", code, *modules], capture_output=True, text=True)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {m: None for m in modules}


def installed_version(name):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"




def main(argv=None):
    from models import models

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", help="subset of models (default: squid axon30k batch64x3k ca1 axon1M)")
    p.add_argument("--repeats", type=int, default=3, help="processes per simulator; the best is kept (default 3)")
    p.add_argument("--quick", action="store_true", help="one process per simulator (the check run)")
    p.add_argument("--peers", nargs="+", choices=("neuron", "arbor", "jaxley", "brian2"),
                   default=["neuron", "arbor", "jaxley", "brian2"], help="peers to try (default all)")
    p.add_argument("--peer-python", default=sys.executable,
                   help="the python that runs the peers (default this one), e.g. a virtual environment's")
    p.add_argument("--columns", nargs="+", choices=[c[0] for c in COLUMNS], metavar="COLUMN",
                   help=f"only these columns (hhcable exact, the reference, always runs); choose from "
                        f"{', '.join(repr(c[0]) for c in COLUMNS)}")
    p.add_argument("--threads", type=int, help="hhcable's threads, passed on where hhcable accepts threads=")
    p.add_argument("--timeout", type=float, default=1800.0,
                   help="seconds one run may take (default 1800: Brian2 compiles the 64-cell batch for ~15 min once)")
    p.add_argument("--dt-scale", nargs=2, metavar=("COLUMN", "FACTOR"), action="append", default=[],
                   help="run a column (e.g. 'NEURON exact') or a simulator (e.g. neuron) at FACTOR times "
                        "the model's dt: a self-test, the check must refuse it")
    p.add_argument("--json", default=str(HERE / "results" / "peers.json"), help="where to write the table")
    p.add_argument("--worker", nargs=2, metavar=("SIMULATOR", "SPEC"), help=argparse.SUPPRESS)
    p.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(*args.worker, json.loads(args.options))
        return 0

    available = models()
    names = args.models or ["squid", "axon30k", "batch64x3k", "ca1", "axon1M"]
    unknown = set(names) - set(available)
    if unknown:
        p.error(f"unknown model(s) {sorted(unknown)}; choose from {sorted(available)}")
    dt_scale = {}
    for sim, factor in args.dt_scale:
        try:
            dt_scale[sim] = float(factor)
        except ValueError:
            p.error(f"--dt-scale {sim}: {factor!r} is not a number")
    repeats = 1 if args.quick else max(1, args.repeats)
    found = peer_versions(args.peer_python, [IMPORT_NAME[peer] for peer in args.peers]
                          + (["jax"] if "jaxley" in args.peers else []))
    have = {peer: found[IMPORT_NAME[peer]] is not None for peer in args.peers}
    for peer, ok in have.items():
        if not ok:
            print(f"{peer}: not importable by {args.peer_python}; skipped")
    columns = [c for c in COLUMNS if (c[1] == "hhcable" or have.get(c[1]))
               and (not args.columns or c[0] in args.columns or c[0] == REFERENCE)]
    for key, sim, options, _ in columns:
        if sim == "hhcable" and args.threads:
            options["threads"] = args.threads
        for name_ in (key, sim):
            if name_ in dt_scale:
                options["dt_scale"] = dt_scale[name_]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            spec = describe(available[name])
            spec_path = Path(tmp) / f"{name}.json"
            spec_path.write_text(json.dumps(spec))
            print(f"\n{name}: {available[name].description}; {spec['n_compartments']} compartments, "
                  f"dt {spec['dt']} ms, {round(spec['tstop'] / spec['dt'])} steps", flush=True)
            runs = {key: [] for key, *_ in columns}
            status = {}
            for round_ in range(repeats):
                for key, sim, options, _ in columns:
                    if status.get(key, "ok") != "ok":
                        continue
                    python = sys.executable if sim == "hhcable" else args.peer_python
                    out = measure(python, sim, spec_path, options, args.timeout)
                    if "error" in out and round_ == 0:
                        status[key] = f"failed: {out['error']}"
                    elif "error" in out:
                        print(f"  {key}: a repeat failed: {out['error']}", flush=True)
                    runs[key].append(out)
                if round_ == 0:  # the check, against hhcable's exact-rate run
                    ref = runs[REFERENCE][0] if runs[REFERENCE] else None
                    if ref is None or "error" in ref or all(t is None for t in ref["crossings"]):
                        why = "no reference" if ref is None or "error" in ref else "no spike in the reference"
                        status = {key: f"refused: {why}" for key in runs}
                        print(f"  check: {why}; model refused")
                        break
                    for key in runs:
                        if status.get(key, "ok") != "ok":
                            print(f"  {key:16} {status[key]}")
                            continue
                        passed, text = check(spec, ref, runs[key][0])
                        v = velocity(spec, runs[key][0])
                        vtext = f"{v:.4g} m/s; " if v is not None else ""
                        print(f"  check {key:16} {vtext}{text}: {'ok' if passed else 'REFUSED, not timed'}", flush=True)
                        if not passed:
                            status[key] = f"refused: {text}"
            row = {"model": name, "description": available[name].description, "n_compartments": spec["n_compartments"],
                   "n_steps": round(spec["tstop"] / spec["dt"]), "dt_ms": spec["dt"], "runs": {}}
            for key, sim, options, exact in columns:
                good = [r for r in runs[key] if "error" not in r]
                entry = {"simulator": sim, "options": options, "exact_rates": exact, "status": status.get(key, "ok")}
                if entry["status"] == "ok" and good:
                    best = min(good, key=lambda r: r["ns_per_compartment_step"])
                    entry.update({k: best[k] for k in ("n_compartments", "n_steps", "step_wall_s",
                                                      "ns_per_compartment_step", "threads", "crossings")})
                    entry["peak_memory_mb"] = max(r["peak_memory_mb"] for r in good)
                    entry["velocity_m_per_s"] = velocity(spec, best)
                    entry["processes"] = len(good)
                    if "backend" in best:
                        entry["backend"] = best["backend"]
                row["runs"][key] = entry
            for key, sim, options, exact in columns:
                base = row["runs"].get(REFERENCE if exact else "hhcable", {})
                entry = row["runs"][key]
                if "ns_per_compartment_step" in entry and "ns_per_compartment_step" in base:
                    entry["ratio_to_hhcable"] = entry["ns_per_compartment_step"] / base["ns_per_compartment_step"]
            rows.append(row)
            print_table([row], [c[0] for c in columns])
            write_json(args.json, {"machine": machine_info(found, args.peer_python), "repeats": repeats, "rows": rows})

    print_table(rows, [c[0] for c in columns])
    print_markdown(rows)
    machine = machine_info(found, args.peer_python)
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, load average "
          f"{', '.join(f'{x:.1f}' for x in machine['load_average'])}; versions {machine['versions']}")
    out = write_json(args.json, {"machine": machine, "repeats": repeats, "rows": rows})
    print(f"wrote {out}")
    return 0


def machine_info(found, peer_python):
    """The machine and the versions that ran."""
    import numpy

    import hhcable

    return {"cpu": cpu_model(), "cores": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "load_average": os.getloadavg(), "peer_python": peer_python,
            "versions": {"hhcable": hhcable.__version__, "numpy": numpy.__version__,
                         "numba": installed_version("numba"), **{m: v for m, v in found.items() if v is not None}}}


def write_json(path, table):
    """Write the table whole (a partial file never replaces a complete one)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    part.write_text(json.dumps(table, indent=2) + "\n")
    part.replace(out)
    return out


def print_markdown(rows):
    """The table as Markdown, peers beside each other as in benchmarks/README.md."""
    def ns(row, key):
        e = row["runs"].get(key, {})
        return f"{e['ns_per_compartment_step']:.1f}" if "ns_per_compartment_step" in e else \
            e.get("status", "-").split(":")[0]

    def ratio(row, key):
        e = row["runs"].get(key, {})
        return f" ({e['ratio_to_hhcable']:.1f}x)" if "ratio_to_hhcable" in e and e["simulator"] != "hhcable" else ""

    def mb(row, key):
        e = row["runs"].get(key, {})
        return f"{e['peak_memory_mb']:.0f}" if "peak_memory_mb" in e else "-"

    pairs = [("hhcable", None), ("hhcable exact", None), ("Arbor 1 thread", "Arbor 2 threads"),
             ("NEURON tables", "NEURON exact"), ("Jaxley CPU", None), ("Brian2", None)]
    print("\n| model | compartments x steps | hhcable numba | hhcable exact rates | Arbor (1 thread / 2) | "
          "NEURON (tables / exact) | Jaxley CPU | Brian2 | peak MB (hhcable / Arbor / NEURON / Jaxley / Brian2) |")
    print("|---" * 9 + "|")
    for row in rows:
        cells = []
        for a, b in pairs:
            text = ns(row, a) + ratio(row, a)
            if b:
                text += " / " + ns(row, b) + ratio(row, b)
            cells.append(text)
        memory = " / ".join(mb(row, k) for k in ("hhcable", "Arbor 1 thread", "NEURON tables", "Jaxley CPU", "Brian2"))
        print(f"| {row['model']} | {row['n_compartments']:,} x {row['n_steps']:,} | " + " | ".join(cells)
              + f" | {memory} |")


def print_table(rows, keys):
    """ns per compartment-step (ratio to hhcable: tables for the table columns, exact rates
    for the exact ones) and peak memory."""

    def timing(k, e):
        if "ns_per_compartment_step" not in e:
            return e.get("status", "-").split(":")[0]
        ratio = f" ({e['ratio_to_hhcable']:.2f}x)" if "ratio_to_hhcable" in e and not k.startswith("hhcable") else ""
        return f"{e['ns_per_compartment_step']:.1f}{ratio}"

    def memory(k, e):
        return f"{e['peak_memory_mb']:.0f} MB, {e['threads']}" if "peak_memory_mb" in e else "-"

    width = max(17, *(len(k) for k in keys))
    for title, cell in (("ns per compartment-step (x hhcable: NEURON tables against hhcable, exact rates against "
                         "hhcable exact)", timing), ("peak memory (MB) and threads", memory)):
        print(f"\n{title}")
        print(f"{'model':11}" + "".join(f"{k:>{width + 2}}" for k in keys))
        for row in rows:
            cells = [cell(k, row["runs"].get(k, {})) for k in keys]
            print(f"{row['model']:11}" + "".join(f"{c:>{width + 2}}" for c in cells))


if __name__ == "__main__":
    sys.exit(main())
