"""Threads: the compiled step cut into parts (hhcable.kernels.plan_parts) against one thread
and against scipy.sparse.

A batch is cut into whole cells, each eliminated with the same arithmetic as on one thread:
its results must be equal bit for bit.  One large cell is cut at a pivot node, and the piece
above the pivot is eliminated in the other direction: a different order of the same Gaussian
elimination, so its results equal one thread's to round-off.  The models are small (the
split is the same at any size) and use HH only, so the kernels compile once.
"""

import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

import hhcable as hc  # noqa: E402
from hhcable import engine, kernels  # noqa: E402
from hhcable.solver import TreeSolver  # noqa: E402
from test_solver import random_forest  # noqa: E402

MORPHOLOGIES = Path(__file__).resolve().parent.parent / "morphologies"
#: Two orders of elimination of one well-conditioned system agree to round-off: a few ulps of
#: the largest value per step, amplified through spikes (measured: at most 4e-13 relative
#: over whole runs of these models); 1e-10 relative leaves room and still fails on any wrong
#: or missing term (1e-5 relative or more).
SPLIT_RTOL = 1e-10


def split_solve(parent, g_axial, d, b, n_parts):
    """Solve (diag(d) + L) x = b through the parts of plan_parts (one step, no channels)."""
    solver = TreeSolver(parent, g_axial)
    parent = solver.parent.astype(np.int64)
    n = len(parent)
    plan = kernels.plan_parts(parent, n_parts)
    special = kernels.special_nodes(parent, np.empty(0, np.int64))
    v = b / d
    g, ge, d_acc, r_acc, fac, x = (np.zeros(n) for _ in range(6))
    off, zeros, nan = -solver.g_axial, np.zeros(n), np.full(n, np.nan)
    out_d, out_r = np.zeros(n_parts), np.zeros(n_parts)
    for w in range(n_parts):
        out_d[w], out_r[w] = kernels.eliminate_part(plan.solve[w], special, plan.pivot, plan.path_runs, w == plan.owner,
                                                    parent, off, solver.axial_diag, d, zeros, v, g, ge, d_acc,
                                                    r_acc, fac, x)
    kernels.solve_pivot(plan.pivot, out_d, out_r, g, ge, zeros, d, solver.axial_diag, d_acc, r_acc, v, x)
    for w in range(n_parts):
        kernels.substitute_part(0, 1.0, False, plan.solve[w], special, plan.pivot, plan.path_runs, w == plan.owner,
                                parent, fac, x, v, nan, nan.copy(), np.zeros(n, bool), np.zeros(2), False)
    return v, solver.solve_reference(d, b), plan


def covers_once(plan, n):
    """Whether the plan's ranges hold every node exactly once, and its solve ranges all but pivot and path."""
    count = np.zeros(n, int)
    for a, b in plan.ranges.reshape(-1, 2):
        count[a:b] += 1
    solved = np.zeros(n, int)
    for a, b in plan.solve.reshape(-1, 2):
        solved[a:b] += 1
    solved[plan.path] += 1
    if plan.pivot >= 0:
        solved[plan.pivot] += 1
    return np.all(count == 1) and np.all(solved == 1)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_parts", [2, 3])
def test_split_solve_equals_scipy_on_random_trees(seed, n_parts):
    rng = np.random.default_rng(seed)
    parent = random_forest(int(rng.integers(50, 400)), int(rng.integers(1, 3)), rng)
    d = rng.uniform(0.01, 5.0, len(parent))
    x, ref, plan = split_solve(parent, rng.uniform(0.05, 20.0, len(parent)), d, rng.normal(size=len(parent)),
                               n_parts)
    assert covers_once(plan, len(parent))
    # Two direct solves of a well-conditioned matrix: round-off apart (as the kernel's own test).
    np.testing.assert_allclose(x, ref, rtol=0, atol=1e-10 * np.abs(ref).max())


