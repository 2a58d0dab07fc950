"""The extracellular engine: applied potentials, layers, membrane current, recordings.

Against cable theory (a passive cable in a uniform field), against a scipy.sparse solve of
the same layered system, against charge conservation, and the two backends against each
other; NEURON's own ``extracellular`` is in test_extracellular_neuron.py.
"""

import numpy as np
import pytest

import hhcable as hc
from hhcable import kernels
from hhcable.errors import InputError, MemoryLimitError
from hhcable.solver import LayerSolver

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


def passive_cable(length=2000.0, diam=2.0, max_segment=10.0):
    cell = hc.Cell(hc.Morphology.cable(length=length, diam=diam), max_segment=max_segment)
    cell.insert(hc.Passive(g=1e-3, e=-65.0))
    return cell


def hh_tree(layer=True, where="all"):
    """An HH Y-junction; a sheath-like layer on ``where`` if ``layer``."""
    base = hc.Morphology.y_junction(800.0, 6.0, (500.0, 400.0), (4.0, 3.0))
    graph = base.graph.copy()
    for sample in (4, 5):
        graph.nodes[sample]["type"] = 3
    cell = hc.Cell(hc.Morphology(graph, regions={"bare": 3}), max_segment=40.0)
    # Exact rates: the field takes some membranes off the rate tables, and a group falls back
    # to exact rates for all its nodes then, which would couple the cells of a batch.
    cell.insert(hc.HH(use_table=False))
    if layer:
        cell.insert_extracellular(xraxial=80.0, xg=3e-3, xc=0.05, where=where)
    return cell


def electrode(cell, at=(400.0, 300.0, 0.0)):
    """mV per µA (or, times 1e-3, per nA) of a point source in a 0.3 S/m medium: 1/(4 pi sigma r)."""
    r_m = np.linalg.norm(cell.compartments.xyz - np.asarray(at), axis=1) * 1e-6
    return 1e3 / (4 * np.pi * 0.3 * r_m) / 1e6


def tree_sim(cell, backend, method="backward_euler", weights_scale=1.0):
    sim = hc.Simulation(cell, dt=0.025, method=method, backend=backend)
    w = electrode(cell)
    sim.apply_extracellular(w, hc.IClamp(0.5, 0.2, -1500.0))
    sim.apply_extracellular(w[::-1].copy(), hc.Waveform([0.0, 1.0, 2.0], [0.0, 300.0, 0.0]))
    sim.iclamp(at=0.9, delay=3.0, dur=0.5, amp=2.0)
    for name, var in (("v", "v"), ("im", "i_membrane"), ("ve", "vext"), ("m", "hh.m")):
        sim.probe(name, at=0.3, var=var)
    sim.record_extracellular("rec", weights_scale * w * 1e-3)
    sim.record_crossings(0.0)
    return sim


def test_uniform_field_polarises_a_passive_cable_as_cable_theory():
    """A sealed passive cable in a uniform field E (potential -E x): at steady state
    v - v_rest = E lambda sinh((x - L/2)/lambda) / cosh(L/(2 lambda)) (the activating function
    of a uniform field acts only at the ends)."""
    length, diam, field = 2000.0, 2.0, 0.01  # µm, µm, mV/µm (10 V/m)
    cell = passive_cable(length, diam)
    x = cell.compartments.distance
    sim = hc.Simulation(cell, dt=0.05, backend="numpy")
    sim.apply_extracellular(-field * x, hc.IClamp(0.0, 1e9, 1.0))
    sim.record_space(every=400)
    res = sim.run(20.0)  # 20 membrane time constants (cm/g = 1 ms)
    lam = 1e4 * np.sqrt(diam * 1e-4 / (4 * 35.4 * 1e-3))  # µm: sqrt(d Rm / (4 Ra)), Rm = 1/g
    expected = field * lam * np.sinh((x - length / 2) / lam) / np.cosh(length / (2 * lam))
    inner = cell.compartments.area > 0
    # 10 µm segments against lambda = 376 µm: the compartmental solution is second order in
    # dx/lambda (about 1e-3 of the end polarisation, 3.6 mV); a sign or a missing factor is 100 %.
    np.testing.assert_allclose(res.space_v[-1][inner] + 65.0, expected[inner], atol=5e-3 * np.abs(expected).max())


