"""Current injected at a point: steps, pulse trains, and arbitrary waveforms.

Each stimulus gives its current (nA, positive depolarises) as a vectorised function of time
(ms), and the charge (pC = nA·ms) it has delivered since the start.  A time loop should
inject, over each step, the mean current of that step (:meth:`Stimulus.mean`): the charge
delivered is then exact, however short a pulse is against the step (sampling the current at
the middle of each step, as NEURON does, skips a pulse shorter than a step).
"""

import numpy as np

from . import validate
from .errors import InputError


class Stimulus:
    """Base of point stimuli: subclasses give :meth:`current` and :meth:`charge`."""

    def current(self, t):
        """Current (nA) at times ``t`` (ms)."""
        raise NotImplementedError

    def charge(self, t):
        """Charge (pC) delivered from the start up to times ``t`` (ms)."""
        raise NotImplementedError

    def mean(self, start, dt):
        """Mean current (nA) over each step ``[start, start + dt]`` (ms): the step's charge over ``dt``.

        Parameters
        ----------
        start : array_like, ms
            Start of each step.
        dt : float, ms
            Step length.

        Returns
        -------
        ndarray, nA
        """
        start = np.asarray(start, dtype=float)
        return (self.charge(start + dt) - self.charge(start)) / dt


def _time(name, value, positive=False):
    return validate.real(value, name, validate.TIME_MS, positive=positive)


def _amp(value):
    return validate.real(value, "amp_nA", validate.CURRENT_NA)


class IClamp(Stimulus):
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
        self.delay = _time("delay_ms", delay)
        self.dur = _time("dur_ms", dur)
        self.amp = _amp(amp)

    def current(self, t):
        t = np.asarray(t, dtype=float)
        return np.where((t >= self.delay) & (t < self.delay + self.dur), self.amp, 0.0)

    def charge(self, t):
        t = np.asarray(t, dtype=float)
        return self.amp * np.clip(t - self.delay, 0.0, self.dur)


class PulseTrain(Stimulus):
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
        self.delay = _time("delay_ms", delay)
        self.dur = _time("dur_ms", dur, positive=True)
        self.amp = _amp(amp)
        self.interval = _time("interval_ms", interval, positive=True)
        if self.interval <= self.dur:
            raise InputError(f"must exceed dur_ms ({self.dur}) so pulses do not overlap", key="interval_ms")
        self.number = validate.integer(number, "number", low=1, high=validate.MAX_STEPS)

    def _pulse(self, t):
        """Index of the pulse period holding each time, and the time since that period began."""
        since = np.asarray(t, dtype=float) - self.delay
        k = np.floor(since / self.interval)
        return k, since - k * self.interval

    def current(self, t):
        k, into = self._pulse(t)
        on = (k >= 0) & (k < self.number) & (into < self.dur)
        return np.where(on, self.amp, 0.0)

    def charge(self, t):
        k, into = self._pulse(t)
        complete = np.clip(k, 0, self.number)  # pulse periods begun and ended before t
        partial = np.where((k >= 0) & (k < self.number), np.minimum(into, self.dur), 0.0)
        return self.amp * (complete * self.dur + partial)


class Waveform(Stimulus):
    """An arbitrary current, linearly interpolated between samples and zero outside them.

    Parameters
    ----------
    t : array_like, ms
        Sample times, increasing.
    amp : array_like, nA
        Current at each sample time.
    """

    def __init__(self, t, amp):
        t = validate.reals(t, "t_ms", validate.TIME_MS)
        amp = validate.reals(amp, "amp_nA", validate.CURRENT_NA)
        if t.shape != amp.shape or len(t) < 2:
            raise InputError("t_ms and amp_nA must be arrays of the same length >= 2", key="t_ms")
        if np.any(np.diff(t) <= 0):
            raise InputError("sample times must increase", key="t_ms")
        self.t, self.amp = t, amp
        # Charge at each sample time: the trapezoids before it (exact for a linear current).
        self._cum = np.concatenate([[0.0], np.cumsum(np.diff(t) * (amp[:-1] + amp[1:]) / 2)])

    def current(self, t):
        return np.interp(t, self.t, self.amp, left=0.0, right=0.0)

    def charge(self, t):
        t = np.clip(np.asarray(t, dtype=float), self.t[0], self.t[-1])
        k = np.clip(np.searchsorted(self.t, t, side="right") - 1, 0, len(self.t) - 2)
        return self._cum[k] + (t - self.t[k]) * (self.amp[k] + self.current(t)) / 2


class _Phases(Stimulus):
    """A stimulus that is the sum of simpler ones (its phases)."""

    def __init__(self, phases):
        self.phases = tuple(phases)

    def current(self, t):
        return sum(p.current(t) for p in self.phases)

    def charge(self, t):
        return sum(p.charge(t) for p in self.phases)


def _balancing(delay, dur, amp, gap, dur2):
    """Checked (delay, dur, amp, gap, dur2) of a charge-balanced pair: dur2 defaults to dur."""
    dur = _time("dur_ms", dur, positive=True)
    dur2 = dur if dur2 is None else _time("dur2_ms", dur2, positive=True)
    return _time("delay_ms", delay), dur, _amp(amp), _time("gap_ms", gap), dur2


class Biphasic(_Phases):
    """A charge-balanced biphasic pulse: ``amp`` for ``dur``, a ``gap``, then the opposite charge.

    The second phase lasts ``dur2`` (default ``dur``) at ``-amp * dur / dur2``, so the net
    charge is zero: the usual safe stimulus of neural engineering (cathodic first, ``amp < 0``,
    for extracellular stimulation).

    Parameters
    ----------
    delay : float, ms
        Onset of the first phase.
    dur : float, ms
        Duration of the first phase.
    amp : float, nA (µA when it drives an electrode)
        Amplitude of the first phase.
    gap : float, ms
        Interphase gap (default 0).
    dur2 : float, ms, optional
        Duration of the second phase.
    """

    def __init__(self, delay, dur, amp, gap=0.0, dur2=None):
        self.delay, self.dur, self.amp, self.gap, self.dur2 = _balancing(delay, dur, amp, gap, dur2)
        super().__init__([IClamp(self.delay, self.dur, self.amp),
                          IClamp(self.delay + self.dur + self.gap, self.dur2, -self.amp * self.dur / self.dur2)])


class BiphasicTrain(_Phases):
    """A train of ``number`` charge-balanced biphasic pulses (see :class:`Biphasic`), onsets every ``interval`` ms.

    Parameters
    ----------
    delay, dur, amp, gap, dur2
        As :class:`Biphasic`.
    interval : float, ms
        Time from one pulse's onset to the next (must exceed ``dur + gap + dur2``).
    number : int
        Number of pulses.
    """

    def __init__(self, delay, dur, amp, interval, number, gap=0.0, dur2=None):
        self.delay, self.dur, self.amp, self.gap, self.dur2 = _balancing(delay, dur, amp, gap, dur2)
        span = self.dur + self.gap + self.dur2
        interval = _time("interval_ms", interval, positive=True)
        if interval <= span:
            raise InputError(f"must exceed dur + gap + dur2 ({span:g} ms) so pulses do not overlap",
                             key="interval_ms")
        self.interval, self.number = interval, number
        super().__init__([PulseTrain(self.delay, self.dur, self.amp, interval, number),
                          PulseTrain(self.delay + self.dur + self.gap, self.dur2, -self.amp * self.dur / self.dur2,
                                     interval, number)])
