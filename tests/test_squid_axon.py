"""The Hodgkin & Huxley (1952) squid giant axon: conduction velocity against published values.

References
----------
* Hodgkin & Huxley (1952), J Physiol 117:500, part III: 18.8 m/s computed for a 476 µm axon,
  35.4 Ω·cm, 18.5 °C.
* Converged numerical solutions of the same equations give about 18.7 m/s (DESIGN.md).
* NEURON on the same model (skipped where NEURON is not installed).
"""

import numpy as np
import pytest

import hhcable as hc
from hhcable.demo import SQUID, squid_axon
from hhcable.units import M_S_PER_UM_MS

#: Converged numerical velocity of the HH squid axon (m/s).
CONVERGED_CV = 18.7
#: Hodgkin & Huxley's own 1952 figure (m/s).
HH1952_CV = 18.8


def squid_velocity(max_segment, dt, method="backward_euler", celsius=SQUID["celsius"], tstop=4.0):
    sim = squid_axon(max_segment=max_segment, dt=dt, method=method, celsius=celsius)
    sim.space_every = None  # the space-time recording is for figures only
    result = sim.run(tstop)
    return hc.conduction_velocity(result, start=0.3, stop=0.7)["cv_m_s"]


def test_velocity_at_the_issue_settings():
    # 10 µm compartments and dt 0.0025 ms: backward Euler's first-order error slows the
    # spike by a few tenths of a percent; the issue allows 1.5 % from the converged value.
    cv = squid_velocity(max_segment=10.0, dt=0.0025)
    assert cv == pytest.approx(CONVERGED_CV, rel=0.015)
    assert cv == pytest.approx(HH1952_CV, rel=0.015)


def test_velocity_converged():
    # Crank–Nicolson is second order in dt and the discretisation second order in space;
    # at 10 µm / 0.0025 ms it is within 0.05 % of its own 5 µm / 0.001 ms value, so 0.5 %
    # from the published converged figure tests the model, not the step.
    cv = squid_velocity(max_segment=10.0, dt=0.0025, method="crank_nicolson")
    assert cv == pytest.approx(CONVERGED_CV, rel=0.005)


@pytest.mark.parametrize("celsius", [6.3, 18.5])
def test_velocity_matches_neuron(celsius):
    pytest.importorskip("neuron")
    from neuron_models import hh_cable_first_crossings

    # A shorter axon keeps NEURON's all-segment recording small; the velocity window
    # (30–70 %) stays far from both ends.
    length, nseg, dt, tstop = 12_000.0, 1200, 0.0025, 3.0 if celsius > 10 else 6.0
    axon = hc.Morphology.cable(length=length, diam=SQUID["diam"])
    cell = hc.Cell(axon, Ra=SQUID["Ra"], celsius=celsius, max_segment=length / nseg)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=dt)
    sim.iclamp(at=0.0, delay=0.5, dur=0.3, amp=1e5)
    sim.record_crossings(0.0)
    result = sim.run(tstop)
    ours = hc.conduction_velocity(result, start=0.3, stop=0.7)["cv_m_s"]

    x, first = hh_cable_first_crossings(length, SQUID["diam"], SQUID["Ra"], celsius, nseg, dt, tstop,
                                        amp=1e5, dur=0.3)
    window = (x >= 0.3 * length) & (x <= 0.7 * length)
    theirs = np.polyfit(first[window], x[window], 1)[0] * M_S_PER_UM_MS
    # Same discretisation, same integrator order and the same rate functions: the two
    # should agree to round-off in the crossing interpolation; 0.5 % is the issue's 2 %
    # tightened, and far above that noise.
    assert ours == pytest.approx(theirs, rel=0.005)
    # Trace by trace: hhcable numbers nodes as NEURON does (0-end, segments, 1-end) and
    # steps in NEURON's order, so every segment's spike arrives at the same time up to
    # floating-point round-off (seen: ~1e-11 ms); 1e-6 ms leaves room for other BLAS builds.
    np.testing.assert_allclose(result.crossings[1:-1], first, rtol=0, atol=1e-6)
    if celsius < 10:
        # At 6.3 °C the kinetics are ~3.4x slower and the spike is slower too.
        assert ours < 0.8 * CONVERGED_CV
