"""The lab's experiments: each one a plain function from its controls to numbers and a figure.

Every experiment builds its model with the public API (the same engine ``hhcable run``
steps), runs it, and returns an :class:`Outcome`: the headline numbers a student reads
(measured beside what theory predicts) and a matplotlib figure drawn with
:mod:`hhcable.plotting`.  Nothing here needs Panel, so the numbers are tested without a
browser; :mod:`hhcable.lab.app` puts controls around these functions.

``progress`` (optional, every experiment) is passed to ``Simulation.run``: a callable
``progress(done_steps, total_steps)``.
"""

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import plotting, theory
from ..analysis import conduction_velocity
from ..cell import Cell
from ..channels import HH, Passive
from ..errors import InputError
from ..morphology import Morphology
from ..pointneuron import CONVENTIONS, PointNeuron
from ..simulation import Simulation
from ..swc import UM_PER_NM, SWCWarning, read_swc, units_hint

#: Folder of the SWC files the real-neuron experiment offers.
MORPHOLOGIES = Path(__file__).resolve().parent.parent.parent / "morphologies"
#: Spike-detection threshold (mV) of the cable experiments.
THRESHOLD_MV = 0.0
#: Compartments per AC length constant (NEURON's d_lambda rule) in the HH experiments.
D_LAMBDA = 0.05
#: Time step (ms) of the HH cable experiments.
DT_MS = 0.01
#: Stimulus of the cable experiments: onset (ms) and duration (ms).
STIM_DELAY_MS, STIM_DUR_MS = 0.5, 0.3
#: Length of the axon in units of its sqrt(d/Ra) scale: the squid axon's 30 mm at 476 µm and
#: 35.4 Ω·cm, so every axon is the same number of "spike lengths" long.
AXON_LENGTH_UM = 30_000.0
#: Stimulus at the end of an HH axon, in nA per (d^1.5 / sqrt(Ra)) with d in µm and Ra in Ω·cm:
#: the input conductance of a cable scales so, and this is about twice threshold for 0.3 ms at
#: 18.5 °C (threshold lies between 1 and 2 for every d and Ra), without overshooting E_Na.
STIM_SCALE = 4.0
#: Axial resistivity (Ω·cm) of the Y junction (Hodgkin & Huxley's squid axon).
RA_SQUID = 35.4


@dataclass
class Outcome:
    """What an experiment returns.

    Attributes
    ----------
    numbers : dict
        Headline values, each key carrying its unit (``cv_m_s``, ``lambda_um``...).
    figure : matplotlib Figure
    result : Result or None
        The run itself (the last one, where an experiment runs several).
    """

    numbers: dict
    figure: Figure
    result: object = None


def _figure(ncols, width=5.2, height=3.6):
    """A figure of ``ncols`` panels on its own Agg canvas (no pyplot: safe in worker threads)."""
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


# -- point neuron --------------------------------------------------------------------------------

def point_neuron(amp=10.0, dur=50.0, convention="modern", celsius=6.3, tstop=60.0, delay=5.0, dt=0.01,
                 progress=None):
    """A current step into the space-clamped HH membrane.

    Parameters
    ----------
    amp : float, µA/cm²
        Step amplitude (the default neuron's area makes 1 nA one µA/cm²).
    dur, delay, tstop, dt : float, ms
    convention : {"modern", "1952"}
        Rest at -65 mV (NEURON) or at 0 mV (Hodgkin & Huxley 1952).
    celsius : float, °C

    Returns
    -------
    Outcome
        ``numbers``: ``n_spikes``, ``first_spike_ms`` (None without spikes), ``rate_hz``
        (spikes per second of the step), ``rest_mV``.
    """
    if convention not in CONVENTIONS:
        raise InputError(f"unknown convention {convention!r}; use one of {sorted(CONVENTIONS)}", key="convention")
    neuron = PointNeuron(convention=convention, celsius=celsius)
    sim = neuron.simulation(dt=dt)
    sim.iclamp(at=0.5, delay=delay, dur=dur, amp=amp * neuron.nA_per_uA_cm2())
    res = sim.run(tstop, progress=progress)
    spikes = neuron.spikes(res)
    in_step = spikes[(spikes >= delay) & (spikes < delay + dur)]
    numbers = {"n_spikes": int(len(spikes)), "first_spike_ms": float(spikes[0]) if len(spikes) else None,
               "rate_hz": 1e3 * len(in_step) / dur, "rest_mV": neuron.rest}
    fig, (ax_v, ax_p) = _figure(2)
    plotting.plot_traces(res, ax_v, names=["v"])
    ax_v.set_title(f"{amp:g} µA/cm² for {dur:g} ms ({convention} convention)")
    plotting.plot_stimulus(ax_v, sim.stimuli, res.t, scale=1 / neuron.nA_per_uA_cm2(), unit="µA/cm²")
    plotting.plot_phase_plane(res, "v", "n", ax=ax_p, threshold=neuron.threshold)
    ax_p.set_title("phase plane: the last cycle")
    return Outcome(numbers, fig, res)


