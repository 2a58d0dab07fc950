"""Electrodes in a homogeneous medium without the engine: potentials, recording weights, the
activating function, and charge-balanced waveforms, each against a closed form or a law."""

import networkx as nx
import numpy as np
import pytest
from scipy.integrate import quad

import hhcable as hc

SIGMA = 0.3  # S/m


def _cable(length=2000.0, diam=2.0, seg=5.0, Ra=100.0, cm=1.0):
    return hc.Cell(hc.Morphology.cable(length=length, diam=diam), Ra=Ra, cm=cm, max_segment=seg)


def test_point_source_in_si_units():
    """1 µA at 1 mm in 0.3 S/m: V = I/(4πσr) computed in SI units (A, S/m, m, V)."""
    cell = _cable()
    electrode = hc.PointElectrode(1000.0, 1000.0, 0.0, sigma=SIGMA)
    r_m = electrode.distance(cell) * 1e-6
    volts_per_amp = 1.0 / (4 * np.pi * SIGMA * r_m)
    # mV per µA = (V/A) × 1e-6 A/µA × 1e3 mV/V; round-off only.
    np.testing.assert_allclose(electrode.potential(cell), volts_per_amp * 1e-3, rtol=1e-12)
    # mV per nA of recorded membrane current = (V/A) × 1e-9 × 1e3.
    np.testing.assert_allclose(electrode.weights(cell, source="point"), volts_per_amp * 1e-6, rtol=1e-12)


def test_distance_never_below_the_radius():
    """An electrode on the axis at a node sees the potential of the membrane's surface."""
    cell = _cable(diam=4.0)
    node = cell.locate(0.5)
    electrode = hc.PointElectrode(*cell.compartments.xyz[node])
    assert electrode.distance(cell)[node] == pytest.approx(2.0)
    assert np.all(np.isfinite(electrode.weights(cell))) and np.all(np.isfinite(electrode.potential(cell)))


def test_line_source_equals_the_integral_of_point_sources():
    """Holt & Koch's line source is ∫ ds / (4πσ|P − s|) / Δs: against scipy's quad, off to the
    side, past the end on the axis and far away."""
    for start, stop, r in [(-7.0, 3.0, 2.0), (5.0, 15.0, 0.5), (-15.0, -5.0, 3.0), (900.0, 1000.0, 40.0)]:
        integral, _ = quad(lambda s: 1.0 / np.hypot(s, r), start, stop, epsabs=0, epsrel=1e-12)
        expected = integral / (4 * np.pi * SIGMA * (stop - start))
        assert hc.line_source_potential(1.0, start, stop, r, SIGMA) == pytest.approx(expected, rel=1e-9)


def test_line_source_tends_to_point_source_far_away():
    """Seen broadside at distance R, a line of length L gives (2R/L) asinh(L/2R) of the point
    source (the closed form), which is 1 − (L/2R)²/6 + O((L/R)⁴): the weights of a cable's
    segments approach the point weights as the electrode recedes."""
    cell = _cable(length=1000.0, seg=50.0)
    node = cell.locate(0.5)
    length = 50.0
    for R in (20.0, 100.0, 1000.0, 1e4):
        e = hc.PointElectrode(cell.compartments.xyz[node, 0], R, 0.0, sigma=SIGMA)
        ratio = e.weights(cell, "line")[node] / e.weights(cell, "point")[node]
        closed = 2 * R / length * np.arcsinh(length / (2 * R))
        assert ratio == pytest.approx(closed, rel=1e-12)
        if R >= 100.0:  # the series' first term; the next is 0.45 (L/2R)² of it, under 3 % here
            assert 1 - ratio == pytest.approx((length / (2 * R)) ** 2 / 6, rel=0.03)


def test_electrode_rejects_bad_input():
    with pytest.raises(hc.InputError, match="sigma"):
        hc.PointElectrode(0, 0, 0, sigma=-1.0)
    with pytest.raises(hc.InputError, match="source"):
        hc.PointElectrode(0, 0, 0).weights(_cable(), source="dipole")
    with pytest.raises(hc.InputError, match="ve_mV"):
        hc.activating_function(_cable(), np.zeros(3))


