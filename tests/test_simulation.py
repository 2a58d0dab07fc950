"""Simulation set-up: stimuli, probes, recordings, and refusal of bad input."""

import numpy as np
import pytest

import hhcable as hc
from hhcable import theory, units


def passive_cell(length=100.0, diam=10.0):
    cell = hc.Cell(hc.Morphology.cable(length, diam), max_segment=length)
    cell.insert(hc.Passive(g=1e-3, e=-65.0))
    return cell


def test_iclamp_charges_a_single_compartment_like_an_rc_circuit():
    # One compartment with a leak is an RC circuit: V(t) = I R (1 - exp(-t/τ)), τ = cm/g.
    cell = passive_cell()
    area_cm2 = cell.compartments.area.sum() * units.CM2_PER_UM2
    r_mohm = 1.0 / (1e-3 * area_cm2) * 1e-6  # 1/(g·A) in Ω -> MΩ
    tau = theory.time_constant(1.0, 1e-3)  # 1 ms
    sim = hc.Simulation(cell, dt=0.001, method="crank_nicolson", v_init=-65.0)
    sim.iclamp(at=0.5, delay=0.0, dur=100.0, amp=0.1)
    sim.probe("v", at=0.5)
    res = sim.run(5.0)
    expected = -65.0 + 0.1 * r_mohm * (1 - np.exp(-res.t / tau))
    # Crank–Nicolson at dt = τ/1000: error ~ (dt/τ)² ≪ 1e-4 of the 30 mV swing.
    np.testing.assert_allclose(res["v"], expected, atol=1e-3 * 0.1 * r_mohm)


def test_pulse_train_and_waveform_currents():
    train = hc.PulseTrain(delay=1.0, dur=0.5, amp=2.0, interval=2.0, number=3)
    t = np.array([0.9, 1.0, 1.4, 1.6, 3.2, 5.4, 7.2])
    np.testing.assert_array_equal(train.current(t), [0, 2, 2, 0, 2, 2, 0])
    wave = hc.Waveform(t=[0.0, 1.0, 2.0], amp=[0.0, 1.0, 0.0])
    np.testing.assert_allclose(wave.current([-1.0, 0.5, 1.0, 1.75, 3.0]), [0, 0.5, 1.0, 0.25, 0])


@pytest.mark.parametrize("make, key", [
    (lambda: hc.IClamp(delay=-1.0, dur=1.0, amp=1.0), "delay_ms"),
    (lambda: hc.IClamp(delay=0.0, dur=1.0, amp=float("nan")), "amp_nA"),
    (lambda: hc.PulseTrain(delay=0.0, dur=1.0, amp=1.0, interval=0.5, number=2), "interval_ms"),
    (lambda: hc.PulseTrain(delay=0.0, dur=1.0, amp=1.0, interval=2.0, number=0), "number"),
    (lambda: hc.Waveform(t=[0.0, 0.0], amp=[1.0, 1.0]), "t_ms"),
    (lambda: hc.HH(gnabar=-0.1), "hh.gnabar"),
    (lambda: hc.HH(gna=0.1), "hh.gna"),
])
def test_bad_stimulus_or_mechanism_parameters(make, key):
    with pytest.raises(hc.InputError) as err:
        make()
    assert err.value.key == key


def test_bad_simulation_input():
    cell = passive_cell()
    for kwargs, key in (({"dt": 0.0}, "dt"), ({"method": "rk4"}, "method"), ({"v_init": float("inf")}, "v_init")):
        with pytest.raises(hc.InputError) as err:
            hc.Simulation(cell, **kwargs)
        assert err.value.key == key
    sim = hc.Simulation(cell)
    with pytest.raises(hc.InputError, match="tstop"):
        sim.run(0.0)
    with pytest.raises(hc.InputError, match="unknown variable"):
        sim.probe("x", at=0.5, var="hh.m")  # hh is not inserted
    sim.probe("v", at=0.5)
    with pytest.raises(hc.InputError, match="used twice"):
        sim.probe("v", at=0.2)
    with pytest.raises(hc.InputError, match="unknown region"):
        cell.insert(hc.HH(), where="dendrites")
    with pytest.raises(hc.InputError, match="already inserted"):
        cell.insert(hc.Passive())


def test_space_recording_refused_above_the_memory_limit():
    sim = hc.Simulation(passive_cell(), dt=0.01)
    sim.record_space(every=1, max_bytes=1000)
    with pytest.raises(hc.MemoryLimitError, match="raise max_bytes"):
        sim.run(10.0)
    sim.record_space(every=1, max_bytes=1e8)
    res = sim.run(10.0)
    assert res.space_v.shape == (1001, 3)


def test_gate_and_current_probes_follow_the_hh_equations():
    cell = hc.Cell(hc.Morphology.cable(20.0, 20.0), max_segment=100.0)
    cell.insert(hc.HH())
    sim = hc.Simulation(cell, dt=0.01)
    sim.iclamp(at=0.5, delay=1.0, dur=1.0, amp=0.5)
    for var in ("v", "hh.m", "hh.h", "hh.n", "hh.ina", "hh.ik", "hh.il"):
        sim.probe(var, at=0.5, var=var)
    res = sim.run(10.0)
    v, m, h, n = res["v"], res["hh.m"], res["hh.h"], res["hh.n"]
    # The currents are the textbook expressions of the recorded gates (mA/cm²).
    np.testing.assert_allclose(res["hh.ina"], 0.12 * m**3 * h * (v - 50.0), rtol=1e-12)
    np.testing.assert_allclose(res["hh.ik"], 0.036 * n**4 * (v + 77.0), rtol=1e-12)
    np.testing.assert_allclose(res["hh.il"], 0.0003 * (v + 54.3), rtol=1e-12)
    assert v.max() > 0  # it fired