# -- passive cable --------------------------------------------------------------------------------

def _passive_cell(length, diam, g, Ra, cm, max_segment):
    cell = Cell(Morphology.cable(length=length, diam=diam), cm=cm, Ra=Ra, max_segment=max_segment)
    cell.insert(Passive(g=g, e=0.0))
    return cell


def passive_cable(diam=2.0, length=1000.0, Rm=10_000.0, Ra=100.0, cm=1.0, end="sealed", amp=0.1,
                  progress=None):
    """A constant current into one end of a passive cable, against closed-form cable theory.

    The steady state is reached with backward Euler in long steps (80 steps of τ/2); a
    killed end (held at rest) is the midpoint of a cable twice as long driven with opposite
    currents at its two ends.  The charging of the injected end is run with short steps and
    drawn against 1 − exp(−t/τ) (an isopotential patch) and erf(sqrt(t/τ)) (the end of a
    semi-infinite cable; Rall 1977).

    Parameters
    ----------
    diam, length : float, µm
    Rm : float, Ω·cm²
        Specific membrane resistance (g = 1/Rm).
    Ra : float, Ω·cm
    cm : float, µF/cm²
    end : {"sealed", "killed"}
    amp : float, nA

    Returns
    -------
    Outcome
        ``numbers``: ``lambda_um``, ``tau_ms``, ``electrotonic_length``,
        ``input_resistance_MOhm`` (simulated) and ``input_resistance_theory_MOhm``,
        ``profile_max_error`` (largest |V/V0 simulated − theory|).
    """
    if end not in ("sealed", "killed"):
        raise InputError(f"unknown end {end!r}; use 'sealed' or 'killed'", key="end")
    g = 1.0 / Rm
    lam = float(theory.length_constant(diam, g, Ra))
    tau = float(theory.time_constant(cm, g))
    max_segment = min(lam / 50.0, length / 50.0)
    steady_dt, steady_steps = tau / 2.0, 80
    total = 2 * length if end == "killed" else length
    cell = _passive_cell(total, diam, g, Ra, cm, max_segment)
    sim = Simulation(cell, dt=steady_dt, v_init=0.0)
    sim.iclamp(at=0.0, delay=0.0, dur=2 * steady_dt * steady_steps, amp=amp)
    if end == "killed":
        sim.iclamp(at=1.0, delay=0.0, dur=2 * steady_dt * steady_steps, amp=-amp)
    sim.record_space(every=steady_steps)
    res = sim.run(steady_dt * steady_steps, progress=progress)
    x = cell.compartments.distance
    v = res.space_v[-1]
    keep = x <= length + 1e-9
    x, v = x[keep], v[keep]
    v0 = v[np.argmin(x)]
    profile = theory.steady_state_profile(x, length, lam, end=end)
    r_in = float(v0 / amp)
    r_theory = float(theory.input_resistance(diam, length, g, Ra, end=end))

    # Charging of the injected end, in short steps, to 3 τ.
    cell_t = _passive_cell(total, diam, g, Ra, cm, max_segment)
    sim_t = Simulation(cell_t, dt=tau / 200.0, v_init=0.0)
    sim_t.iclamp(at=0.0, delay=0.0, dur=10 * tau, amp=amp)
    if end == "killed":
        sim_t.iclamp(at=1.0, delay=0.0, dur=10 * tau, amp=-amp)
    sim_t.probe("end", at=0.0)
    charge = sim_t.run(3 * tau)

    numbers = {"lambda_um": lam, "tau_ms": tau, "electrotonic_length": length / lam,
               "input_resistance_MOhm": r_in, "input_resistance_theory_MOhm": r_theory,
               "profile_max_error": float(np.max(np.abs(v / v0 - profile)))}
    fig, (ax_x, ax_t) = _figure(2)
    order = np.argsort(x)
    ax_x.plot(x[order], v[order] / v0, "o", ms=3, label="simulated")
    ax_x.plot(x[order], profile[order], "-", label=f"theory, {end} end")
    ax_x.axvline(lam, color="0.6", ls=":", lw=1)
    ax_x.text(lam, 0.95, " λ", color="0.4", va="top")
    ax_x.set_xlabel("distance from the injected end (µm)")
    ax_x.set_ylabel("V / V(0), steady state (ratio)")
    ax_x.set_title(f"λ = {lam:.0f} µm, L/λ = {length / lam:.2f}")
    ax_x.legend(frameon=False, fontsize="small")
    s = charge.t / tau
    from scipy.special import erf

    ax_t.plot(s, charge["end"] / v0, label="simulated, injected end")
    ax_t.plot(s, 1 - np.exp(-s), "--", label="isopotential patch: 1 − exp(−t/τ)")
    ax_t.plot(s, erf(np.sqrt(s)), ":", label="semi-infinite cable: erf(√(t/τ))")
    ax_t.set_xlabel("time / τ (ratio)")
    ax_t.set_ylabel("V(0, t) / V(0, ∞) (ratio)")
    ax_t.set_title(f"charging, τ = {tau:.1f} ms")
    ax_t.legend(frameon=False, fontsize="small")
    return Outcome(numbers, fig, res)