def test_activating_function_on_a_straight_fibre_is_rattays_closed_form():
    """Rattay (1986, 1989): on a uniform unmyelinated fibre f = (d / (4 ρi cm)) ∂²Ve/∂x².

    From the cable equation with an applied field, cm ∂Vm/∂t = (d/4ρi) ∂²(Vm + Ve)/∂x² − i_ion:
    at rest (Vm uniform, i_ion = 0) the membrane starts to charge at (d/4ρi cm) ∂²Ve/∂x².  For
    a point source Ve = K / √(u² + h²), ∂²Ve/∂x² = K (2u² − h²) / (u² + h²)^(5/2)."""
    diam, Ra, cm, h, x0, amp = 2.0, 100.0, 1.0, 100.0, 1000.0, -10.0  # µm, Ω·cm, µF/cm², µm, µm, µA
    cell = _cable(diam=diam, Ra=Ra, cm=cm, seg=5.0)
    electrode = hc.PointElectrode(x0, h, 0.0, sigma=SIGMA)
    f = hc.activating_function(cell, electrode.potential(cell) * amp)
    comp = cell.compartments
    inner = np.flatnonzero(comp.area > 0)[1:-1]  # the end compartments are sealed ends: not in the closed form
    u = comp.xyz[inner, 0] - x0
    K = amp * 1e-6 / (4 * np.pi * SIGMA * 1e-6) * 1e3  # mV·µm: (A / (S/m · m)) V·m → mV·µm
    d2ve = K * (2 * u**2 - h**2) / (u**2 + h**2) ** 2.5  # mV/µm²
    # d/(ρi cm) in µm/(Ω·cm · µF/cm²) = µm·cm/(Ω·µF); 1 cm = 1e4 µm and 1 Ω·µF = 1 µs = 1e-3 ms.
    closed = diam / (4 * Ra * cm) * 1e4 / 1e-3 * d2ve  # mV/ms
    # The second difference differs from the derivative by (Δx²/12) Ve''''/Ve'' = 0.75 (Δx/h)² at
    # the peak (0.2 % here); 0.5 % of the peak bounds it everywhere.
    np.testing.assert_allclose(f[inner], closed, atol=5e-3 * np.abs(closed).max())
    assert f[cell.locate(0.5)] > 0  # cathodic current depolarises under the electrode
    assert np.all(np.isnan(f[comp.area == 0]))


def test_activating_function_conserves_charge_on_a_tree():
    """Axial currents only move charge between compartments: Σ C_i f_i = 0 (Kirchhoff), on a
    branched cell with its zero-area branch point, and a uniform potential moves nothing."""
    morph = hc.Morphology.y_junction(parent_length=400.0, parent_diam=2.0, daughter_lengths=(300.0, 500.0),
                                     daughter_diams=(1.0, 1.5))
    cell = hc.Cell(morph, max_segment=20.0)
    comp = cell.compartments
    ve = hc.PointElectrode(380.0, 40.0, 0.0).potential(cell) * -5.0
    f = hc.activating_function(cell, ve)
    charge_rate = cell.node_cm * comp.area * 1e-5 * np.nan_to_num(f)  # nF·mV/ms = nA
    assert abs(charge_rate.sum()) < 1e-9 * np.abs(charge_rate).sum()  # round-off
    np.testing.assert_allclose(np.nan_to_num(hc.activating_function(cell, np.full(comp.n_nodes, 7.0))), 0.0,
                               atol=1e-9)


def test_biphasic_is_charge_balanced():
    b = hc.Biphasic(delay=1.0, dur=0.1, amp=-3.0, gap=0.05, dur2=0.4)
    assert b.current(1.05) == -3.0 and b.current(1.12) == 0.0 and b.current(1.2) == pytest.approx(0.75)
    assert b.charge(10.0) == pytest.approx(0.0, abs=1e-15)
    assert b.charge(1.1) == pytest.approx(-0.3)
    # Each step gets its mean current: the charge adds up to zero over any stepping.
    dt = 0.007
    assert b.mean(np.arange(0, 3, dt), dt).sum() * dt == pytest.approx(0.0, abs=1e-12)


def test_biphasic_train_balances_every_pulse():
    train = hc.BiphasicTrain(delay=0.5, dur=0.1, amp=2.0, interval=1.0, number=5)
    ends = 0.5 + np.arange(1, 6) - 0.5  # between pulses
    np.testing.assert_allclose(train.charge(ends), 0.0, atol=1e-15)
    assert train.charge(0.6) == pytest.approx(0.2)
    assert train.current(4.65) == -2.0 and train.current(5.55) == 0.0
    with pytest.raises(hc.InputError, match="interval"):
        hc.BiphasicTrain(delay=0.0, dur=0.1, amp=1.0, interval=0.15, number=3)
