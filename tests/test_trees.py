"""Signals in branched trees: passive trees against cable theory, spikes against NEURON,
and the real morphologies in morphologies/.

Steady states are computed with the public API: a constant current and backward Euler with
a step (100 ms) ten times the membrane time constant (10 ms here), run for 20 steps, which
leaves a transient smaller than (1 + dt/τ)^-20 ≈ 1e-21 of the response.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest

import hhcable as hc
from hhcable import theory

REAL = Path(__file__).parent.parent / "morphologies"
G_PAS = 1e-4    # S/cm², τ = 10 ms with cm = 1 µF/cm²
RA = 100.0      # Ω·cm
AMP = 0.1       # nA


def steady_state(morph, max_segment):
    """Voltage (mV above rest) of every node with ``AMP`` injected at the root node."""
    cell = hc.Cell(morph, Ra=RA, cm=1.0, max_segment=max_segment)
    cell.insert(hc.Passive(g=G_PAS, e=0.0))
    sim = hc.Simulation(cell, dt=100.0, v_init=0.0)
    sim.iclamp(at=hc.Location(node=0), delay=0.0, dur=1e9, amp=AMP)
    sim.record_space(every=1)
    return cell, sim.run(tstop=2000.0).space_v[-1]


def electrotonic_distance(comp):
    """Electrotonic distance X of every node from the root (nodes come after their parents).

    Each node and its parent lie in the node's section, a cylinder of the node's diameter
    (a daughter's zero-length first segment adds no distance).
    """
    x = np.zeros(comp.n_nodes)
    lam = theory.length_constant(comp.diam, G_PAS, RA)
    for node in range(1, comp.n_nodes):
        p = comp.parent[node]
        x[node] = x[p] + (comp.distance[node] - comp.distance[p]) / lam[node]
    return x


def test_rall_tree_equals_its_equivalent_cylinder():
    # Two branchings obeying the 3/2 rule; lengths scale as sqrt(diam), so every level has
    # the same electrotonic length and all tips sit at the same electrotonic distance.
    morph = hc.Morphology.binary_tree(2, length=200.0, diam=4.0, length_ratio=2 ** (-1 / 3), rall=True)
    cell, v = steady_state(morph, max_segment=10.0)
    daughters = [2 * morph.graph.nodes[c]["radius"] for c in morph.children(1)]
    level = theory.equivalent_cylinder(4.0, 200.0, daughters, [200.0 * 2 ** (-1 / 3)] * 2, G_PAS, RA)
    electrotonic = 3 * theory.electrotonic_length(200.0, 4.0, G_PAS, RA)
    assert level["electrotonic_length"] == pytest.approx(2 / 3 * electrotonic)  # the set-up is Rall's
    lam = theory.length_constant(4.0, G_PAS, RA)
    r_in = theory.input_resistance(4.0, electrotonic * lam, G_PAS, RA, end="sealed")
    # 0.5 % is the acceptance bound; 10 µm segments (λ/100) leave a discretisation error ~1e-4
    assert v[0] / AMP == pytest.approx(r_in, rel=5e-3)
    x = electrotonic_distance(cell.compartments)
    profile = theory.steady_state_profile(x * lam, electrotonic * lam, lam)
    np.testing.assert_allclose(v / v[0], profile, rtol=5e-3)


def test_y_junction_continuity_and_current_conservation():
    # Daughters of any diameters: the parent is a cable loaded by their input conductances.
    parent_len, parent_d, lengths, diams = 300.0, 2.0, (200.0, 400.0), (1.0, 1.5)
    morph = hc.Morphology.y_junction(parent_len, parent_d, lengths, diams)
    cell, v = steady_state(morph, max_segment=5.0)
    comp = cell.compartments
    bp = comp.sample_node[1]  # the branch point's node, shared by the three sections
    g_daughters = np.array([1 / theory.input_resistance(d, ln, G_PAS, RA) for d, ln in zip(diams, lengths)])
    parent_nodes = np.flatnonzero(comp.section == 0)
    loaded = theory.loaded_cable(parent_d, parent_len, G_PAS, RA, g_daughters.sum(),
                                 x=comp.distance[parent_nodes])
    # 0.5 %: 5 µm segments (λ/140 or finer) leave discretisation errors ~1e-5
    assert v[0] / AMP == pytest.approx(loaded["input_resistance"], rel=5e-3)
    np.testing.assert_allclose(v[parent_nodes] / v[0], loaded["profile"], rtol=5e-3)
    v_bp = loaded["profile"][-1]  # theory's junction voltage (relative to the root's)
    assert v[bp] / v[0] == pytest.approx(v_bp, rel=5e-3)
    # Continuity: each daughter, a sealed cable driven by the junction voltage, matches
    # theory right up to the junction.
    for k, (d, ln) in enumerate(zip(diams, lengths)):
        nodes = np.flatnonzero(comp.section == 1 + k)
        lam = theory.length_constant(d, G_PAS, RA)
        x = comp.distance[nodes] - parent_len
        np.testing.assert_allclose(v[nodes] / v[0], v_bp * theory.steady_state_profile(x, ln, lam), rtol=5e-3)
    kids = np.flatnonzero(comp.parent == bp)
    # Kirchhoff: the junction node has no membrane, so what the parent brings the daughters
    # carry away (to round-off), and each takes its share G_i V_bp from theory.
    i_in = comp.g_axial[bp] * (v[comp.parent[bp]] - v[bp])
    i_out = comp.g_axial[kids] * (v[bp] - v[kids])
    assert comp.area[bp] == 0
    assert i_out.sum() == pytest.approx(i_in, rel=1e-9)
    np.testing.assert_allclose(i_out, g_daughters * v[bp], rtol=5e-3)


def branched_axon_swc(seed=3):
    """SWC text of an axon that branches twice: 7 sections of 3 samples, tapering and bending."""
    rng = np.random.default_rng(seed)
    rows = ["1 2 0 0 0 1.5 -1"]
    stack = [(1, np.zeros(3), 0.0, 1.5, 0)]
    while stack:
        parent, pos, phi, r, level = stack.pop()
        length = 600.0 * 0.7 ** level
        for _ in range(3):
            ang = phi + rng.normal(0.0, 0.15)
            pos = pos + length / 3 * np.array([np.cos(ang), np.sin(ang), rng.normal(0.0, 0.1)])
            r *= 0.93
            rows.append(f"{len(rows) + 1} 2 {pos[0]:.3f} {pos[1]:.3f} {pos[2]:.3f} {r:.3f} {parent}")
            parent = len(rows)
        if level < 2:
            stack += [(parent, pos, phi + 0.5, r * 0.85, level + 1), (parent, pos, phi - 0.5, r * 0.6, level + 1)]
    return "\n".join(rows) + "\n"


def neuron_tip_times(morph, comp, stim_node, dt, tstop, delay, dur, amp, celsius, ra):
    """First 0 mV crossing (ms) at every tip of ``morph`` built in NEURON from its sections."""
    from neuron import h

    from neuron_models import sections_from_hhcable
    h.load_file("stdrun.hoc")
    secs = sections_from_hhcable(morph, comp, Ra=ra)
    for sec in secs:
        sec.insert("hh")
    # Exact rate functions rather than NEURON's default lookup tables, as hhcable computes them
    h.usetable_hh = 0
    h.celsius, h.dt = celsius, dt
    stim = h.IClamp(secs[comp.section[stim_node]](float(comp.x[stim_node])))
    stim.delay, stim.dur, stim.amp = delay, dur, amp
    t = h.Vector().record(h._ref_t)
    end_of = {s.samples[-1]: s.index for s in morph.sections}
    vs = {tip: h.Vector().record(secs[end_of[tip]](1)._ref_v) for tip in morph.tips()}
    h.finitialize(-65.0)
    h.continuerun(tstop)
    return {tip: hc.threshold_crossings(np.array(t), np.array(v), 0.0)[0] for tip, v in vs.items()}


def test_spike_arrival_at_every_tip_matches_neuron():
    pytest.importorskip("neuron")
    dt, tstop, delay, dur, amp, celsius, ra = 0.025, 10.0, 1.0, 0.3, 3.0, 6.3, 100.0
    morph = hc.parse_swc(branched_axon_swc())
    assert len(morph.tips()) == 4 and len(morph.sections) == 7
    cell = hc.Cell(morph, Ra=ra, cm=1.0, celsius=celsius, d_lambda=0.1)
    cell.insert(hc.HH())
    comp = cell.compartments
    stim_node = int(comp.section_nodes[0][1])  # first compartment of the root section
    sim = hc.Simulation(cell, dt=dt, v_init=-65.0)
    sim.iclamp(at=hc.Location(node=stim_node), delay=delay, dur=dur, amp=amp)
    sim.record_crossings(0.0)
    res = sim.run(tstop=tstop)
    theirs = neuron_tip_times(morph, comp, stim_node, dt, tstop, delay, dur, amp, celsius, ra)
    for tip, t_neuron in theirs.items():
        ours = res.crossings[comp.sample_node[tip]] - delay
        # 1 % is the acceptance bound; the same segments and integrator agree far closer (~1e-7)
        assert ours == pytest.approx(t_neuron - delay, rel=1e-2)


@pytest.mark.parametrize("path", sorted(REAL.glob("*.swc")), ids=lambda p: p.name.split("__")[0])
def test_real_cell_spike_reaches_every_tip(path):
    # HH in every compartment (the files carry no channels): a test of propagation through
    # real branching, not a model of these cells.  d_lambda = 0.3 and dt = 0.05 ms are coarse
    # but only ask whether a spike arrives, which does not depend on them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hc.SWCWarning)
        morph = hc.read_swc(path, scale=1e-3 if "flywire" in path.name else 1.0)
    cell = hc.Cell(morph, Ra=RA, cm=1.0, d_lambda=0.3)
    cell.insert(hc.HH())
    soma = min(morph.region("soma"))
    sim = hc.Simulation(cell, dt=0.05)
    sim.iclamp(at=hc.Location(swc_id=soma), delay=0.5, dur=1.0, amp=5.0)
    sim.record_crossings(0.0)
    res = sim.run(tstop=15.0)
    g = morph.graph
    tips = [t for t in morph.tips() if not g.nodes[t].get("synthetic")]
    times = res.crossings[[cell.compartments.sample_node[t] for t in tips]]
    assert not np.any(np.isnan(times)), f"{np.isnan(times).sum()} of {len(tips)} tips never spiked"


def load_example(name):
    import importlib.util
    path = Path(__file__).parent.parent / "examples" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_impedance_mismatch_slows_then_passes_or_blocks(tmp_path):
    # Goldstein & Rall (1974): a spike approaching a step increase in diameter slows down,
    # and fails when the step is large enough.
    example = load_example("41_impedance_mismatch.py")
    passes, blocks = example.run_case(example.PASSES_UM), example.run_case(example.BLOCKS_UM)
    assert passes["arrived"] and not blocks["arrived"]
    # Far from the step the thin axon conducts at its own speed in both cases ...
    assert example.local_velocity(passes, 500, 1000) == pytest.approx(
        example.local_velocity(blocks, 500, 1000), rel=1e-3)
    # ... and near the step markedly slower (the drop is about half; 25 % is a safe floor).
    assert example.local_velocity(passes, 1800, 1950) < 0.75 * example.local_velocity(passes, 500, 1000)
    # In the blocked case the thick axon beyond the step never crosses 0 mV.
    beyond = blocks["distance"] > blocks["junction_um"] + 50.0
    assert np.all(np.isnan(blocks["crossing"][beyond]))
    path = Path(example.main(outdir=tmp_path))
    assert path.exists() and path.stat().st_size > 10_000


def test_real_cell_example_runs(tmp_path):
    # Coarse settings: this checks that the example runs and draws, not its numbers.
    example = load_example("42_spike_through_a_real_cell.py")
    path = Path(example.main(outdir=tmp_path, d_lambda=0.3, dt=0.05))
    assert path.exists() and path.stat().st_size > 10_000