# -- propagating spike on an axon ----------------------------------------------------------------

def _stimulus_nA(diam, Ra):
    """Current (nA) that starts a spike at the end of an HH axon of ``diam`` (µm) and ``Ra`` (Ω·cm)."""
    return STIM_SCALE * diam**1.5 / np.sqrt(Ra)


def axon_simulation(diam=1.0, celsius=18.5, Ra=35.4, gnabar=0.12, gkbar=0.036, dt=DT_MS):
    """An HH axon stimulated at one end, with crossings and the whole axon recorded.

    Its length scales as sqrt(d/Ra) from the squid axon's 30 mm at 476 µm and 35.4 Ω·cm
    (so the spike crosses it in about the same time whatever the diameter), cut into
    compartments by the d_lambda rule (:data:`D_LAMBDA`).

    Returns
    -------
    Simulation
    """
    scale = float(np.sqrt(diam / theory.HH1952_DIAM * theory.HH1952_RA / Ra))
    length = AXON_LENGTH_UM * scale
    cell = Cell(Morphology.cable(length=length, diam=diam), Ra=Ra, celsius=celsius, d_lambda=D_LAMBDA)
    cell.insert(HH(gnabar=gnabar, gkbar=gkbar))
    sim = Simulation(cell, dt=dt)
    sim.iclamp(at=0.0, delay=STIM_DELAY_MS, dur=STIM_DUR_MS, amp=_stimulus_nA(diam, Ra))
    for x in (0.3, 0.7):
        sim.probe(f"x = {x:g}", at=x)
    sim.record_crossings(THRESHOLD_MV)
    sim.record_space(every=max(1, int(round(0.05 / dt))))
    return sim


def axon(diam=1.0, celsius=18.5, Ra=35.4, gnabar=0.12, gkbar=0.036, tstop=8.0, progress=None):
    """The propagating spike: velocity measured between 30 % and 70 % of the axon.

    Parameters
    ----------
    diam : float, µm
    celsius : float, °C
    Ra : float, Ω·cm
    gnabar, gkbar : float, S/cm²
    tstop : float, ms

    Returns
    -------
    Outcome
        ``numbers``: ``cv_m_s`` (None if the spike did not cross the measured stretch, with
        ``error`` saying why), ``cv_sqrt_law_m_s`` (Hodgkin & Huxley's 18.8 m/s at 476 µm
        scaled by sqrt(d/Ra); valid at 18.5 °C with the standard densities, flagged by
        ``sqrt_law_applies``), ``length_um``, ``n_compartments``.
    """
    sim = axon_simulation(diam, celsius, Ra, gnabar, gkbar)
    res = sim.run(tstop, progress=progress)
    numbers = {"cv_sqrt_law_m_s": float(theory.unmyelinated_velocity(diam, Ra)),
               "sqrt_law_applies": bool(celsius == theory.HH1952_CELSIUS and gnabar == 0.12 and gkbar == 0.036),
               "length_um": float(sim.cell.compartments.distance.max()),
               "n_compartments": sim.cell.n_compartments, "cv_m_s": None}
    velocity = None
    try:
        velocity = conduction_velocity(res, 0.3, 0.7)
        numbers["cv_m_s"] = velocity["cv_m_s"]
    except InputError as err:
        numbers["error"] = str(err)
    fig, (ax_v, ax_s) = _figure(2)
    plotting.plot_traces(res, ax_v)
    plotting.plot_stimulus(ax_v, sim.stimuli, res.t)
    ax_v.set_title(f"d = {diam:g} µm, {celsius:g} °C, Ra = {Ra:g} Ω·cm")
    plotting.plot_space_time(res, ax_s, velocity=velocity, stimuli=sim.stimuli)
    ax_s.set_title("voltage along the axon")
    return Outcome(numbers, fig, res)


