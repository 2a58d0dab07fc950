"""Real neurons exactly as NEURON sees them: every reconstruction in morphologies/ and every
loadable file in tests/data/, read by NEURON's own Import3d and by hhcable.

Compared: the sections (names, 3-d points, where each attaches), every segment's membrane
area and axial resistance under the same d_lambda rule, and the arrival time of a spike at
every tip.  NEURON reads each file as hhcable loaded it (µm, zero radii raised to the floor
hhcable uses, samples numbered in the order hhcable read them, which is the file's own order
where Import3d can read the file), so the comparison is of the sectioning and the numbers.
"""

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest

import hhcable as hc
from hhcable.discretize import discretize

pytest.importorskip("neuron")
from neuron import h  # noqa: E402

from neuron_models import import3d  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
FILES = sorted((ROOT / "morphologies").glob("*.swc")) + [DATA / name for name in (
    "NeuroM__three_pt_soma.swc", "NeuroM__simple_reversed.swc", "NeuroM__soma_zero_radius.swc",
    "MorphIO__soma_cylinders.swc", "MorphIO__simple-all-types.swc", "MorphIO__simple-windows-eol.swc")]
RA, D_LAMBDA = 100.0, 0.1  # Ω·cm; NEURON's usual d_lambda


def load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hc.SWCWarning)
        return hc.read_swc(path, scale=1e-3 if "flywire" in path.name else 1.0)


def neuron_reads(morph, tmp_path):
    """NEURON's Import3d on the morphology as hhcable loaded it; its sections by name."""
    order = morph.sectioning.order
    new = {s: k + 1 for k, s in enumerate(order)}
    rows = []
    for s in order:
        d, p = morph.graph.nodes[s], morph.parent(s)
        rows.append(f"{new[s]} {d['type']} {d['x']!r} {d['y']!r} {d['z']!r} {d['radius']!r} "
                    f"{-1 if p is None else new[p]}")
    path = tmp_path / "as_loaded.swc"
    path.write_text("\n".join(rows) + "\n")
    return import3d(path)


def neuron_precision(morph):
    """The same morphology with every number as NEURON holds it: Import3d parses the file in
    single precision, computes in double (the sphere's end points), writes each 3-d point
    with 8 significant digits (``%.8g``) and NEURON stores it in single precision."""
    def f32(values):
        return np.array([np.float32(float(f"{v:.8g}")) for v in values], dtype=float)

    graph = morph.graph.copy()
    for _, d in graph.nodes(data=True):
        for key in ("x", "y", "z", "radius"):
            d[key] = float(np.float32(d[key]))
    parsed = hc.Morphology(graph, name=morph.name)
    sections = []
    for sec in parsed.sections:
        pts = np.column_stack([f32(sec.points[:, 0]), f32(sec.points[:, 1]), f32(sec.points[:, 2]),
                               f32(2 * sec.points[:, 3]) / 2])
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts[:, :3], axis=0), axis=1))])
        sections.append(dataclasses.replace(sec, points=pts, arc=arc))
    parsed._sectioning = dataclasses.replace(parsed.sectioning, sections=sections)
    return parsed


def set_d_lambda(secs):
    """NEURON's d_lambda rule (its own stdlib ``lambda_f`` at 100 Hz)."""
    h.load_file("stdlib.hoc")
    for sec in secs.values():
        sec.Ra, sec.cm = RA, 1.0
        sec.nseg = int((sec.L / (D_LAMBDA * h.lambda_f(100, sec=sec)) + 0.9) / 2) * 2 + 1


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_sections_areas_and_resistances_equal_neurons(path, tmp_path):
    morph = load(path)
    secs = neuron_reads(morph, tmp_path)
    ours = {s.name: s for s in morph.sections}
    assert sorted(ours) == sorted(secs)
    for name, sec in secs.items():
        s = ours[name]
        pts = np.array([(sec.x3d(i), sec.y3d(i), sec.z3d(i), sec.diam3d(i) / 2) for i in range(sec.n3d())])
        # NEURON keeps 3-d points in single precision: equal to ~1e-7 of the coordinates
        np.testing.assert_allclose(pts, s.points, rtol=1e-6, atol=1e-6 * np.abs(s.points).max())
        ref = h.SectionRef(sec=sec)
        if s.parent < 0:
            assert not ref.has_parent()
        else:
            assert ref.parent.name() == morph.sections[s.parent].name and sec.parentseg().x == s.parent_x
    set_d_lambda(secs)
    comp = discretize(neuron_precision(morph), Ra=RA, cm=1.0, d_lambda=D_LAMBDA)
    for name, sec in secs.items():
        nodes = comp.section_nodes[ours[name].index][1:-1]
        assert len(nodes) == sec.nseg, name
        # From the same single-precision points the two agree to ~5e-8 (NEURON's own
        # single-precision steps); 1e-6 is the acceptance bound.
        np.testing.assert_allclose(comp.area[nodes], [seg.area() for seg in sec], rtol=1e-6)
        np.testing.assert_allclose(1 / comp.g_axial[nodes], [seg.ri() for seg in sec], rtol=1e-6)


