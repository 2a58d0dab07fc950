"""The engine's guards: a run that blows up stops with the time and the place; what a run
records is counted before anything is allocated."""

import importlib.util

import numpy as np
import pytest

import hhcable as hc

BACKENDS = ["numpy", "numba"] if importlib.util.find_spec("numba") else ["numpy"]


class Unstable(hc.Channel):
    """A negative conductance: the membrane amplifies any departure from ``e``."""

    name = "unstable"
    parameters = {"gneg": hc.Param(0.039, "S/cm²"), "e": hc.Param(-65.0, "mV")}
    currents = {"i": hc.ohmic("e", lambda gneg: -gneg)}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_blow_up_stops_with_time_and_place(backend):
    # Backward Euler multiplies the departure by C/dt / (C/dt - g) = 40 per step here
    # (C/dt = 0.04 S/cm² at dt 0.025 ms), so doubles overflow after ~190 steps (4.8 ms).
    cell = hc.Cell(hc.Morphology.cable(100.0, 2.0), max_segment=10.0)
    cell.insert(Unstable())
    sim = hc.Simulation(cell, dt=0.025, backend=backend)
    sim.iclamp(at=0.5, delay=0.0, dur=0.1, amp=0.001)
    sim.probe("v", at=0.5)
    with pytest.raises(hc.SimulationError, match=r"at t = \d+(\.\d+)? ms at node \d+") as err:
        sim.run(20.0)
    assert 3.0 < err.value.t < 6.0  # ms: where the growth above overflows
    assert 0 <= err.value.node < cell.compartments.n_nodes
    assert "smaller dt" in str(err.value)


def test_probe_memory_is_counted_before_the_run():
    # 3,000 compartments for 10 s at dt 0.0025 ms: 4e6 steps x 3 probes x 8 bytes, plus the
    # stimulus samples and the time axis, ~160 MB: over a 100 MB limit, refused at once.
    cell = hc.Cell(hc.Morphology.cable(30000.0, 476.0), max_segment=10.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.0025)
    sim.iclamp(at=0.0, delay=0.5, dur=0.3, amp=1e5)
    for name in ("a", "b", "c"):
        sim.probe(name, at=0.5)
    sim.record_space(every=1000, max_bytes=100e6)
    with pytest.raises(hc.MemoryLimitError, match=r"would record \d+ MB") as err:
        sim.run(1e4)
    assert err.value.key == "record_space"
    steps = 4_000_000
    assert sim.record_bytes(steps) == pytest.approx(8 * ((steps + 1) * 3 + steps + (steps // 1000 + 1) * 3002))


@pytest.mark.parametrize("backend", BACKENDS)
def test_progress_is_reported_and_chunked_stepping_changes_no_number(backend, monkeypatch):
    from hhcable import engine

    def sim():
        cell = hc.Cell(hc.Morphology.cable(2000.0, 2.0), max_segment=10.0)
        cell.insert(hc.HH())
        s = hc.Simulation(cell, dt=0.025, backend=backend)
        s.iclamp(at=0.0, delay=1.0, dur=1.0, amp=1.0)
        s.probe("far", at=0.9)
        s.probe("m", at=0.5, var="hh.m")
        s.record_crossings(0.0)
        s.record_space(every=7)
        return s

    whole = sim().run(20.0)
    monkeypatch.setattr(engine, "PROGRESS_EVERY_S", 0.0)  # report (and chunk) as often as possible
    calls = []
    chunked = sim().run(20.0, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (800, 800) and len(calls) > 2
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
    np.testing.assert_array_equal(chunked.traces, whole.traces)  # the same arithmetic, exactly
    np.testing.assert_array_equal(chunked.space_v, whole.space_v)
    np.testing.assert_array_equal(chunked.crossings, whole.crossings)
    info = chunked.info
    assert info["setup_s"] >= info["compile_s"] >= 0.0 and (backend == "numba" or info["compile_s"] == 0.0)