#: Most frames the lab's animation of v(x) steps through (the recording is subsampled to them).
MAX_FRAMES = 100


def space_frames(result, max_frames=MAX_FRAMES):
    """Frames of v(x) along a cable from its space–time recording, at most ``max_frames``.

    Parameters
    ----------
    result : Result
        A run with ``record_space`` (``space_t``, ``space_v``).
    max_frames : int

    Returns
    -------
    dict
        ``x_um`` (node distances from the root, ascending, µm), ``t_ms`` (time of each frame,
        ms) and ``v_mV`` (shape (frames, nodes), mV, the recorded rows in the order of
        ``x_um``); the frames are evenly spaced rows of the recording, its first and last
        included.
    """
    if result.space_v is None:
        raise InputError("the run recorded no voltage along the cell (Simulation.record_space)", key="record_space")
    n = len(result.space_t)
    rows = np.unique(np.round(np.linspace(0, n - 1, min(n, max_frames))).astype(int))
    order = np.argsort(result.cell.compartments.distance, kind="stable")
    return {"x_um": result.cell.compartments.distance[order], "t_ms": result.space_t[rows],
            "v_mV": result.space_v[rows][:, order]}


# -- Y junction ----------------------------------------------------------------------------------

#: Slowest spike (m/s) the Y junction's run leaves time for.
SLOWEST_M_S = 0.2


def _nearest(cell, start, stop, fraction):
    """The node ``fraction`` of the way along the path from ``start`` to ``stop`` (locations)."""
    nodes, along = cell.compartments.path(cell.locate(start), cell.locate(stop))
    along = np.abs(along)
    return int(nodes[np.argmin(np.abs(along - fraction * along[-1]))])


def y_junction(parent_diam=2.0, daughter_diam=1.26, length=1500.0, celsius=18.5, progress=None):
    """A spike from a parent axon into two equal daughters: Rall's 3/2 rule and impedance mismatch.

    With Σ d_daughter^1.5 = d_parent^1.5 (ratio 1) the junction is invisible to the spike;
    thicker daughters load it and slow it (and block it when much thicker), thinner ones
    speed it up.  Delays are measured on the first crossings of 0 mV.

    Parameters
    ----------
    parent_diam, daughter_diam : float, µm
    length : float, µm
        Length of each branch.
    celsius : float, °C

    Returns
    -------
    Outcome
        ``numbers``: ``rall_ratio`` (Σd^1.5 / d_p^1.5), ``passes`` (the spike reached a
        daughter's tip), ``cv_parent_m_s`` and ``cv_daughter_m_s`` (velocities over the middle
        half of each branch, None where not measured), ``junction_delay_ms`` (from 3/4 of the
        parent to 1/4 of a daughter: half a branch length at each velocity when ratio is 1).
    """
    morph = Morphology.y_junction(length, parent_diam, (length, length), (daughter_diam, daughter_diam), angle=60.0)
    cell = Cell(morph, Ra=RA_SQUID, celsius=celsius, d_lambda=D_LAMBDA)
    cell.insert(HH())
    sim = Simulation(cell, dt=DT_MS)
    sim.iclamp(at=0.0, delay=STIM_DELAY_MS, dur=STIM_DUR_MS, amp=_stimulus_nA(parent_diam, RA_SQUID))
    sim.probe("parent, 1/4", at={"node": _nearest(cell, 0.0, {"swc_id": 1}, 0.25)})
    sim.probe("daughter, 3/4", at={"node": _nearest(cell, {"swc_id": 1}, {"swc_id": 3}, 0.75)})
    sim.record_crossings(THRESHOLD_MV)
    sim.record_space(every=5)
    tstop = STIM_DELAY_MS + 2 * length / 1000.0 / SLOWEST_M_S + 2.0
    res = sim.run(tstop, progress=progress)
    ratio = float(theory.rall_ratio(parent_diam, (daughter_diam, daughter_diam)))
    numbers = {"rall_ratio": ratio, "passes": bool(np.isfinite(res.crossings[cell.locate({"swc_id": 3})])),
               "cv_parent_m_s": None, "cv_daughter_m_s": None, "junction_delay_ms": None}
    parent = [_nearest(cell, 0.0, {"swc_id": 1}, f) for f in (0.25, 0.75)]
    daughter = [_nearest(cell, {"swc_id": 1}, {"swc_id": 3}, f) for f in (0.25, 0.75)]
    try:
        numbers["cv_parent_m_s"] = conduction_velocity(res, {"node": parent[0]}, {"node": parent[1]})["cv_m_s"]
        numbers["cv_daughter_m_s"] = conduction_velocity(res, {"node": daughter[0]}, {"node": daughter[1]})["cv_m_s"]
    except InputError:
        pass  # blocked: the numbers stay None, the figure shows where the spike stopped
    else:
        numbers["junction_delay_ms"] = float(res.crossings[daughter[0]] - res.crossings[parent[1]])
    fig, (ax_m, ax_t) = _figure(2)
    plotting.plot_latency_map(res, ax=ax_m, stimuli=[0.0], origin=STIM_DELAY_MS)
    ax_m.set_title(f"Σd^1.5 / d_p^1.5 = {ratio:.2f}")
    plotting.plot_traces(res, ax_t)
    plotting.plot_stimulus(ax_t, sim.stimuli, res.t)
    ax_t.set_title("passes" if numbers["passes"] else "blocked at the junction")
    return Outcome(numbers, fig, res)