def test_block_elimination_solves_the_scipy_sparse_system():
    """One step of the compiled 2 x 2-block Hines elimination gives the scipy.sparse solution of
    the same layered system (a tree with the layer on part of it)."""
    cell = hh_tree(where="axon")
    comp = cell.compartments
    n = comp.n_nodes
    rng = np.random.default_rng(3)
    layer, g_layer = cell.layer_nodes(), cell.layer_conductance()
    solver = hc.Simulation(cell).solver
    c_over_dt = comp.area * 1e-5 / 0.025
    g_scale = comp.area * 1e-2
    gx = np.where(layer, comp.area * 1e-2 * rng.uniform(0, 1e-2, n), 0.0)
    cx = np.where(layer, comp.area * 1e-5 * rng.uniform(0, 0.1, n) / 0.025, 0.0)
    v, vx = rng.uniform(-80, 20, n), np.where(layer, rng.uniform(-5, 5, n), 0.0)
    g, ge = rng.uniform(0, 0.1, n), rng.uniform(-5, 5, n)
    e_now, e_old = rng.uniform(-50, 50, n), rng.uniform(-50, 50, n)
    stim_nodes, stim_amp = np.array([3, 7], np.int64), rng.uniform(-1, 1, (1, 2))

    dm, rm = g * g_scale + c_over_dt, ge * g_scale + v * c_over_dt
    b = rm.copy()
    b[stim_nodes] += stim_amp[0]
    rhs = np.concatenate([np.where(layer, b, b + dm * e_now),
                          np.where(layer, -rm + gx * e_now + cx * (e_now - e_old + vx), e_now)])
    expected = LayerSolver(solver.parent, solver.g_axial, g_layer, layer).solve(dm, gx + cx, rhs)

    layer_diag = np.bincount(np.flatnonzero(solver.parent >= 0), g_layer[solver.parent >= 0], n) + \
        np.bincount(solver.parent[solver.parent >= 0], g_layer[solver.parent >= 0], n)
    imem, i_out = np.zeros(n), np.zeros(n)
    nan = np.full(n, np.nan)
    kernels.solve_step_layer(0, 0.025, False, solver.parent.astype(np.int64), solver.g_axial, solver.axial_diag,
                             g_layer, layer_diag, layer, gx, cx, c_over_dt, g_scale, v, vx, g, ge, np.zeros((n, 5)),
                             np.zeros((n, 9)), stim_nodes, stim_amp, e_now, e_old.copy(), imem, i_out, nan, nan.copy(),
                             np.zeros(n, bool), np.zeros(2), False)
    vi_x = np.concatenate([v + vx, vx])
    # Both are direct solves of a well-conditioned system (loads 1e-3..1e2 µS): round-off.
    np.testing.assert_allclose(vi_x, expected, rtol=1e-10, atol=1e-9)
    assert np.abs(expected[n:][layer]).max() > 1.0  # the layer is not trivially zero


@needs_numba
def test_singular_block_is_reported_as_a_voltage_not_finite():
    """A node whose 2 x 2 block is singular (a layer and a membrane with no load at all): the
    division by its zero determinant gives inf and nan, which the step reports as the node
    whose voltage stopped being finite (from which a run raises SimulationError), not as
    ZeroDivisionError."""
    zero, one = np.zeros(1), np.ones(1)
    on_table, bad = kernels.solve_step_layer(
        0, 0.025, False, np.array([-1]), zero, zero, zero, zero, np.array([True]), zero, zero, zero, one,
        zero.copy(), zero.copy(), zero.copy(), zero.copy(), np.zeros((1, 5)), np.zeros((1, 9)), np.zeros(0, np.int64),
        np.zeros((1, 0)), zero, zero.copy(), zero.copy(), zero.copy(), np.full(1, np.nan), np.full(1, np.nan),
        np.zeros(1, bool), np.zeros(2), False)
    assert bad == 0


@needs_numba
@pytest.mark.parametrize("method", ["backward_euler", "crank_nicolson"])
@pytest.mark.parametrize("where", [None, "all", "axon"])
def test_numba_and_numpy_agree(method, where):
    """Every trace, the crossings and the recording, with no layer, a layer, and a layer on part of the tree."""
    runs = [tree_sim(hh_tree(where is not None, where or "all"), b, method).run(6.0) for b in ("numpy", "numba")]
    assert runs[1].info["backend"] == "numba"
    # The same arithmetic in another order (LAPACK / splu against the kernel's elimination).
    scale = np.abs(runs[0].traces).max(axis=1, keepdims=True)
    np.testing.assert_allclose(runs[1].traces, runs[0].traces, atol=1e-9 * scale.max())
    np.testing.assert_allclose(runs[1].crossings, runs[0].crossings, atol=1e-9)
    assert np.isfinite(runs[0].crossings[cell_nodes(runs[0].cell)]).all()  # the field or the clamp fired it


def cell_nodes(cell):
    return np.flatnonzero(cell.compartments.area > 0)


