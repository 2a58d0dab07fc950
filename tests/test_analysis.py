"""Spike measurements against waveforms whose answers are known in closed form."""

import numpy as np
import pytest

import hhcable as hc


def test_crossings_of_a_ramp_are_exact():
    # A linear ramp crosses its threshold where the line does, whatever the sampling.
    t = np.linspace(0.0, 10.0, 37)
    v = -70.0 + 12.0 * t
    np.testing.assert_allclose(hc.threshold_crossings(t, v, threshold=-10.0), [5.0], rtol=1e-12)
    assert hc.spike_times(t, -v).size == 0  # a falling line never crosses upwards


def test_gaussian_spike_peak_and_half_width():
    # A Gaussian bump of height A over rest: peak rest + A, full width at half maximum
    # 2 sqrt(2 ln 2) σ; linear interpolation at 1 µs sampling errs by < 1e-5 ms.
    rest, height, centre, sigma = -65.0, 100.0, 3.0, 0.25
    t = np.arange(0.0, 8.0, 0.001)
    v = rest + height * np.exp(-((t - centre) ** 2) / (2 * sigma**2))
    f = hc.spike_features(t, v, threshold=0.0)
    assert f["peak_mV"] == pytest.approx(rest + height, abs=1e-6)
    assert f["peak_ms"] == pytest.approx(centre, abs=1e-3)
    assert f["half_width_ms"] == pytest.approx(2 * np.sqrt(2 * np.log(2)) * sigma, abs=1e-5)
    assert hc.spike_features(t, np.full_like(t, rest)) is None


def test_two_spikes_counted():
    t = np.arange(0.0, 20.0, 0.01)
    v = -65.0 + 100.0 * (np.exp(-((t - 5) ** 2) / 0.1) + np.exp(-((t - 12) ** 2) / 0.1))
    times = hc.spike_times(t, v)
    assert len(times) == 2 and times[0] < 5 < times[1] < 12