def test_a_cable_splits_in_two_halves_and_solves_as_scipy():
    n = 10_001
    parent = np.arange(-1, n - 1)
    rng = np.random.default_rng(3)
    x, ref, plan = split_solve(parent, rng.uniform(0.05, 20.0, n), rng.uniform(0.01, 5.0, n), rng.normal(size=n), 2)
    assert abs(plan.pivot - n // 2) <= 1 and plan.path.size == plan.pivot  # the nodes above it, reversed
    assert covers_once(plan, n) and abs(plan.loads()[0] - plan.loads()[1]) <= 2
    np.testing.assert_allclose(x, ref, rtol=0, atol=1e-10 * np.abs(ref).max())


@pytest.mark.parametrize("n, extra", [(3, []), (4, [2]), (1001, [0, 7, 500, 501, 999, 1000]), (2000, [1999, 3])])
def test_one_cable_in_two_lanes_solves_as_scipy(n, extra):
    """kernels.solve_cable (one thread, the two halves eliminated side by side) on a cable
    with accumulators to read at nodes in both lanes, next to the pivot and at the ends."""
    rng = np.random.default_rng(n)
    parent = np.arange(-1, n - 1)
    solver = TreeSolver(parent, rng.uniform(0.05, 20.0, n))
    d, b = rng.uniform(0.01, 5.0, n), rng.normal(size=n)
    a, pivot, stop = kernels.cable_lanes(parent.astype(np.int64))
    assert (a, stop) == (0, n) and 0 < pivot < n - 1
    special = kernels.special_nodes(parent.astype(np.int64), np.array(extra, np.int64))
    d_acc, r_acc = np.zeros(n), np.zeros(n)
    r_acc[extra] = b[extra]  # as stimuli: part of the right-hand side, read only at special nodes
    b_rest = b.copy()
    b_rest[extra] = 0.0
    v = b_rest / d  # the kernel forms the right-hand side as v * c_over_dt
    g, ge, fac, x, nan = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), np.full(n, np.nan)
    on_table, bad = kernels.solve_cable(0, 1.0, False, a, pivot, stop, special, -solver.g_axial, solver.axial_diag,
                                        d, np.zeros(n), v, g, ge, d_acc, r_acc, fac, x, nan, nan.copy(),
                                        np.zeros(n, bool), np.zeros(2), False)
    ref = solver.solve_reference(d, b)
    assert bad == -1 and not d_acc.any() and not r_acc.any()
    np.testing.assert_allclose(v, ref, rtol=0, atol=1e-10 * np.abs(ref).max())
    assert (kernels.cable_lanes(np.array([-1, 0, 0], np.int64)) == -1).all()  # a branch: no lanes


@pytest.mark.parametrize("n, extra, cuts", [
    (64, [], None), (65, [0, 64, 5], None), (5001, [0, 3, 1249, 1251, 2500, 2501, 4999, 5000], None),
    (5001, [0, 1700], (10, 2500, 4990)),  # short end lanes: the inner lanes' fill dies after the pairs
    (5001, [0, 2495], (2490, 2500, 2510)),  # short inner lanes: the end lanes go on alone
])
def test_one_cable_in_four_lanes_solves_as_scipy(n, extra, cuts):
    """kernels.eliminate_quarter / solve_separators / substitute_quarter (one cable, two threads
    of two lanes, the inner lanes coupled to a separator as fill until it dies out) against
    scipy, with stimuli at the ends, at separators and inside lanes (folded into ge)."""
    rng = np.random.default_rng(n)
    parent = np.arange(-1, n - 1).astype(np.int64)
    solver = TreeSolver(parent, rng.uniform(0.05, 20.0, n))
    d, b = rng.uniform(0.01, 5.0, n), rng.normal(size=n)
    g_scale = rng.uniform(0.5, 2.0, n)
    q = kernels.cable_quarters(parent, g_scale, np.array(extra, np.int64))
    assert q[0] < q[1] < q[2] and q[1] == n // 2
    q = q if cuts is None else np.array(cuts, np.int64)
    special = kernels.special_nodes(parent, np.array(extra, np.int64))
    d_acc, r_acc, ge = np.zeros(n), np.zeros(n), np.zeros(n)
    r_acc[extra] = b[extra]
    b_rest = b.copy()
    b_rest[extra] = 0.0
    v = b_rest / d
    g, nan = np.zeros(n), np.full(n, np.nan)
    fac, x, spk = nan.copy(), nan.copy(), nan.copy()  # a row read before it is written spreads NaN
    out = np.zeros((2, 8))
    kernels.fold_stimuli(special, q, n, g_scale, r_acc, ge)
    for w in range(2):
        kernels.eliminate_quarter(w, q, n, -solver.g_axial, solver.axial_diag, d, g_scale, v, g, ge, d_acc, r_acc,
                                  fac, x, spk, out)
    kernels.solve_separators(q, out, g, ge, g_scale, d, solver.axial_diag, d_acc, r_acc, v, x)
    for w in range(2):
        on_table, bad = kernels.substitute_quarter(w, 0, 1.0, False, q, n, fac, x, spk, out, v, nan, nan.copy(),
                                                   np.zeros(n, bool), np.zeros(2), False)
        assert bad == -1
    ref = solver.solve_reference(d, b)
    assert not d_acc.any() and not r_acc.any() and not g.any() and not ge.any()
    np.testing.assert_allclose(v, ref, rtol=0, atol=1e-10 * np.abs(ref).max())
    # each inner lane wrote its fill on its first out[w, 7] rows (from its outer separator on)
    inner = (spk[q[0] + 1:q[1]], spk[q[2] - 1:q[1]:-1])
    for w in range(2):
        rows = int(out[w, 7])
        assert np.isfinite(inner[w][:rows]).all() and np.isnan(inner[w][rows:]).all()
    if n > 5000 and cuts != (2490, 2500, 2510):  # the fill died out: the rest was solved as plain lanes
        assert 0 < out[:, 7].min() and out[:, 7].max() < 2000


