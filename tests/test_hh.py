"""Rate tables (any channel's, here HH's) against the exact rates: interpolation error far
below the step's error."""

import numpy as np

import hhcable as hc
from hhcable.channels.base import TABLE_DV, TABLE_V_MAX, TABLE_V_MIN, update_factors
from hhcable.engine import RateTable


def hh_table(celsius=18.5, dt=0.025):
    q = hc.HH.spec().q10_factors(hc.HH, celsius)
    return q, RateTable(hc.HH, q, dt, {})


def test_q10_factor_is_three_per_ten_degrees_from_6_3():
    q = hc.HH.spec().q10_factors(hc.HH, 16.3)
    np.testing.assert_allclose(q, 3.0, rtol=1e-15)  # Hodgkin & Huxley's Q10 of 3 (1952, part IV)


def test_table_matches_exact_factors():
    dt = 0.025
    q, table = hh_table(dt=dt)
    v = np.random.default_rng(0).uniform(-150.0, 150.0, 20000)
    states = np.random.default_rng(1).uniform(0.0, 1.0, (3, v.size))
    decay, gain = update_factors(hc.HH, v, q, dt, {})
    exact = decay * states + gain
    assert table.advance(states, v)
    # Linear interpolation errs by at most dv²/8 max|f''|; the factors' second derivatives in
    # v are below 0.01 /mV² here, so the error is below 0.05²/8 * 0.01 ~ 3e-6.
    np.testing.assert_allclose(states, exact, rtol=0, atol=3e-6)
    # ... and the table is exact at its grid points.
    grid = TABLE_V_MIN + TABLE_DV * np.arange(0, 8000, 37)
    states = np.full((3, grid.size), 0.5)
    table.advance(states, grid)
    decay, gain = update_factors(hc.HH, grid, q, dt, {})
    np.testing.assert_allclose(states, 0.5 * decay + gain, rtol=0, atol=1e-12)


def test_voltages_off_the_table_are_refused_by_the_table():
    _, table = hh_table()
    states = np.full((3, 2), 0.5)
    assert not table.advance(states, np.array([-65.0, TABLE_V_MAX + 50.0]))
    np.testing.assert_array_equal(states, 0.5)  # untouched: the engine uses the exact rates


def squid_cv(dt, use_table):
    cell = hc.Cell(hc.Morphology.cable(15000.0, 476.0), Ra=35.4, celsius=18.5, max_segment=20.0)
    cell.insert(hc.HH(use_table=use_table))
    sim = hc.Simulation(cell, dt=dt)
    sim.iclamp(at=0.0, delay=0.2, dur=0.3, amp=100000.0)
    sim.record_crossings(0.0)
    res = sim.run(2.0)
    return hc.conduction_velocity(res, start=0.3, stop=0.7)["cv_m_s"]


def test_table_error_is_far_below_the_step_error():
    # Squid axon, 20 µm segments (coarse to keep the test short: the comparison is between
    # two paths at the same settings, not against the converged value).
    exact = squid_cv(0.005, use_table=False)
    table = squid_cv(0.005, use_table=True)
    halved = squid_cv(0.0025, use_table=False)
    assert abs(exact - halved) > 1e-3  # m/s: the step's error is resolved
    assert abs(table - exact) < 0.01 * abs(exact - halved)
