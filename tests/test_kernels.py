"""The compiled kernel (numba, generated from the channel descriptions) against the numpy
loop and against scipy.sparse.

Compilation is cached on disk; on a fresh machine the first test of each set of channels
pays it (a few seconds).  The models are small: equality of two implementations of the same
arithmetic does not need fine grids.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

import hhcable as hc  # noqa: E402
from hhcable import kernels  # noqa: E402
from hhcable.channels import CHANNELS  # noqa: E402
from hhcable.channels.base import TABLE_V_MAX  # noqa: E402
from hhcable.channels.hh1952 import HH1952  # noqa: E402
from hhcable.solver import TreeSolver  # noqa: E402
from test_solver import random_forest  # noqa: E402

MORPHOLOGIES = Path(__file__).resolve().parent.parent / "morphologies"
#: Whole runs through action potentials cannot agree to 1e-12: the kernel's Hines elimination
#: rounds differently from LAPACK's chain solve and the junction system (per step the two
#: agree to ~1e-12 mV), and each spike's upstroke amplifies such differences.  Measured on
#: these models: at most 1e-11 mV on the squid cable, 1.7e-10 mV on the branched cell (several
#: spikes), 1e-12 ms on crossings.  1e-8 mV leaves room for other LAPACK builds' rounding; a
#: real error (a wrong or missing term) shows up as 1e-3 mV or more.
RUN_ATOL_MV = 1e-8
RUN_ATOL_MS = 1e-9


def kernel_solve(parent, g_axial, d, b):
    """One backward-Euler step of the kernel with no channels: solves (diag(d) + L) x = b.

    With C/dt = d and v = b / d the step's right-hand side is b (to one rounding).
    """
    solver = TreeSolver(parent, g_axial)
    n = len(parent)
    v = b / d
    work = [np.zeros(n) for _ in range(6)]  # g, ge, d_acc, r_acc, fac, x
    nan = np.full(n, np.nan)
    parent = solver.parent.astype(np.int64)
    special = kernels.special_nodes(parent, np.empty(0, np.int64))
    cables, rest = kernels.cell_kinds(parent, [(0, n)])  # unbranched cells in two lanes, the rest by Hines
    kernels.solve_cells(0, 1.0, False, cables, rest, special, parent, -solver.g_axial, solver.axial_diag, d,
                        np.zeros(n), v, *work, nan, nan.copy(), np.zeros(n, bool), np.zeros(2), False)
    return v, solver.solve_reference(d, b)


@pytest.mark.parametrize("seed", range(4))
def test_solve_equals_scipy_on_random_forests(seed):
    rng = np.random.default_rng(seed)
    parent = random_forest(int(rng.integers(2, 400)), int(rng.integers(1, 4)), rng)
    d = rng.uniform(0.01, 5.0, len(parent))
    x, ref = kernel_solve(parent, rng.uniform(0.05, 20.0, len(parent)), d, rng.normal(size=len(parent)))
    # Two direct solves of a well-conditioned matrix: round-off apart (as the numpy solver's test).
    np.testing.assert_allclose(x, ref, rtol=0, atol=1e-10 * np.abs(ref).max())


def test_solve_equals_scipy_on_stars_and_chains():
    rng = np.random.default_rng(7)
    for parent in (np.arange(-1, 50), np.r_[-1, np.zeros(20, int)], np.array([-1, 0, 1, 1, 2, 2, 3, 3, 0])):
        d = rng.uniform(0.01, 5.0, len(parent))
        x, ref = kernel_solve(parent, rng.uniform(0.05, 20.0, len(parent)), d, rng.normal(size=len(parent)))
        np.testing.assert_allclose(x, ref, rtol=0, atol=1e-10 * np.abs(ref).max())


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_compiled_gates_and_conductances_equal_numpy(name):
    # Each built-in channel's own functions, compiled for scalars and run on numpy arrays:
    # equal to round-off across the table's range, at HH's removable singularities (-40,
    # -55 mV) and beyond the table.
    v = np.r_[np.linspace(-250.0, 250.0, 5001), -40.0, -55.0, -40.0 + 1e-9, -55.0 - 1e-7]
    spec = CHANNELS[name].spec()
    for gate in spec.gates:
        jitted = kernels._jit_tree(gate.func, {})
        want = np.array(gate.func(v))
        got = np.array([jitted(x) for x in v]).T
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-300)
    rng = np.random.default_rng(3)
    for _, cur in spec.currents:
        args = rng.uniform(0.0, 1.0, (len(cur.args), 50))
        jitted = kernels._jit_tree(cur.g, {})
        np.testing.assert_allclose([jitted(*a) for a in args.T], cur.g(*args), rtol=1e-14)


def squid(method="backward_euler", use_table=True, backend="numba", amp=3e4):
    cell = hc.Cell(hc.Morphology.cable(5000.0, 476.0), celsius=18.5, max_segment=20.0)
    cell.insert(hc.HH(use_table=use_table))
    sim = hc.Simulation(cell, dt=0.01, method=method, backend=backend)
    sim.iclamp(at=0.0, delay=0.1, dur=0.3, amp=amp)
    sim.probe("mid", at=0.5)
    sim.probe("end", at=1.0)
    sim.record_crossings(0.0)
    sim.record_space(every=7)
    return sim


def assert_same_run(a, b):
    assert a.info["backend"] == "numpy" and b.info["backend"] == "numba"
    np.testing.assert_allclose(b.traces, a.traces, rtol=0, atol=RUN_ATOL_MV)
    if a.space_v is not None:
        np.testing.assert_allclose(b.space_v, a.space_v, rtol=0, atol=RUN_ATOL_MV)
    if a.crossings is not None:
        np.testing.assert_array_equal(np.isnan(b.crossings), np.isnan(a.crossings))
        np.testing.assert_allclose(b.crossings, a.crossings, rtol=0, atol=RUN_ATOL_MS)


@pytest.mark.parametrize("method", ["backward_euler", "crank_nicolson"])
@pytest.mark.parametrize("use_table", [True, False])
def test_squid_cable_equals_numpy(method, use_table):
    a = squid(method, use_table, backend="numpy").run(4.0)
    b = squid(method, use_table).run(4.0)
    assert np.isfinite(a.crossings).all()  # the spike reached the far end
    assert_same_run(a, b)


def test_voltage_off_the_table_falls_back_to_exact_rates_as_numpy():
    # A huge stimulus drives the stimulated end past +200 mV (off the rate table) for a few
    # steps; both paths switch the whole group to the exact rates there.
    a = squid(backend="numpy", amp=1e7).run(1.0)
    b = squid(amp=1e7).run(1.0)
    peak = a.space_v.max(axis=1)
    assert (peak > TABLE_V_MAX).any() and (peak < TABLE_V_MAX).any()  # both branches taken
    assert_same_run(a, b)


def real_cell(backend, method="backward_euler", celsius=6.3, use_table=True, dt=0.025):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hc.SWCWarning)  # the file's own quirks, tested in test_swc
        morph = hc.read_swc(MORPHOLOGIES / "nrn__c91662.swc")
    cell = hc.Cell(morph, celsius=celsius, max_segment=20.0)
    # HH in soma, axon and basal dendrites (weaker there), passive leak in the dendrites:
    # subsets, merged groups with per-node parameters, two mechanisms on the same nodes.
    cell.insert(hc.HH(use_table=use_table), where="soma")
    cell.insert(hc.HH(use_table=use_table), where="axon")
    cell.insert(hc.HH(gnabar=0.05, gkbar=0.01, use_table=use_table), where="dend")
    cell.insert(hc.Passive(g=1e-4, e=-65.0), where="dend")
    cell.insert(hc.Passive(g=3e-5, e=-70.0), where="apic")
    dend = cell.nodes_where("dend")
    sim = hc.Simulation(cell, dt=dt, method=method, backend=backend)
    sim.iclamp(at=0.0, delay=0.5, dur=1.0, amp=3.0)
    sim.iclamp(at={"node": int(dend[len(dend) // 2])}, delay=2.0, dur=1.0, amp=0.5)
    sim.probe("soma", at=0.0)
    sim.probe("dend", at={"node": int(dend[-1])})
    sim.record_crossings(-20.0)
    sim.record_space(every=10)
    return sim


@pytest.mark.parametrize("method", ["backward_euler", "crank_nicolson"])
def test_branched_cell_with_subsets_equals_numpy(method):
    a = real_cell("numpy", method).run(6.0)
    b = real_cell("numba", method).run(6.0)
    assert np.isfinite(a.crossings).sum() > 100  # spikes spread into the tree
    assert_same_run(a, b)


def test_batch_of_different_cells_equals_numpy():
    def sims(backend):
        out = [real_cell(backend, celsius=16.3, use_table=False, dt=0.01), squid(backend=backend)]
        for diam, celsius in ((1.0, 6.3), (2.0, 20.0)):
            cell = hc.Cell(hc.Morphology.cable(1000.0, diam), celsius=celsius, max_segment=10.0)
            cell.insert(hc.HH(gnabar=0.12 * diam))
            sim = hc.Simulation(cell, dt=0.01)
            sim.iclamp(at=0.0, delay=0.2, dur=0.5, amp=diam)
            sim.probe("far", at=0.9)
            out.append(sim)
        return out

    a = hc.Batch(sims("numpy"), backend="numpy").run(4.0)
    b = hc.Batch(sims("numpy"), backend="numba").run(4.0)
    for x, y in zip(a, b):
        assert_same_run(x, y)


def test_gate_and_current_probes_and_hh1952_run_compiled_equal_to_numpy():
    # What the old hand-written kernel could not run: gate and current probes, and a channel
    # other than HH and pas.
    def sims(backend):
        sim = squid(backend=backend)
        sim.probe("m", at=0.5, var="hh.m")
        sim.probe("ina", at=0.5, var="hh.ina")
        cell = hc.Cell(hc.Morphology.cable(500.0, 2.0), max_segment=10.0)
        cell.insert(HH1952())
        old = hc.Simulation(cell, dt=0.01, v_init=0.0, backend=backend)
        old.iclamp(at=0.0, delay=0.2, dur=0.5, amp=0.5)
        old.probe("far", at=1.0)
        old.probe("n", at=0.9, var="hh1952.n")
        return [sim, old]

    a = hc.Batch(sims("numpy"), backend="numpy").run(3.0)
    b = hc.Batch(sims("numba"), backend="numba").run(3.0)
    assert a[0]["ina"].min() < -0.5 and a[1]["far"].max() > 80.0  # mA/cm², mV: both spiked
    for x, y in zip(a, b):
        assert_same_run(x, y)


def test_without_numba_auto_uses_numpy_and_numba_is_refused(monkeypatch):
    monkeypatch.setattr(kernels, "AVAILABLE", False)
    assert squid(backend="auto").run(0.1).info["backend"] == "numpy"
    with pytest.raises(hc.InputError, match="numba is not installed"):
        squid(backend="numba").run(0.1)


def test_unknown_backend_is_refused():
    cell = hc.Cell(hc.Morphology.cable(100.0, 2.0), max_segment=10.0)
    with pytest.raises(hc.InputError, match="unknown backend"):
        hc.Simulation(cell, backend="cuda")
    with pytest.raises(hc.InputError, match="unknown backend"):
        hc.Batch([hc.Simulation(cell)], backend="fortran")


def test_staggered_arrays_start_at_distinct_offsets_in_a_page():
    # The point of Staggered (L1 sets are indexed by the address modulo a page): every row it
    # hands out, in one 2-D block or another, starts at its own offset, and they are zeros.
    lay = kernels.Staggered()
    blocks = [lay.rows(3, 1000), lay.rows(2, 4096), lay.copy(np.arange(5.0)), lay.rows(1, 7, np.int64)]
    starts = [row.ctypes.data % kernels.PAGE_BYTES for b in blocks[:2] for row in b]
    starts += [blocks[2].ctypes.data % kernels.PAGE_BYTES, blocks[3][0].ctypes.data % kernels.PAGE_BYTES]
    assert len(set(starts)) == len(starts) == 7
    assert all(b.flags.c_contiguous for b in blocks)
    assert blocks[0].shape[0] == 3 and blocks[0].shape[1] >= 1000
    assert not blocks[0].any() and not blocks[1].any() and not blocks[3].any()
    assert blocks[2].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert lay.rows(0, 10).shape[0] == 0 and lay.rows(2, 0).shape[0] == 2  # empty requests work too
