"""The single-compartment HH neuron and its classic experiments.

A :class:`PointNeuron` is a :class:`~hhcable.Cell` made of one short cylinder cut into a
single segment, so it is isopotential: the textbook space-clamped squid membrane.  Its
default area, :data:`DEFAULT_AREA` = 1e5 µm², makes 1 nA of injected current a current
density of 1 µA/cm², the unit of the 1952 paper and of most HH tutorials.

Two voltage conventions are offered: ``"modern"`` (rest -65 mV, NEURON's ``hh``) and
``"1952"`` (rest 0 mV, depolarisation positive, E_Na 115, E_K -12, E_L 10.6 mV; see
:class:`~hhcable.channels.HH1952`).

The experiments: a current step (:meth:`PointNeuron.step`), the spike count against step
amplitude (:func:`fi_curve`), the threshold of a pulse (:func:`threshold_current`, and
over durations, :func:`strength_duration`), the threshold of a second pulse after a first
(:func:`recovery_threshold`, the refractory period), and a population of independent
neurons (:func:`population_spikes`).
"""

import numpy as np

from .analysis import spike_times
from .batch import Batch
from .cell import Cell
from .channels import HH, HH1952
from .channels.hh1952 import MODERN_REST
from .errors import InputError
from .morphology import Morphology
from .simulation import Simulation
from .units import NA_PER_MA_CM2_UM2

#: Membrane area (µm²) of the default point neuron: 1 nA ↔ 1 µA/cm².
DEFAULT_AREA = 1e5
#: Voltage conventions and the resting potential (mV) of each.
CONVENTIONS = {"modern": MODERN_REST, "1952": 0.0}
#: Spikes are upward crossings of rest + this (mV): 0 mV in the modern convention.
SPIKE_ABOVE_REST = 65.0
#: Probes a point-neuron simulation records: name -> variable (of mechanism ``{m}``).
PROBES = {"v": "v", "m": "{m}.m", "h": "{m}.h", "n": "{m}.n",
          "ina": "{m}.ina", "ik": "{m}.ik", "il": "{m}.il"}
#: µA/cm² per mA/cm².
UA_PER_MA = 1e3
#: Amplitudes tried at once per threshold and bisection round (each round narrows the
#: bracket this many times; the runs share one batch, so a round costs about one run).
BISECTION_TRIES = 16


class PointNeuron:
    """One isopotential compartment with Hodgkin–Huxley channels.

    Parameters
    ----------
    convention : {"modern", "1952"}
        Voltage convention: rest at -65 mV or at 0 mV.
    area : float, µm²
        Membrane area (default 1e5, so that 1 nA is 1 µA/cm²).
    cm : float, µF/cm²
        Specific membrane capacitance.
    celsius : float, °C
        Temperature (default 6.3, where the HH rates were measured).
    **hh : float
        HH parameters in the chosen convention (``gnabar``, ``gkbar``, ``gl`` in S/cm²;
        ``ena``, ``ek``, ``el`` in mV).

    Examples
    --------
    >>> neuron = PointNeuron(convention="1952")
    >>> res = neuron.step(amp=10.0, delay=1.0, dur=1.0, tstop=10.0)
    >>> len(neuron.spikes(res))
    1
    """

    def __init__(self, convention="modern", area=DEFAULT_AREA, cm=1.0, celsius=6.3, **hh):
        if convention not in CONVENTIONS:
            raise InputError(f"unknown convention {convention!r}; use one of {sorted(CONVENTIONS)}",
                             key="convention")
        if isinstance(area, bool) or not isinstance(area, (int, float)) or not (np.isfinite(area) and area > 0):
            raise InputError(f"must be a positive area in µm², got {area!r}", key="area")
        self.convention = convention
        self.rest = CONVENTIONS[convention]
        self.mechanism = (HH1952 if convention == "1952" else HH)(**hh)
        # A cylinder as long as it is wide has area π d²; one segment makes it isopotential.
        diam = float(np.sqrt(area / np.pi))
        self.cell = Cell(Morphology.cable(length=diam, diam=diam), cm=cm, celsius=celsius,
                         max_segment=2 * diam)
        self.cell.insert(self.mechanism)
        self.area = float(self.cell.compartments.area.sum())

    @property
    def threshold(self):
        """Voltage (mV) whose upward crossings count as spikes."""
        return self.rest + SPIKE_ABOVE_REST

    def nA_per_uA_cm2(self):
        """Current (nA) that is 1 µA/cm² on this neuron's membrane."""
        return self.area * NA_PER_MA_CM2_UM2 / UA_PER_MA

    def simulation(self, dt=0.01, v_init=None, record=tuple(PROBES), method="backward_euler"):
        """A :class:`~hhcable.Simulation` of this neuron with probes at its compartment.

        Parameters
        ----------
        dt : float, ms
        v_init : float, mV, optional
            Initial voltage (default: rest of the convention).
        record : sequence of str
            Probe names from ``v, m, h, n, ina, ik, il`` (currents in mA/cm²).
        method : {"backward_euler", "crank_nicolson"}

        Returns
        -------
        Simulation
        """
        sim = Simulation(self.cell, dt=dt, method=method, v_init=self.rest if v_init is None else v_init)
        for name in record:
            if name not in PROBES:
                raise InputError(f"unknown probe {name!r}; use some of {list(PROBES)}", key="record")
            sim.probe(name, at=0.5, var=PROBES[name].format(m=self.mechanism.name))
        return sim

    def step(self, amp, delay, dur, tstop, dt=0.01, **kwargs):
        """Run a current step of ``amp`` (nA) from ``delay`` (ms) for ``dur`` (ms) to ``tstop`` (ms).

        Other keywords go to :meth:`simulation`.  Returns the :class:`~hhcable.Result`.
        """
        sim = self.simulation(dt=dt, **kwargs)
        sim.iclamp(at=0.5, delay=delay, dur=dur, amp=amp)
        return sim.run(tstop)

    def spikes(self, result):
        """Spike times (ms) in the ``"v"`` trace of ``result``."""
        return spike_times(result.t, result["v"], self.threshold)


