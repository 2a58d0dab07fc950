"""The fast tree solve against scipy.sparse's direct solve of the same matrix."""

import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import hhcable as hc
from hhcable.errors import HHCableError
from hhcable.solver import TreeSolver

MORPHOLOGIES = Path(__file__).resolve().parent.parent / "morphologies"


def random_forest(n, roots, rng):
    """Parent array (Hines, depth-first) of a random forest of n nodes with long chains and many junctions."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for i in range(roots, n):
        # Mostly extend the previous node (chains); sometimes branch off an earlier node.
        g.add_edge(i - 1 if rng.random() < 0.7 else int(rng.integers(0, i)), i)
    parent = np.full(n, -1)
    order = []
    for r in range(roots):
        order += list(nx.dfs_preorder_nodes(g, r))
    new = {old: k for k, old in enumerate(order)}
    for old in order:
        preds = list(g.predecessors(old))
        parent[new[old]] = new[preds[0]] if preds else -1
    return parent


def check(parent, rng):
    solver = TreeSolver(parent, rng.uniform(0.05, 20.0, len(parent)))
    d = rng.uniform(0.0, 5.0, len(parent))
    b = rng.normal(size=len(parent))
    ref = solver.solve_reference(d, b)
    # Both are direct solves of a well-conditioned matrix: they differ by round-off only.
    np.testing.assert_allclose(solver.solve(d, b), ref, rtol=0, atol=1e-10 * np.abs(ref).max())
    out = np.empty(len(parent))
    assert solver.solve(d, b, out=out) is out
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-10 * np.abs(ref).max())


@pytest.mark.parametrize("seed", range(6))
def test_random_trees_and_forests(seed):
    rng = np.random.default_rng(seed)
    check(random_forest(int(rng.integers(2, 400)), int(rng.integers(1, 4)), rng), rng)


def test_unbranched_and_star_shapes():
    rng = np.random.default_rng(7)
    check(np.arange(-1, 50), rng)  # one chain: no junctions
    check(np.r_[-1, np.zeros(20, int)], rng)  # a star: every node a child of the root
    # Junctions that are parent and child of each other, and a junction at the root.
    check(np.array([-1, 0, 1, 1, 2, 2, 3, 3, 0]), rng)


@pytest.mark.parametrize("name", ["nrn__c91662.swc", "arbor-thorstenhater__purkinje_mouse_original.swc"])
def test_real_neurons(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hc.SWCWarning)
        morph = hc.read_swc(MORPHOLOGIES / name)
    comp = hc.Cell(morph, max_segment=20.0).compartments
    rng = np.random.default_rng(3)
    solver = TreeSolver(comp.parent, comp.g_axial)
    assert len(solver.junctions) > 50
    d = comp.area * rng.uniform(1e-3, 1e-1, comp.n_nodes)  # zero at the section ends, as in a run
    b = rng.normal(size=comp.n_nodes)
    ref = solver.solve_reference(d, b)
    np.testing.assert_allclose(solver.solve(d, b), ref, rtol=0, atol=1e-10 * np.abs(ref).max())


def test_indefinite_matrix_is_refused():
    solver = TreeSolver(np.arange(-1, 9), np.ones(10))
    with pytest.raises(HHCableError, match="indefinite"):
        solver.solve(np.full(10, -5.0), np.ones(10))


def test_whole_run_with_the_reference_solve(monkeypatch):
    # The time loop with the fast solve against the same loop solving with scipy.sparse,
    # on a branched cell: every step's voltages agree to round-off.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hc.SWCWarning)
        morph = hc.read_swc(MORPHOLOGIES / "bmtk__Pvalb_470522102_m.swc")

    def run():
        cell = hc.Cell(morph, max_segment=20.0).insert(hc.HH())
        sim = hc.Simulation(cell, dt=0.025)
        sim.iclamp(at=0.0, delay=0.5, dur=1.0, amp=2.0)
        sim.probe("soma", at=0.0)
        sim.probe("tip", at=1.0)
        return sim.run(5.0)

    fast = run()
    def reference(self, d, b, out):
        out[:] = self.solve_reference(d, b)
        return out

    monkeypatch.setattr(TreeSolver, "solve", reference)
    ref = run()
    assert fast["soma"].max() > 0  # it spiked: the comparison covers the whole voltage range
    # Round-off (1e-16 relative per solve) amplified over 200 nonlinear steps stays < 1e-9 mV.
    np.testing.assert_allclose(fast.traces, ref.traces, rtol=0, atol=1e-9)


@pytest.mark.parametrize("kind", ["_Chains", "_Split", "_Rake", "_Dense"])
def test_every_way_of_solving_a_level_agrees_with_scipy(kind):
    # The solver picks one of these per level by cost; each must be exact on any forest.
    import hhcable.solver as solver
    rng = np.random.default_rng(11)
    for _ in range(20):
        n = int(rng.integers(3, 120))
        parent = np.arange(-1, n - 1) if kind == "_Chains" else random_forest(n, int(rng.integers(1, 3)), rng)
        if kind == "_Split" and not np.any(np.bincount(parent[parent >= 0], minlength=n) >= 2):
            continue
        g = np.where(parent >= 0, rng.uniform(0.05, 20.0, n), 0.0)
        reference = TreeSolver(parent, g)
        d, b = rng.uniform(0.0, 5.0, n), rng.normal(size=n)
        out = np.empty(n)
        getattr(solver, kind)(parent).solve(d + reference.axial_diag, g, b, out)
        ref = reference.solve_reference(d, b)
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-10 * np.abs(ref).max())


def test_bushy_and_deep_trees_take_different_ways():
    # A binary tree's junctions are raked by height; a cell with a long branching trunk
    # (Purkinje) contracts its junctions' chains.  Both agree with scipy (tests above).
    import hhcable.solver as solver
    bushy = hc.Cell(hc.Morphology.binary_tree(8, 100.0, 4.0, rall=True), max_segment=10.0).compartments
    plan = TreeSolver(bushy.parent, bushy.g_axial)._plan
    assert isinstance(plan, solver._Split) and isinstance(plan.sub, solver._Rake)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hc.SWCWarning)
        deep = hc.Cell(hc.read_swc(MORPHOLOGIES / "arbor-thorstenhater__purkinje_mouse_original.swc"),
                       max_segment=5.0).compartments
    plan = TreeSolver(deep.parent, deep.g_axial)._plan
    assert isinstance(plan.sub, solver._Split)


def test_solve_in_place():
    rng = np.random.default_rng(5)
    parent = random_forest(200, 1, rng)
    solver = TreeSolver(parent, rng.uniform(0.1, 2.0, 200))
    d, b = rng.uniform(0.1, 1.0, 200), rng.normal(size=200)
    ref = solver.solve_reference(d, b)
    assert solver.solve(d, b, out=b) is b
    np.testing.assert_allclose(b, ref, rtol=0, atol=1e-10 * np.abs(ref).max())
