"""Conduction velocity of unmyelinated HH axons grows as the square root of the diameter.

Reference: cable theory (λ ∝ sqrt(d) while τ does not depend on d, so an HH axon's
velocity scales as sqrt(d); e.g. Hodgkin 1954, Rushton 1951), and NEURON on the same axons.
"""

import numpy as np
import pytest

import hhcable as hc
from hhcable.units import M_S_PER_UM_MS

DIAMETERS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0)  # µm
#: Fixed compartment length (µm), deliberately not scaled with λ, so the test also checks
#: that the discretisation is fine enough across the whole range of diameters.
SEGMENT = 10.0
DT = 0.01  # ms


def axon(diam):
    # Lengths scale with λ ∝ sqrt(d) so each axon is equally long electrotonically and the
    # 30–70 % window is far from both ends; a strong brief pulse starts the spike.
    length = 3000.0 * np.sqrt(diam)
    cell = hc.Cell(hc.Morphology.cable(length=length, diam=diam), Ra=35.4, celsius=6.3, max_segment=SEGMENT)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=DT)
    sim.iclamp(at=0.0, delay=0.5, dur=0.5, amp=diam**1.5)
    sim.record_crossings(0.0)
    return sim, length


@pytest.fixture(scope="module")
def velocities():
    out = {}
    for d in DIAMETERS:
        sim, length = axon(d)
        out[d] = hc.conduction_velocity(sim.run(12.0), start=0.3, stop=0.7)["cv_m_s"]
    return out


def test_velocity_grows_as_sqrt_diameter(velocities):
    d = np.array(DIAMETERS)
    cv = np.array([velocities[k] for k in DIAMETERS])
    exponent = np.polyfit(np.log(d), np.log(cv), 1)[0]
    # The band: 0.5 ± 0.03.
    assert exponent == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("diam", [0.5, 5.0, 20.0])
def test_velocity_matches_neuron(velocities, diam):
    pytest.importorskip("neuron")
    from neuron_models import hh_cable_first_crossings

    sim, length = axon(diam)
    nseg = sim.cell.compartments.n_compartments
    x, first = hh_cable_first_crossings(length, diam, 35.4, 6.3, nseg, DT, 12.0, amp=diam**1.5, dur=0.5)
    window = (x >= 0.3 * length) & (x <= 0.7 * length)
    theirs = np.polyfit(first[window], x[window], 1)[0] * M_S_PER_UM_MS
    # The issue asks for 2 %; the same discretisation makes the difference the window's
    # edges only (~0.1 %).
    assert velocities[diam] == pytest.approx(theirs, rel=0.02)
