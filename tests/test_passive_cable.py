"""Steady state of a passive finite cable against closed-form cable theory.

Reference: the finite-cable solutions (e.g. Rall 1959; Johnston & Wu, Foundations of
Cellular Neurophysiology, ch. 4): with the far end sealed, V(x)/V(0) = cosh((L-x)/λ)/cosh(L/λ)
and R_in = r_a λ coth(L/λ); with it killed (held at rest), sinh((L-x)/λ)/sinh(L/λ) and
r_a λ tanh(L/λ).
"""

import numpy as np
import pytest

import hhcable as hc
from hhcable import theory

DIAM, RA, G, E = 1.0, 100.0, 1e-4, -65.0  # µm, Ω·cm, S/cm², mV
LAMBDA = theory.length_constant(DIAM, G, RA)  # 500 µm
AMP = 0.01  # nA


def steady_run(length, stimuli):
    """Voltages (deviation from rest, mV) at every node after 20 membrane time constants."""
    cell = hc.Cell(hc.Morphology.cable(length=length, diam=DIAM), Ra=RA, max_segment=2.0)
    cell.insert(hc.Passive(g=G, e=E))
    sim = hc.Simulation(cell, dt=0.5, v_init=E)
    for x, amp in stimuli:
        sim.iclamp(at=x, delay=0.0, dur=1e9, amp=amp)
    sim.record_space(every=400)
    # τ = 10 ms; 200 ms leaves e^-20 of the transient.  The steady state of backward Euler
    # is that of the discrete cable whatever dt is.
    result = sim.run(tstop=200.0)
    return cell.compartments.distance, result.space_v[-1] - E


@pytest.mark.parametrize("length", [250.0, 1000.0])  # L/λ = 0.5 and 2
def test_sealed_end(length):
    x, v = steady_run(length, [(0.0, AMP)])
    # 2 µm compartments: the second-order discretisation error (dx/λ)² ~ 1e-5 is far
    # below the 0.5 % tolerance the issue sets.
    expected = theory.steady_state_profile(x, length, LAMBDA, end="sealed")
    np.testing.assert_allclose(v / v[0], expected, rtol=0.005)
    r_in = v[0] / AMP  # MΩ
    assert r_in == pytest.approx(theory.input_resistance(DIAM, length, G, RA, end="sealed"), rel=0.005)


@pytest.mark.parametrize("length", [250.0, 1000.0])
def test_killed_end(length):
    # Antisymmetry: a sealed cable of length 2L with +I at one end and -I at the other has
    # its midpoint at rest, so its first half is a cable of length L with a killed end.
    x, v = steady_run(2 * length, [(0.0, AMP), (1.0, -AMP)])
    half = x <= length
    expected = theory.steady_state_profile(x[half], length, LAMBDA, end="killed")
    np.testing.assert_allclose(v[half] / v[0], expected, rtol=0.005, atol=1e-9)
    r_in = v[0] / AMP
    assert r_in == pytest.approx(theory.input_resistance(DIAM, length, G, RA, end="killed"), rel=0.005)


def test_length_constant_closed_form():
    # λ = sqrt(d Rm / (4 Ra)) with d = 1e-4 cm, Rm = 1e4 Ω·cm², Ra = 100 Ω·cm: 0.05 cm.
    assert LAMBDA == pytest.approx(500.0, rel=1e-12)
