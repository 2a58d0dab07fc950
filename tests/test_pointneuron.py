"""The point HH neuron against the 1952 equations (solve_ivp) and the 1952 paper's numbers."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import hhcable as hc
from hhcable.pointneuron import (PointNeuron, fi_curve, population_spikes, recovery_threshold,
                                 strength_duration, threshold_current)


# -- the 1952 paper's equations, written out independently (rest 0 mV, depolarisation +) -----
def _rates_1952(v):
    """(alpha, beta) of m, h, n in 1/ms at 6.3 °C, HH 1952 eqs. 20-21, 23-24, 12-13."""
    return ((0.1 * (25 - v) / np.expm1((25 - v) / 10), 4 * np.exp(-v / 18)),
            (0.07 * np.exp(-v / 20), 1 / (np.exp((30 - v) / 10) + 1)),
            (0.01 * (10 - v) / np.expm1((10 - v) / 10), 0.125 * np.exp(-v / 80)))


def _hh1952_rhs(t, y, amp, on, off):
    v, *gates = y
    m, h, n = gates
    i_stim = amp if on <= t < off else 0.0  # µA/cm²
    i_ion = 120 * m**3 * h * (v - 115) + 36 * n**4 * (v + 12) + 0.3 * (v - 10.6)
    return [i_stim - i_ion] + [a * (1 - x) - b * x for (a, b), x in zip(_rates_1952(v), gates)]


def _reference_trace(amp, on, off, tstop, t):
    """V (mV) at times ``t`` from rest under ``amp`` µA/cm² between ``on`` and ``off`` (ms)."""
    y0 = [0.0] + [a / (a + b) for a, b in _rates_1952(0.0)]
    # max_step keeps LSODA from stepping over the current step's edges.
    sol = solve_ivp(_hh1952_rhs, (0.0, tstop), y0, args=(amp, on, off), method="LSODA",
                    rtol=1e-10, atol=1e-10, max_step=0.01, dense_output=True)
    return sol.sol(t)[0]


def test_1952_neuron_matches_solve_ivp():
    neuron = PointNeuron(convention="1952")
    amp_density = 10.0  # µA/cm²
    res = neuron.step(amp=amp_density * neuron.nA_per_uA_cm2(), delay=1.0, dur=1.0, tstop=12.0,
                      dt=0.0025, method="crank_nicolson", record=("v",))
    ref = _reference_trace(amp_density, 1.0, 2.0, 12.0, res.t)
    # Crank–Nicolson is second order: at dt = 2.5 µs its error, times the steepest slope of
    # the spike (~500 mV/ms), stays near 0.01 mV; 0.1 mV leaves room for the gates' half-step
    # stagger, and a wrong rate or reversal moves the trace by millivolts.
    np.testing.assert_allclose(res["v"], ref, rtol=0, atol=0.1)
    ref_spike = hc.threshold_crossings(res.t, ref, neuron.threshold)
    # 0.1 mV over a rise of ~500 mV/ms is 2e-4 ms.
    np.testing.assert_allclose(neuron.spikes(res), ref_spike, atol=1e-3)


def test_conventions_give_the_same_spikes_shifted_by_65_mV():
    # The same physics in both conventions: the modern leak reversal is the 1952 one - 65 mV.
    old = PointNeuron(convention="1952")
    new = PointNeuron(convention="modern", el=old.mechanism.el - 65.0)
    kwargs = dict(amp=15.0, delay=2.0, dur=30.0, tstop=32.0, dt=0.025)
    r_old, r_new = old.step(**kwargs), new.step(**kwargs)
    s_old, s_new = old.spikes(r_old), new.spikes(r_new)
    assert len(s_old) >= 3
    # Only round-off separates the two: v + 65 and the shifted rates are exact in floats
    # to ~1e-13 mV per step.
    np.testing.assert_allclose(s_old, s_new, rtol=0, atol=1e-8)
    np.testing.assert_allclose(r_old["v"] - 65.0, r_new["v"], rtol=0, atol=1e-8)
    for gate in "mhn":
        np.testing.assert_allclose(r_old[gate], r_new[gate], rtol=0, atol=1e-10)


def test_brief_shock_threshold_is_hodgkin_huxley_6_to_7_mV():
    # HH 1952 (part V, Fig. 12): at 6.3 °C an initial depolarisation of 7 mV fires an action
    # potential and 6 mV does not.  A 50 µs pulse is a shock: its charge over cm is the
    # initial depolarisation (the leak removes < 0.1 % of it meanwhile).
    neuron = PointNeuron(convention="1952")
    dur = 0.05
    amp = threshold_current(neuron, dur, dt=0.01)  # 5 steps per pulse
    depolarisation = amp / neuron.nA_per_uA_cm2() * dur / 1.0  # µA/cm² · ms / (µF/cm²) = mV
    assert 6.0 < depolarisation < 7.0


def test_strength_duration_curve_falls_while_charge_rises():
    neuron = PointNeuron()
    durations = [0.1, 1.0, 5.0]
    amps = strength_duration(neuron, durations)
    assert np.all(np.isfinite(amps))
    # Lapicque/Weiss: a longer pulse needs less current but more charge (leak and
    # accommodation waste part of a slow one).
    assert np.all(np.diff(amps) < 0)
    assert np.all(np.diff(amps * durations) > 0)


def test_fi_curve_has_hh_bistable_onset():
    # The HH point neuron at 6.3 °C cannot fire repetitively below 6.26 µA/cm² (a saddle-node
    # of limit cycles) and cannot rest above 9.78 µA/cm² (a subcritical Hopf bifurcation):
    # Rinzel & Miller 1980.  Its rate then starts near 50 Hz, not at zero (a type II neuron).
    neuron = PointNeuron()
    per_ua = neuron.nA_per_uA_cm2()
    out = fi_curve(neuron, [5.5 * per_ua, 10.5 * per_ua, 20.0 * per_ua], dur=100.0)
    rate = out["rate_hz"]
    assert rate[0] == 0.0
    assert 40.0 < rate[1] < 100.0
    assert rate[2] > rate[1]


def test_refractory_period():
    neuron = PointNeuron()
    single = threshold_current(neuron, 0.5)
    recovery = recovery_threshold(neuron, [2.0, 6.0, 25.0], amp=3 * single, max_amp=30 * single)
    # Absolute refractoriness 2 ms after a spike (30x the single-pulse threshold fails), relative
    # after 6 ms (more current than the first spike needed), nearly recovered at 25 ms.
    assert np.isnan(recovery[0])
    assert recovery[1] > 1.2 * single
    assert recovery[2] < recovery[1]


def test_population_of_independent_neurons():
    neurons = [PointNeuron(gnabar=g) for g in (0.12, 0.12, 0.06)]
    spikes = population_spikes(neurons, tstop=30.0, amp=10.0, delay=5.0, v_init=[-65.0, -60.0, -65.0])
    alone = neurons[0].spikes(neurons[0].step(10.0, 5.0, 25.0, 30.0, dt=0.025, record=("v",)))
    np.testing.assert_allclose(spikes[0], alone, atol=1e-12)  # simulated together = alone
    assert not np.allclose(spikes[1][0], spikes[0][0])  # another start, another spike time
    assert len(spikes[2]) < len(spikes[0])  # half the sodium: fewer spikes


@pytest.mark.parametrize("kwargs, key", [
    (dict(convention="1953"), "convention"),
    (dict(area=-1.0), "area"),
])
def test_bad_neuron_input(kwargs, key):
    with pytest.raises(hc.InputError) as err:
        PointNeuron(**kwargs)
    assert err.value.key == key


def test_bad_experiment_input():
    neuron = PointNeuron()
    with pytest.raises(hc.InputError):
        neuron.simulation(record=("v", "q"))
    with pytest.raises(hc.InputError):
        population_spikes([neuron], 10.0, v_init=[0.0, 1.0])
    with pytest.raises(hc.InputError, match="does not fire"):
        recovery_threshold(neuron, [5.0], amp=0.01)
    with pytest.raises(hc.InputError):
        fi_curve(neuron, [1.0], dur=10.0, transient=20.0)
