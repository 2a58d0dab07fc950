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