def test_four_lanes_only_where_every_stimulus_can_be_folded():
    parent = np.arange(-1, 99).astype(np.int64)
    area = np.ones(100)
    area[[0, 30, 99]] = 0.0  # nodes without membrane: the ends, and one inside a lane
    assert kernels.cable_quarters(parent, area, np.array([0, 99]))[1] == 50
    assert kernels.cable_quarters(parent, area, np.array([30]))[1] == -1
    assert kernels.cable_quarters(parent[:63], area[:63], np.array([0]))[1] == -1  # too short
    assert kernels.cable_quarters(np.array([-1, 0, 0] + list(range(2, 99))), area, np.array([0]))[1] == -1


def test_a_batch_is_dealt_whole_cells_and_a_branched_cell_is_split_evenly():
    parent = np.concatenate([np.r_[-1, np.arange(n - 1) + start] for start, n in ((0, 100), (100, 100), (200, 200))])
    plan = kernels.plan_parts(parent, 2)
    assert plan.pivot == -1 and sorted(plan.loads()) == [200, 200]
    ca1 = read_cell("nrn__c91662.swc").compartments
    plan = kernels.plan_parts(ca1.parent, 2)
    assert covers_once(plan, ca1.n_nodes)
    assert plan.loads().max() <= 1.02 * ca1.n_nodes / 2  # the dendrites below the soma shared out evenly


def read_cell(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hc.SWCWarning)  # the file's own quirks, reported by test_swc
        morph = hc.read_swc(MORPHOLOGIES / name)
    return hc.Cell(morph, max_segment=10.0)


def axon_sim(threads, length=3000.0, diam=1.0, amp=1.0, method="backward_euler", at=0.0):
    cell = hc.Cell(hc.Morphology.cable(length, diam), max_segment=2.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.025, method=method, threads=threads)
    sim.iclamp(at=at, delay=0.5, dur=0.5, amp=amp)
    sim.probe("mid", at=0.5)
    sim.probe("m", at=0.7, var="hh.m")
    sim.probe("ina", at=0.3, var="hh.ina")
    sim.record_crossings(0.0)
    sim.record_space(every=9)
    return sim


def assert_same_run(a, b, rtol=None):
    """Traces, crossings and whole-cell frames equal (bit for bit without ``rtol``)."""
    for name in ("traces", "crossings", "space_v"):
        x, y = getattr(a, name), getattr(b, name)
        if rtol is None:
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert np.array_equal(np.isnan(x), np.isnan(y)), name
            ok = ~np.isnan(x)
            np.testing.assert_allclose(y[ok], x[ok], rtol=0, atol=rtol * np.abs(x[ok]).max(), err_msg=name)


def batch(threads, amps=(0.2, 1.0, 3.0, 30.0)):
    sims = []
    for k, amp in enumerate(amps):
        sim = axon_sim(None, length=800.0 + 200.0 * k, diam=0.5 + k, amp=amp)
        sims.append(sim)
    return hc.Batch(sims, threads=threads)


def test_batch_on_two_threads_equals_one_thread_bit_for_bit(monkeypatch):
    monkeypatch.setattr(engine, "PROGRESS_EVERY_S", 0.0)  # chunked stepping too
    one = batch(1).run(8.0)
    calls = []
    two = batch(2).run(8.0, progress=lambda done, total: calls.append(done))
    assert calls[-1] == 320 and len(calls) > 2
    assert [r.info["threads"] for r in (one[0], two[0])] == [1, 2]
    assert sum(np.isfinite(r.crossings).sum() for r in one) > 100  # spikes went along
    for a, b in zip(one, two):
        assert_same_run(a, b)


def test_batch_leaving_the_rate_tables_on_two_threads_equals_one_thread():
    # A stimulus strong enough to drive the first node past the tables' range for some steps:
    # the HH group falls back to exact rates on every thread at the same steps.  The exact
    # rates run in a vectorised loop over each thread's slice of the group, and LLVM fuses
    # multiply-adds differently in the vector body and the scalar remainder: a node's last
    # bit depends on where its slice starts, so this agrees to round-off, not bit for bit.
    amps = (0.2, 1.0, 3.0, 3e4)
    one = batch(1, amps).run(2.0)
    assert one[3].traces[0].max() > 0.0 and np.abs(one[3].space_v).max() > hc.channels.base.TABLE_V_MAX
    for a, b in zip(one, batch(2, amps).run(2.0)):
        assert_same_run(a, b, rtol=SPLIT_RTOL)


