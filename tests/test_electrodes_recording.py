"""Recording from outside: the membrane currents obey charge conservation, a single fibre's
extracellular spike is triphasic, the line source tends to the point source far away, and
the compound action potential of a two-population nerve gives the fibres' own velocities."""

import numpy as np
import pytest

import hhcable as hc

LENGTH, DIAM = 6000.0, 4.0  # µm
DT = 0.025  # ms


@pytest.fixture(scope="module")
def fibre_run():
    cell = hc.Cell(hc.Morphology.cable(length=LENGTH, diam=DIAM), Ra=35.4, max_segment=20.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=DT)
    stim = hc.IClamp(delay=0.5, dur=0.3, amp=10.0)
    sim.stimulate(stim, at=0.0)
    sim.record_extracellular("total", np.ones(cell.compartments.n_nodes))  # 1 mV/nA: the sum in nA
    for r in (50.0, 1000.0):
        e = hc.PointElectrode(LENGTH / 2 + 10.0, r, 0.0)
        sim.record_extracellular(f"line{r:g}", e.weights(cell, "line"))
        sim.record_extracellular(f"point{r:g}", e.weights(cell, "point"))
    sim.probe("middle", at=0.5)
    return sim.run(12.0), stim


def test_membrane_currents_add_up_to_the_injected_current(fibre_run):
    """Charge conservation: axial currents only move charge inside the fibre, so all that leaves
    through the membrane is what the electrode injects (each step's mean).  Round-off of a sum
    of ~300 currents of up to ~1 nA each."""
    res, stim = fibre_run
    injected = stim.mean(res.t[:-1], DT)
    np.testing.assert_allclose(res["total"][1:], injected, atol=1e-9)


def test_single_fibre_spike_is_triphasic(fibre_run):
    """Near a fibre the passing spike reads positive (current leaving ahead of it), then
    strongly negative (the sodium current entering), then positive again (potassium current
    leaving behind it): the classic triphasic extracellular spike (e.g. Gold et al. 2006,
    J Neurophysiol 95:3113; Holt & Koch 1999).  Its trough comes with the spike's upstroke at
    the node under the electrode (within 0.3 ms)."""
    res, _ = fibre_run
    trace = res["line50"]
    trough = int(np.argmin(trace))
    first, last = trace[:trough].max(), trace[trough:].max()
    assert hc.spike_times(res.t, res["middle"])[0] == pytest.approx(res.t[trough], abs=0.3)
    assert first > 0 and last > 0
    assert -trace[trough] > max(first, last)  # the second time derivative of the spike, near field


def test_line_source_tends_to_point_source(fibre_run):
    """At 50 µm the 20 µm segments look like lines; at 1 mm the whole spike (a few mm long)
    is what the electrode resolves and segment shape no longer matters: each weight differs by
    (L/2R)²/6 = 7e-5 (the closed form), so the traces agree within 1e-4 of the peak."""
    res, _ = fibre_run
    far_line, far_point = res["line1000"], res["point1000"]
    np.testing.assert_allclose(far_line, far_point, atol=1e-4 * np.abs(far_point).max())
    near_line, near_point = res["line50"], res["point50"]
    near = np.abs(near_line - near_point).max() / np.abs(near_point).max()
    far = np.abs(far_line - far_point).max() / np.abs(far_point).max()
    assert far < near / 10  # converges: (L/2R)² falls 400-fold from 50 µm to 1 mm