@pytest.mark.parametrize("backend", ["numpy", pytest.param("numba", marks=needs_numba)])
@pytest.mark.parametrize("where", [None, "all"])
def test_membrane_currents_add_up_to_the_injected_current(backend, where):
    """Charge is conserved: the membrane currents of all nodes add up to the current an
    intracellular electrode injects, and so do the currents into the medium (a recording with
    unit weights), with or without a sealed layer, whatever the applied field."""
    cell = hh_tree(where is not None, where or "all")
    sim = tree_sim(cell, backend)
    sim.recordings.clear()
    for i in range(cell.compartments.n_nodes):
        sim.probe(f"i{i}", at={"node": i}, var="i_membrane")
    sim.record_extracellular("sum", np.ones(cell.compartments.n_nodes))
    res = sim.run(6.0)
    total = sum(res[f"i{i}"] for i in range(cell.compartments.n_nodes))
    injected = np.concatenate([[0.0], hc.IClamp(3.0, 0.5, 2.0).mean(res.t[:-1], 0.025)])
    # Exact in the discrete system (the axial Laplacians' columns add to zero); round-off of
    # currents up to ~100 nA.
    np.testing.assert_allclose(total, injected, atol=1e-8)
    np.testing.assert_allclose(res["sum"], injected, atol=1e-8)
    assert np.abs(res["im"]).max() > 0.1  # the nodes do pass current


def test_batch_equals_its_simulations_run_alone():
    """A batch mixing cells with and without layers, each with its own weights."""
    def sims():
        return [tree_sim(hh_tree(False), "numpy", weights_scale=1.0),
                tree_sim(hh_tree(True), "numpy", weights_scale=2.0),
                tree_sim(hh_tree(True, "axon"), "numpy", weights_scale=0.5)]
    alone = [s.run(4.0) for s in sims()]
    together = hc.Batch(sims(), backend="numpy").run(4.0)
    for a, b in zip(alone, together):
        assert a.names == b.names and b.names[-1] == "rec"
        # One system with block-diagonal structure against each block alone: round-off.
        np.testing.assert_allclose(b.traces, a.traces, atol=1e-9 * np.abs(a.traces).max())
    assert not np.allclose(together[0]["rec"], together[1]["rec"])


@pytest.mark.parametrize("call, key", [
    (lambda c, s: c.insert_extracellular(xraxial=0.0), "xraxial"),
    (lambda c, s: c.insert_extracellular(xg=-1.0), "xg"),
    (lambda c, s: c.insert_extracellular(xc="1"), "xc"),
    (lambda c, s: c.insert_extracellular(xg=np.nan), "xg"),
    (lambda c, s: c.insert_extracellular(where="dend"), "where"),
    (lambda c, s: s.apply_extracellular(np.ones(3), hc.IClamp(0, 1, 1)), "transfer"),
    (lambda c, s: s.apply_extracellular([np.nan] * c.compartments.n_nodes, hc.IClamp(0, 1, 1)), "transfer"),
    (lambda c, s: s.apply_extracellular(np.ones(c.compartments.n_nodes), 5.0), "stimulus"),
    (lambda c, s: s.record_extracellular("w", np.ones((2, 2))), "weights"),
    (lambda c, s: s.record_extracellular("w", "abc"), "weights"),
    (lambda c, s: s.record_extracellular("p", np.ones(c.compartments.n_nodes)), "probe.name"),
    (lambda c, s: s.probe("q", at=0.5, var="i_mem"), "probe.var"),
])
def test_bad_input_names_the_key(call, key):
    cell = passive_cable(200.0)
    sim = hc.Simulation(cell)
    sim.probe("p", at=0.5)
    with pytest.raises(InputError) as err:
        call(cell, sim)
    assert err.value.key == key


def test_memory_counted_before_a_run_includes_what_extracellular_features_record():
    cell = passive_cable(200.0)
    sim = hc.Simulation(cell)
    before = sim.record_bytes(1000)
    sim.apply_extracellular(np.ones(cell.compartments.n_nodes), hc.IClamp(0, 1, 1))
    sim.record_extracellular("r", np.ones(cell.compartments.n_nodes))
    assert sim.record_bytes(1000) == before + 8 * 1000 + 8 * 1001  # a sample per step; a trace per sample
    sim.record_space(max_bytes=sim.record_bytes(1000) - 1)
    sim.space_every = None
    with pytest.raises(MemoryLimitError):
        sim.run(1000 * sim.dt)


def test_a_run_without_extracellular_features_takes_the_plain_path():
    cell = passive_cable(200.0)
    sim = hc.Simulation(cell, backend="numpy")
    sim.probe("v", at=0.5)
    assert not sim.uses_extracellular
    res = sim.run(1.0)
    assert set(res.info) == {"dt", "method", "n_steps", "batch_size", "backend", "setup_s", "compile_s",
                             "threads"}
    cell.insert_extracellular()
    assert sim.uses_extracellular