@pytest.mark.parametrize("method, at", [("backward_euler", 0.0), ("crank_nicolson", 0.0), ("backward_euler", 0.37)])
def test_long_axon_in_four_lanes_equals_one_thread_to_round_off(method, at):
    """One thread steps the cable in two lanes (kernels.solve_cable), two threads in four
    (kernels.eliminate_quarter); a stimulus inside a lane is folded into ge."""
    one = axon_sim(1, method=method, at=at).run(12.0)
    two = axon_sim(2, method=method, at=at).run(12.0)
    assert two.info["threads"] == 2 and np.isfinite(one.crossings).all()  # the spike reached the far end
    assert_same_run(one, two, rtol=SPLIT_RTOL)


def test_thin_axon_whose_lanes_lose_their_fill_equals_one_thread_to_round_off():
    """A 0.2 µm axon in 50 µm compartments: each compartment's C/dt is ~18 times its axial
    conductance, so the inner lanes' coupling to their separators falls by ~20 a row and is
    dropped after ~220 of their ~1,500 rows; the rest of each inner lane is solved as a plain
    one (kernels.eliminate_quarter), step after step."""
    def run(threads):
        cell = hc.Cell(hc.Morphology.cable(300000.0, 0.2), max_segment=50.0)
        cell.insert(hc.HH())
        sim = hc.Simulation(cell, dt=0.01, threads=threads)
        sim.iclamp(at=0.37, delay=0.5, dur=0.5, amp=0.05)  # inside lane 1: folded into ge
        sim.probe("near", at=0.371)
        sim.record_crossings(0.0)
        sim.record_space(every=25)
        return sim.run(8.0)

    one, two = run(1), run(2)
    assert two.info["threads"] == 2 and np.isfinite(one.crossings).sum() > 50  # spikes both ways
    assert_same_run(one, two, rtol=SPLIT_RTOL)


def test_branched_cell_split_below_the_soma_equals_one_thread_to_round_off(monkeypatch):
    monkeypatch.setattr(engine, "PROGRESS_EVERY_S", 0.0)

    def run(threads, progress=None):
        cell = read_cell("nrn__c91662.swc")
        cell.insert(hc.HH())
        sim = hc.Simulation(cell, dt=0.025, threads=threads)
        sim.iclamp(at=0.0, delay=0.5, dur=0.5, amp=5.0)
        sim.probe("soma", at=0.0)
        tip = int(np.argmax(cell.compartments.distance))  # a section's end: no membrane; its parent has
        sim.probe("n", at={"node": int(cell.compartments.parent[tip])}, var="hh.n")
        sim.record_crossings(0.0)
        sim.record_space(every=4)
        return sim.run(15.0, progress=progress)

    one = run(1)
    calls = []
    two = run(2, progress=lambda done, total: calls.append(done))
    assert calls[-1] == 600 and np.isfinite(one.crossings).mean() > 0.9  # spikes spread over the tree
    assert_same_run(one, two, rtol=SPLIT_RTOL)


def test_default_threads_use_every_core_only_for_large_models(monkeypatch):
    import numba

    monkeypatch.setattr(engine, "THREADS_MIN_NODES", 1000)
    assert axon_sim(None, length=400.0).run(1.0).info["threads"] == 1  # 201 nodes
    monkeypatch.setattr(engine, "THREADS_MIN_NODES", 100)
    assert axon_sim(None, length=400.0).run(1.0).info["threads"] == numba.config.NUMBA_NUM_THREADS
    assert axon_sim(64, length=400.0).run(1.0).info["threads"] == numba.config.NUMBA_NUM_THREADS
    sim = axon_sim(2, length=400.0)
    sim.backend = "numpy"
    assert sim.run(1.0).info["threads"] == 1


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_threads_must_be_a_positive_whole_number(bad):
    with pytest.raises(hc.InputError, match="threads") as err:
        axon_sim(bad)
    assert err.value.key == "threads"
    with pytest.raises(hc.InputError, match="threads"):
        hc.Batch([axon_sim(1)], threads=bad)


def test_runs_from_two_python_threads_at_once_take_turns_and_agree():
    reference = batch(1).run(3.0)
    out, errors = {}, []

    def work(key):
        try:
            out[key] = batch(2).run(3.0)
        except Exception as err:  # reported below
            errors.append(err)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors and len(out) == 3
    for results in out.values():
        for a, b in zip(reference, results):
            assert_same_run(a, b)

