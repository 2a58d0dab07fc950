"""Named regions of a morphology and capacitance set per region."""

import networkx as nx
import numpy as np
import pytest

import hhcable as hc


def _two_part_cable():
    """A 200 µm cable: the first 100 µm type 7 ("first"), the rest type 8 ("second")."""
    g = nx.DiGraph()
    for i, (x, t) in enumerate([(0.0, 7), (100.0, 7), (200.0, 8)]):
        g.add_node(i, x=x, y=0.0, z=0.0, radius=0.5, type=t)
    g.add_edges_from([(0, 1), (1, 2)])
    return hc.Morphology(g, regions={"first": 7, "second": 8})


def test_named_regions_select_their_compartments():
    cell = hc.Cell(_two_part_cable(), max_segment=10.0)
    comp = cell.compartments
    first, second = cell.nodes_where("first"), cell.nodes_where("second")
    assert first.size == second.size == 10
    assert np.all(comp.distance[first] < 100.0) and np.all(comp.distance[second] > 100.0)
    with pytest.raises(hc.InputError, match="'third'.*first"):
        cell.nodes_where("third")


def _tau(cell, dt=0.001):
    """Membrane time constant (ms) read from the charging curve at 1 - 1/e of its final value."""
    sim = hc.Simulation(cell, dt=dt, v_init=-65.0, backend="numpy")
    sim.iclamp(at=0.5, delay=0.0, dur=100.0, amp=0.001)
    sim.probe("v", at=0.5)
    res = sim.run(tstop=40.0)
    dv = res["v"] + 65.0
    return np.interp(1 - np.exp(-1), dv / dv[-1], res.t)


def test_capacitance_per_region_sets_the_time_constant():
    # An isopotential patch (a 10 µm cable, one compartment, no axial current) with a passive
    # leak charges with tau = cm / g (closed form); cm set on its region doubles tau.
    g = nx.DiGraph()
    g.add_node(0, x=0.0, y=0.0, z=0.0, radius=5.0, type=7)
    g.add_node(1, x=10.0, y=0.0, z=0.0, radius=5.0, type=7)
    g.add_edge(0, 1)
    gpas = 1e-3  # S/cm²: tau = 1 µF/cm² / 1 mS/cm² = 1 ms
    taus = []
    for cm in (None, 2.0):
        cell = hc.Cell(hc.Morphology(g, regions={"patch": 7}), max_segment=100.0)
        cell.insert(hc.Passive(g=gpas, e=-65.0))
        if cm is not None:
            cell.set_cm(cm, where="patch")
        taus.append(_tau(cell))
    # Backward Euler with dt = 1 µs and the interpolation of the crossing: well within 1 %.
    assert taus[0] == pytest.approx(1.0, rel=1e-2)
    assert taus[1] == pytest.approx(2.0, rel=1e-2)


def test_capacitance_must_be_a_valid_number():
    cell = hc.Cell(_two_part_cable(), max_segment=10.0)
    with pytest.raises(hc.InputError):
        cell.set_cm(-1.0, where="first")
