"""A batch of simulations gives each cell's results as if it ran alone."""

import numpy as np
import pytest

import hhcable as hc


def make(diam, celsius=6.3, amp=1.0, hh=None, passive_where=None, method="backward_euler", dt=0.025):
    morph = hc.Morphology.cable(length=1000.0, diam=diam)
    cell = hc.Cell(morph, celsius=celsius, max_segment=20.0)
    cell.insert(hc.HH(**(hh or {})))
    sim = hc.Simulation(cell, dt=dt, method=method, v_init=-65.0)
    sim.iclamp(at=0.0, delay=0.5, dur=1.0, amp=amp)
    sim.probe("mid", at=0.5)
    sim.probe("m", at=0.9, var="hh.m")
    sim.probe("ina", at=0.9, var="hh.ina")
    sim.record_crossings(-20.0)
    sim.record_space(every=10)
    return sim


VARIANTS = [  # different sizes, temperatures, and parameters: the batch merges what it can
    dict(diam=1.0),
    dict(diam=3.0, amp=4.0),
    dict(diam=2.0, celsius=16.3, amp=3.0),
    dict(diam=2.0, amp=3.0, hh={"gnabar": 0.2, "gkbar": 0.05}),
    dict(diam=1.5, hh={"use_table": False}),
]


@pytest.mark.parametrize("method", ["backward_euler", "crank_nicolson"])
def test_batch_equals_cells_alone(method):
    alone = [make(method=method, **kw).run(5.0) for kw in VARIANTS]
    together = hc.Batch([make(method=method, **kw) for kw in VARIANTS]).run(5.0)
    assert len(together) == len(VARIANTS)
    for a, b in zip(alone, together):
        assert a.names == b.names
        assert np.nanmax(a.crossings) > 0  # every cell spiked along its length
        # The same arithmetic on the same numbers, only in a larger system: round-off apart,
        # equal (the block-diagonal solve does not mix cells).
        np.testing.assert_allclose(b.traces, a.traces, rtol=0, atol=1e-12 * 100)
        np.testing.assert_allclose(b.crossings, a.crossings, rtol=0, atol=1e-12 * 100)
        np.testing.assert_allclose(b.space_v, a.space_v, rtol=0, atol=1e-12 * 100)
        assert b.info["batch_size"] == len(VARIANTS)
    # Different cells really did differ (the test would catch a mix-up of parameters).
    assert not np.allclose(together[2].traces[0], together[1].traces[0])


def test_batch_of_branched_cells_with_partial_insertions():
    def branched(gl):
        g = hc.Morphology.cable(length=300.0, diam=2.0).graph.copy()
        g.add_node(2, x=300.0, y=200.0, z=0.0, radius=0.5, type=3)
        g.add_node(3, x=300.0, y=-200.0, z=0.0, radius=0.7, type=3)
        g.add_edge(1, 2)
        g.add_edge(1, 3)
        cell = hc.Cell(hc.Morphology(g), max_segment=10.0)
        cell.insert(hc.HH(gl=gl), where="axon")
        cell.insert(hc.Passive(g=1e-4, e=-65.0), where="dend")
        sim = hc.Simulation(cell, dt=0.025)
        sim.iclamp(at=0.0, delay=0.5, dur=1.0, amp=1.0)
        sim.probe("tip", at=1.0)
        return sim

    alone = [branched(gl).run(4.0) for gl in (3e-4, 5e-4)]
    together = hc.Batch([branched(gl) for gl in (3e-4, 5e-4)]).run(4.0)
    for a, b in zip(alone, together):
        np.testing.assert_allclose(b.traces, a.traces, rtol=0, atol=1e-10)  # round-off, as above


def test_bad_batches_are_refused():
    with pytest.raises(hc.InputError):
        hc.Batch([])
    with pytest.raises(hc.InputError):
        hc.Batch(["not a simulation"])
    with pytest.raises(hc.InputError, match="same dt"):
        hc.Batch([make(1.0, dt=0.025), make(1.0, dt=0.01)])
    with pytest.raises(hc.InputError, match="tstop"):
        hc.Batch([make(1.0)]).run(-1.0)