# -- a real neuron --------------------------------------------------------------------------------

def morphology_files():
    """The SWC files in :data:`MORPHOLOGIES`, by name."""
    return sorted(p.name for p in MORPHOLOGIES.glob("*.swc"))


def real_neuron(swc="bmtk__Pvalb_470522102_m.swc", amp=2.0, Ra=100.0, celsius=6.3, tstop=8.0, progress=None):
    """A spike started at the soma of a real neuron (HH everywhere) and its latency map.

    Parameters
    ----------
    swc : str
        File name in :data:`MORPHOLOGIES`.
    amp : float, nA
        Somatic current, 1 ms from :data:`STIM_DELAY_MS`.
    Ra : float, Ω·cm
    celsius : float, °C
    tstop : float, ms

    Returns
    -------
    Outcome
        ``numbers``: ``n_compartments``, ``scale`` (µm per file unit: 1e-3 for a file in
        nanometres, recognised by :func:`hhcable.swc.units_hint`), ``reached`` (fraction of
        the membrane's compartments the spike reached), ``latest_ms`` (latest first crossing after the onset),
        ``far_velocity_m_s`` (farthest path distance reached over the time it took).
    """
    if swc not in morphology_files():
        raise InputError(f"unknown morphology {swc!r}; use one of {morphology_files()}", key="swc")
    with warnings.catch_warnings():  # the files' soft problems are listed in morph.warnings
        warnings.simplefilter("ignore", SWCWarning)
        morph = read_swc(MORPHOLOGIES / swc)
        scale = UM_PER_NM if units_hint(morph) else 1.0  # an EM skeleton in nanometres
        if scale != 1.0:
            morph = read_swc(MORPHOLOGIES / swc, scale=scale)
    cell = Cell(morph, Ra=Ra, celsius=celsius, d_lambda=0.1)
    cell.insert(HH())
    sim = Simulation(cell, dt=0.025)
    soma = {"swc_id": morph.root}
    sim.iclamp(at=soma, delay=STIM_DELAY_MS, dur=1.0, amp=amp)
    sim.probe("soma", at=soma)
    sim.record_crossings(THRESHOLD_MV)
    res = sim.run(tstop, progress=progress)
    comp = cell.compartments
    seg = comp.area > 0
    latency = res.crossings[seg] - STIM_DELAY_MS
    reached = np.isfinite(latency)
    far = int(np.argmax(np.where(reached, comp.distance[seg], -1.0)))
    numbers = {"n_compartments": cell.n_compartments, "scale": scale, "reached": float(reached.mean()),
               "latest_ms": float(np.nanmax(latency)) if reached.any() else None,
               "far_velocity_m_s": (float(comp.distance[seg][far] / latency[far] * 1e-3)
                                    if reached.any() and latency[far] > 0 else None)}
    fig, (ax_m, ax_d) = _figure(2, height=4.2)
    plotting.plot_latency_map(res, ax=ax_m, stimuli=[soma], origin=STIM_DELAY_MS)
    ax_m.set_title(swc.removesuffix(".swc"))
    ax_d.plot(comp.distance[seg], latency, ".", ms=2)
    ax_d.set_xlabel("path distance from the soma (µm)")
    ax_d.set_ylabel("first crossing of 0 mV after onset (ms)")
    ax_d.set_title(f"{100 * numbers['reached']:.0f} % of compartments reached")
    return Outcome(numbers, fig, res)


#: Experiments by name, in the order the lab shows them.
EXPERIMENTS = {"point neuron": point_neuron, "passive cable": passive_cable, "axon": axon,
               "Y junction": y_junction, "real neuron": real_neuron}