def _run_all(neuron, stimuli, tstop, dt, v_init=None):
    """Spike times (ms) of ``neuron`` under each set of pulses [(delay, dur, amp), ...], run as one batch."""
    starts = [None] * len(stimuli) if v_init is None else v_init
    sims = []
    for pulses, v0 in zip(stimuli, starts):
        sim = neuron.simulation(dt=dt, v_init=v0, record=("v",))
        for delay, dur, amp in pulses:
            sim.iclamp(at=0.5, delay=delay, dur=dur, amp=float(amp))
        sims.append(sim)
    return [neuron.spikes(res) for res in Batch(sims).run(tstop)]


def fi_curve(neuron, amps, dur=100.0, delay=10.0, dt=0.025, transient=None):
    """Firing rate (Hz) against the amplitude of a long current step.

    Parameters
    ----------
    neuron : PointNeuron
    amps : sequence of float, nA
    dur : float, ms
        Step duration.
    delay : float, ms
        Step onset.
    dt : float, ms
    transient : float, ms, optional
        Spikes in this time after onset are ignored (default: ``dur / 4``), so the rate is
        the sustained one.

    Returns
    -------
    dict
        ``amp_nA`` and ``rate_hz`` arrays, and ``spikes_ms`` (spike times per amplitude).
    """
    transient = dur / 4 if transient is None else transient
    if not 0 <= transient < dur:
        raise InputError(f"transient must lie in [0, dur), got {transient!r}", key="transient")
    amps = np.asarray(amps, dtype=float)
    spikes = _run_all(neuron, [[(delay, dur, a)] for a in amps], delay + dur, dt)
    rates = []
    for times in spikes:
        window = times[times >= delay + transient]
        # Rate from the mean interspike interval of the sustained train (0 below two spikes).
        rates.append(1e3 / np.mean(np.diff(window)) if len(window) >= 2 else 0.0)
    return {"amp_nA": amps, "rate_hz": np.array(rates), "spikes_ms": spikes}