def neuron_tip_times(secs, stim_sec, dt, tstop, delay, dur, amp):
    """First 0 mV crossing (ms) at the 1 end of every leaf section, HH everywhere."""
    h.load_file("stdrun.hoc")
    for sec in secs.values():
        sec.insert("hh")
    h.usetable_hh = 0  # exact rates, as hhcable computes them
    h.celsius, h.dt = 6.3, dt
    stim = h.IClamp(secs[stim_sec](0.5))
    stim.delay, stim.dur, stim.amp = delay, dur, amp
    t = h.Vector().record(h._ref_t)
    leaves = [name for name, sec in secs.items() if not h.SectionRef(sec=sec).nchild()]
    vs = {name: h.Vector().record(secs[name](1)._ref_v) for name in leaves}
    h.finitialize(-65.0)
    h.continuerun(tstop)
    return {name: hc.threshold_crossings(np.array(t), np.array(v), 0.0)[:1] for name, v in vs.items()}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_spike_reaches_every_tip_when_neuron_says(path, tmp_path):
    # HH everywhere (the files carry no channels) and a current step at the soma's middle.
    # dt = 0.025 ms and 8 ms keep the test short; both simulators use them.
    dt, tstop, delay, dur, amp = 0.025, 8.0, 0.5, 1.0, 5.0
    morph = load(path)
    secs = neuron_reads(morph, tmp_path)
    set_d_lambda(secs)
    stim_sec = morph.sections[0].name
    theirs = neuron_tip_times(secs, stim_sec, dt, tstop, delay, dur, amp)
    cell = hc.Cell(morph, Ra=RA, cm=1.0, d_lambda=D_LAMBDA)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=dt)
    sim.iclamp(at=hc.Location(section=stim_sec, x=0.5), delay=delay, dur=dur, amp=amp)
    sim.record_crossings(0.0)
    res = sim.run(tstop=tstop)
    assert len(theirs) == len({s.index for s in morph.sections} - {s.parent for s in morph.sections})
    for name, t_neuron in theirs.items():
        ours = res.crossings[cell.locate(hc.Location(section=name, x=1.0))]
        if not t_neuron.size:
            assert np.isnan(ours), name
            continue
        # 1 % of the latency is the acceptance bound; the two agree to ~3e-6 (the geometries
        # differ only by NEURON's single-precision 3-d points).
        assert ours - delay == pytest.approx(t_neuron[0] - delay, rel=1e-2), name


def random_swc(rng):
    """SWC text of a random cell: a one-, three-point, chain or star soma (or none), neurites
    of random types hanging from random soma samples, branching, written depth-first."""
    rows = []

    def add(kind, pos, r, parent):
        rows.append(f"{len(rows) + 1} {kind} {pos[0]:.4f} {pos[1]:.4f} {pos[2]:.4f} {r:.3f} {parent}")
        return len(rows)

    soma_kind = rng.choice(["one", "three", "chain", "star", "none"])
    root = add(1 if soma_kind != "none" else 3, np.zeros(3), 5.0, -1)
    soma = [root]
    if soma_kind == "three":
        soma += [add(1, (0, -5, 0), 5.0, root), add(1, (0, 5 if rng.random() < 0.7 else 7, 0), 5.0, root)]
    elif soma_kind == "chain":
        for k in range(int(rng.integers(2, 6))):
            soma.append(add(1, (k + 1.0, rng.normal(), 0), rng.uniform(2, 6), soma[-1]))
    elif soma_kind == "star":
        soma += [add(1, rng.normal(size=3) * 3, rng.uniform(2, 6), root) for _ in range(int(rng.integers(2, 4)))]

    def grow(parent, pos, kind, depth):
        for _ in range(int(rng.integers(1, 4))):
            pos = pos + rng.normal(size=3) * 5
            parent = add(kind if rng.random() > 0.1 else int(rng.choice([2, 3, 4])), pos, rng.uniform(0.2, 2),
                         parent)
        if depth < 3:
            for _ in range(int(rng.choice([0, 0, 2, 2, 3]))):
                grow(parent, pos, kind, depth + 1)

    for _ in range(int(rng.integers(1, 5))):
        at = int(rng.choice(soma))
        grow(at, np.array(rows[at - 1].split()[2:5], dtype=float), int(rng.choice([2, 3, 4])), 0)
    return "\n".join(rows) + "\n"


def test_random_cells_make_neurons_sections(tmp_path):
    # Random somas and branchings exercise every rule of the sectioning (wires, attachment
    # at 0, 0.5 and 1, branches off a neurite's first sample, type changes) against NEURON.
    rng = np.random.default_rng(2024)
    path = tmp_path / "random.swc"
    for _ in range(40):
        path.write_text(random_swc(rng))
        morph = load(path)
        secs = import3d(path)
        ours = {s.name: s for s in morph.sections}
        assert sorted(ours) == sorted(secs), path.read_text()
        for name, sec in secs.items():
            s = ours[name]
            pts = np.array([(sec.x3d(i), sec.y3d(i), sec.z3d(i), sec.diam3d(i) / 2) for i in range(sec.n3d())])
            np.testing.assert_allclose(pts, s.points, rtol=1e-6, atol=1e-5)
            if s.parent >= 0:
                ref = h.SectionRef(sec=sec)
                assert (ref.parent.name(), sec.parentseg().x) == (morph.sections[s.parent].name, s.parent_x)
