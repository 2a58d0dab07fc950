"""The lecture-basics examples (20–29) are right, not only drawn: each against something we
did not write (published values, closed forms, an independent root finder, a from-scratch
solver)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from hhcable.pointneuron import PointNeuron

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(stem):
    spec = importlib.util.spec_from_file_location(f"lecture_{stem}", EXAMPLES / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gates_at_rest_are_hodgkin_huxleys():
    """Resting gates of the 1952 paper (m 0.0529, h 0.5961, n 0.3177; given to 4 digits)."""
    inf, tau = _load("20_gate_curves").gates([-65.0])
    assert inf["m"][0] == pytest.approx(0.0529, abs=5e-5)
    assert inf["h"][0] == pytest.approx(0.5961, abs=5e-5)
    assert inf["n"][0] == pytest.approx(0.3177, abs=5e-5)
    assert tau["m"][0] < tau["h"][0] and tau["m"][0] < tau["n"][0]  # m is the fast gate


def test_fixed_point_is_the_engines_rest():
    """The fixed point found by brentq on the channel's current equals the voltage the engine
    settles to without current (300 ms, 60 of the slowest time constant: settled below 1e-6
    mV; 1e-4 mV leaves room for the rate tables' interpolation)."""
    mod = _load("22_nullclines")
    rest = mod.rest()
    h0 = float(mod.HH.steady_state(np.array([rest]))[1, 0])
    low = mod.fixed_points(0.0, h0)[0]
    assert low[0] == pytest.approx(rest, abs=1e-9) and low[2]  # the lowest crossing, stable
    neuron = PointNeuron()
    res = neuron.simulation(dt=0.025, record=("v",)).run(300.0)
    assert res["v"][-1] == pytest.approx(rest, abs=1e-4)
    # Under 10 µA/cm² (above the 6.3 µA/cm² of repetitive firing) the low fixed point is unstable.
    assert not mod.fixed_points(10.0, h0)[0][2]


def test_passive_charging_is_the_rc_closed_form():
    """Backward Euler with dt = τ/1000 is within 0.05 % of I·R of the closed form (its error
    is about dt/(2τ) of the final value)."""
    mod = _load("23_passive_charging")
    _, res = mod.simulate()
    exact = mod.closed_form(res.t)
    assert np.max(np.abs(res["v"] - exact)) < 5e-4 * exact.max()


def test_from_scratch_cable_agrees_with_the_engine():
    """The 40-line solver and the engine give the same velocity to 0.5 % and the same spike
    time at the middle to 0.05 ms (the engine's gates are staggered half a step and its ends
    have zero-area nodes: differences of order dt and dx, not of the model)."""
    mod = _load("25_from_scratch_cable")
    t, v = mod.hh_cable(tstop=8.0)
    x = (np.arange(mod.N) + 0.5) * mod.LENGTH / mod.N
    ours = mod.first_crossings(t, v)
    _, res = mod.engine_cable(tstop=8.0)
    comp = res.cell.compartments
    assert mod.velocity(x, ours) == pytest.approx(mod.velocity(comp.distance, res.crossings), rel=5e-3)
    middle = np.argmin(np.abs(comp.distance - x[mod.N // 2]))
    assert ours[mod.N // 2] == pytest.approx(res.crossings[middle], abs=0.05)


def test_voltage_clamp_currents():
    """Under the clamp each gate obeys dx/dt = (x∞ − x)/τ at fixed V: the example's closed form
    equals scipy's solve_ivp of those equations (rtol 1e-10) to 1e-6 µA/cm²; the sodium
    current vanishes at E_Na; TTX (gnabar 0) leaves exactly I_K + I_L."""
    from scipy.integrate import solve_ivp

    import hhcable as hc

    mod = _load("21_voltage_clamp")
    channel = hc.HH()
    v_c = 0.0
    inf, tau = channel.inf_tau(np.array([v_c]), mod.CELSIUS)
    x0 = channel.steady_state(np.array([mod.HOLD]))[:, 0]
    sol = solve_ivp(lambda t, x: (inf[:, 0] - x) / tau[:, 0], (0.0, mod.T[-1]), x0, t_eval=mod.T,
                    rtol=1e-10, atol=1e-12)
    ode = channel.current_densities(sol.y, np.full(len(mod.T), v_c))
    got = mod.clamp(v_c)
    for name in ("ina", "ik", "il"):
        np.testing.assert_allclose(got[name], mod.UA_PER_MA * ode[name], atol=1e-6)
    assert got["ina"].min() < -500.0  # an early inward sodium current (µA/cm²)
    np.testing.assert_allclose(mod.clamp(channel.ena)["ina"], 0.0, atol=1e-9)
    ttx = mod.clamp(v_c, channel=hc.HH(gnabar=0.0))
    np.testing.assert_allclose(got["total"] - ttx["total"], got["ina"], atol=1e-9)


def _q10_factor(celsius):
    """Hodgkin and Huxley's temperature factor φ = 3^((T − 6.3)/10) (1952, p. 519), written out."""
    return 3.0 ** ((celsius - 6.3) / 10.0)


@pytest.mark.parametrize("celsius", [0.0, 6.3, 18.5, 25.0, 35.0])
def test_rates_follow_the_q10_law(celsius):
    """hc.HH's time constants at T are those of the published 6.3 °C rates (written out again
    in test_point_neuron.hh_rates) divided by 3^((T − 6.3)/10); its steady states do not
    change.  1e-9: the same formula evaluated in a different order."""
    import hhcable as hc
    from test_point_neuron import hh_rates

    volts = np.linspace(-100.0, 50.0, 151) + 0.123  # off the rates' removable singularities
    inf, tau = hc.HH().inf_tau(volts, celsius)
    for k in range(3):
        rates = np.array([hh_rates(v)[k] for v in volts])  # (alpha, beta) in 1/ms at 6.3 °C
        np.testing.assert_allclose(tau[k], 1.0 / (rates.sum(axis=1) * _q10_factor(celsius)), rtol=1e-9)
        np.testing.assert_allclose(inf[k], rates[:, 0] / rates.sum(axis=1), rtol=1e-9)


@pytest.mark.parametrize("celsius", [6.3, 18.5, 25.0])
def test_warm_spike_against_solve_ivp(celsius):
    """The example's spike (dt 0.001 ms) at each temperature against scipy's LSODA (rtol 1e-10)
    on the HH equations with every rate times φ: spike time to 0.002 ms, amplitude to 0.3 mV,
    width at half amplitude to 1 % (backward Euler's first-order error at this step; at
    dt 0.005 ms the errors are about five times larger)."""
    from scipy.integrate import solve_ivp
    from test_point_neuron import hh_rates

    import hhcable as hc

    mod = _load("24_temperature")
    phi = _q10_factor(celsius)

    def rhs(t, y):
        v, *gates = y
        stim = mod.AMP if mod.DELAY <= t < mod.DELAY + mod.DUR else 0.0
        m, h, n = gates
        i_ion = 120 * m**3 * h * (v - 50) + 36 * n**4 * (v + 77) + 0.3 * (v + 54.3)  # µA/cm²
        return [stim - i_ion] + [phi * (a * (1 - x) - b * x) for (a, b), x in zip(hh_rates(v), gates)]

    rest = -65.0
    y0 = [rest, *hc.HH().steady_state(np.array([rest]))[:, 0]]
    t_eval = np.arange(0.0, mod.TSTOP, 0.001)
    sol = solve_ivp(rhs, (0.0, mod.TSTOP), y0, method="LSODA", rtol=1e-10, atol=1e-10, t_eval=t_eval,
                    max_step=0.05)
    _, res, neuron = mod.spike(celsius, dt=0.001)
    expected, got = hc.spike_times(sol.t, sol.y[0]), neuron.spikes(res)
    assert len(expected) == len(got) == 1
    assert got[0] == pytest.approx(expected[0], abs=0.002)
    amp_ref, width_ref = mod.shape(sol.t, sol.y[0], rest)
    amp, width = mod.shape(res.t, res["v"], neuron.rest)
    assert amp == pytest.approx(amp_ref, abs=0.3)
    assert width == pytest.approx(width_ref, rel=0.01)


def test_heat_block_bracket():
    """Warming speeds the 1 µm axon up (6.3 → 18.5 °C) and the bisected block temperature
    separates conduction from failure: the axon conducts 0.05 °C below it and fails 0.05 °C
    above it (the bisection's tolerance), between 28 and 29 °C as in the lab."""
    mod = _load("24_temperature")
    assert mod.velocity(18.5) > mod.velocity(6.3)
    block = mod.heat_block(28.0, 30.0)
    assert 28.0 < block < 29.0
    assert np.isfinite(mod.velocity(block - mod.BLOCK_TOLERANCE))
    assert np.isnan(mod.velocity(block + mod.BLOCK_TOLERANCE))