def _thresholds(neuron, problems, max_amp, rtol, dt, tries=BISECTION_TRIES):
    """Smallest firing amplitudes (nA), found together by a bisection that tries ``tries``
    amplitudes per problem and round (all in one batch).

    Each problem is ``(pulses, tstop, after)``: ``pulses(amp)`` gives [(delay, dur, amp), ...]
    and a spike counts if it comes after ``after`` (ms).  NaN where ``max_amp`` does not fire.
    """
    low, high = np.zeros(len(problems)), np.full(len(problems), float(max_amp))
    open_ = np.ones(len(problems), bool)
    # The first round includes max_amp itself; later ones try only amplitudes inside
    # (low, high), high being known to fire.
    steps = np.arange(1, tries + 1) / tries
    while open_.any():
        todo = np.flatnonzero(open_)
        amps = {k: low[k] + (high[k] - low[k]) * steps for k in todo}
        runs = [problems[k][0](a) for k in todo for a in amps[k]]
        spikes = _run_all(neuron, runs, max(problems[k][1] for k in todo), dt)
        for j, k in enumerate(todo):
            fired = [bool(np.any(times > problems[k][2])) for times in spikes[j * tries:(j + 1) * tries]]
            if True in fired:
                first = fired.index(True)
                low[k], high[k] = (amps[k][first - 1] if first else low[k]), amps[k][first]
            elif steps[-1] == 1.0:  # the first round: max_amp itself does not fire
                high[k] = np.nan
            else:
                low[k] = amps[k][-1]
            open_[k] = high[k] - low[k] > rtol * high[k]  # False for NaN
        steps = np.arange(1, tries + 1) / (tries + 1)
    return high


def threshold_current(neuron, dur, max_amp=1000.0, delay=1.0, dt=0.025, rtol=1e-2, window=10.0):
    """Smallest amplitude (nA) of a single pulse of ``dur`` (ms) that fires a spike.

    Found by bisection to relative precision ``rtol``; NaN if ``max_amp`` (nA) does not
    fire.  A spike counts if it comes within ``window`` (ms) of the pulse's end.
    """
    return float(strength_duration(neuron, [dur], max_amp, delay, dt, rtol, window)[0])


def strength_duration(neuron, durations, max_amp=1000.0, delay=1.0, dt=0.025, rtol=1e-2, window=10.0):
    """Threshold amplitude (nA) of a pulse for each of ``durations`` (ms); see :func:`threshold_current`."""
    problems = [(lambda a, d=d: [(delay, d, a)], delay + d + window, 0.0) for d in durations]
    return _thresholds(neuron, problems, max_amp, rtol, dt)


def recovery_threshold(neuron, intervals, amp, dur=0.5, max_amp=1000.0, dt=0.025, rtol=2e-2,
                       window=10.0):
    """Threshold (nA) of a second pulse ``intervals`` (ms) after a first that fires.

    The first pulse, ``amp`` (nA) for ``dur`` (ms), fires a spike; the second pulse's
    threshold is high in the relative refractory period and NaN (not reached below
    ``max_amp``) in the absolute one.

    Returns
    -------
    ndarray, nA
    """
    delay = 1.0
    first = (delay, dur, amp)
    if not len(_run_all(neuron, [[first]], delay + dur + window, dt)[0]):
        raise InputError(f"the first pulse ({amp} nA for {dur} ms) does not fire a spike", key="amp")
    for interval in intervals:
        if interval < dur:
            raise InputError(f"interval {interval} ms is shorter than the pulse ({dur} ms)", key="intervals")
    problems = [(lambda a, s=delay + i: [first, (s, dur, a)], delay + i + dur + window, delay + i)
                for i in intervals]
    return _thresholds(neuron, problems, max_amp, rtol, dt)


def population_spikes(neurons, tstop, amp=0.0, delay=0.0, dur=None, v_init=None, dt=0.025):
    """Spike times of independent point neurons driven by current steps, simulated together.

    Parameters
    ----------
    neurons : sequence of PointNeuron
        Neurons with their own parameters.
    tstop : float, ms
    amp : float or sequence of float, nA
        Step amplitude, one for all or one per neuron.
    delay, dur : float, ms
        Step onset and duration (default: to the end).
    v_init : sequence of float, mV, optional
        Initial voltage of each neuron (default: each one's rest).
    dt : float, ms

    Returns
    -------
    list of ndarray, ms
    """
    n = len(neurons)
    amps = np.broadcast_to(np.asarray(amp, dtype=float), (n,))
    starts = [None] * n if v_init is None else list(v_init)
    if len(starts) != n:
        raise InputError(f"give one initial voltage per neuron ({n}), got {len(starts)}", key="v_init")
    dur = tstop - delay if dur is None else dur
    sims = []
    for neuron, a, v0 in zip(neurons, amps, starts):
        sim = neuron.simulation(dt=dt, v_init=v0, record=("v",))
        sim.iclamp(at=0.5, delay=delay, dur=dur, amp=float(a))
        sims.append(sim)
    return [neuron.spikes(res) for neuron, res in zip(neurons, Batch(sims).run(tstop))]
