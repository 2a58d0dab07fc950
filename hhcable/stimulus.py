"""Current injected at a point: steps, pulse trains, and arbitrary waveforms.

Each stimulus gives its current (nA, positive depolarises) as a vectorised function of time
(ms).  The simulation samples it at the middle of each step, as NEURON does.
"""

import numpy as np

from .errors import InputError


def _check(name, value, positive=False, nonnegative=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not np.isfinite(value):
        raise InputError(f"must be a finite number, got {value!r}", key=name)
    if positive and not value > 0:
        raise InputError(f"must be > 0, got {value!r}", key=name)
    if nonnegative and value < 0:
        raise InputError(f"must be >= 0, got {value!r}", key=name)
    return float(value)


class IClamp:
    """A current step, NEURON's IClamp.

    Parameters
    ----------
    delay : float, ms
        Onset time.
    dur : float, ms
        Duration.
    amp : float, nA
        Amplitude.
    """

    def __init__(self, delay, dur, amp):
        self.delay = _check("delay_ms", delay, nonnegative=True)
        self.dur = _check("dur_ms", dur, nonnegative=True)
        self.amp = _check("amp_nA", amp)

    def current(self, t):
        """Current (nA) at times ``t`` (ms)."""
        t = np.asarray(t, dtype=float)
        return np.where((t >= self.delay) & (t < self.delay + self.dur), self.amp, 0.0)


class PulseTrain:
    """A train of equal rectangular pulses.

    Parameters
    ----------
    delay : float, ms
        Onset of the first pulse.
    dur : float, ms
        Duration of each pulse.
    amp : float, nA
        Amplitude of each pulse.
    interval : float, ms
        Time from one pulse onset to the next (must exceed ``dur``).
    number : int
        Number of pulses.
    """

    def __init__(self, delay, dur, amp, interval, number):
        self.delay = _check("delay_ms", delay, nonnegative=True)
        self.dur = _check("dur_ms", dur, positive=True)
        self.amp = _check("amp_nA", amp)
        self.interval = _check("interval_ms", interval, positive=True)
        if self.interval <= self.dur:
            raise InputError(f"must exceed dur_ms ({self.dur}) so pulses do not overlap", key="interval_ms")
        if isinstance(number, bool) or not isinstance(number, (int, np.integer)) or number < 1:
            raise InputError(f"must be a positive integer, got {number!r}", key="number")
        self.number = int(number)

    def current(self, t):
        """Current (nA) at times ``t`` (ms)."""
        t = np.asarray(t, dtype=float)
        since = t - self.delay
        k = np.floor(since / self.interval)
        on = (since >= 0) & (k < self.number) & (since - k * self.interval < self.dur)
        return np.where(on, self.amp, 0.0)


class Waveform:
    """An arbitrary current, linearly interpolated between samples and zero outside them.

    Parameters
    ----------
    t : array_like, ms
        Sample times, increasing.
    amp : array_like, nA
        Current at each sample time.
    """

    def __init__(self, t, amp):
        t = np.asarray(t, dtype=float)
        amp = np.asarray(amp, dtype=float)
        if t.ndim != 1 or t.shape != amp.shape or len(t) < 2:
            raise InputError("t_ms and amp_nA must be 1-D arrays of the same length >= 2", key="t_ms")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(amp))):
            raise InputError("t_ms and amp_nA must be finite", key="amp_nA")
        if np.any(np.diff(t) <= 0):
            raise InputError("sample times must increase", key="t_ms")
        self.t, self.amp = t, amp

    def current(self, t):
        """Current (nA) at times ``t`` (ms)."""
        return np.interp(t, self.t, self.amp, left=0.0, right=0.0)
