"""Electrodes in a homogeneous isotropic medium: stimulation, recording, activating function.

The medium has one conductivity σ (S/m) everywhere and no boundaries, so a point current
``I`` sets up the potential ``I / (4πσr)`` at a distance ``r`` (the volume-conductor
solution of Laplace's equation; Plonsey & Barr, *Bioelectricity*, ch. 8).  In hhcable's units
that formula is exact without factors: 1 nA at 1 µm in 1 S/m gives ``1/(4π)`` mV, so

- stimulation: a point electrode passing ``I`` µA makes ``1e3 · I / (4πσ r)`` mV at every
  node (:meth:`PointElectrode.potential`, mV per µA), which the engine applies as
  NEURON's ``e_extracellular`` (:meth:`hhcable.simulation.Simulation.apply_extracellular`);
- recording: each node's membrane current ``I_i`` (nA, outward positive) adds
  ``I_i / (4πσ r_i)`` mV at the electrode (:meth:`PointElectrode.weights`, mV per nA), either
  from a point at the node or spread evenly along the node's segment (the line-source
  formula of Holt & Koch 1999, J Comput Neurosci 6:169, eq. 2).

Distances shorter than a compartment's radius are raised to its radius: the formulas hold
outside the membrane only, and an electrode on the axis would otherwise see an infinite
potential.

:func:`activating_function` is Rattay's (1986, IEEE Trans Biomed Eng 33:974; 1989, 36:676):
the rate at which an extracellular potential starts to charge each compartment's membrane.
:func:`stimulation_thresholds` searches the amplitude at which a stimulus starts a spike that
travels (many amplitudes and many stimuli run as one :class:`~hhcable.batch.Batch`);
:func:`strength_duration`, :func:`weiss_fit` and :func:`current_distance_fit` read the classic
laws off those thresholds.
"""

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from . import validate
from .analysis import threshold_crossings
from .batch import Batch
from .cell import Cell
from .errors import InputError
from .simulation import Simulation
from .stimulus import IClamp, Stimulus
from .units import NF_PER_UF_CM2_UM2

#: Conductivity (S/m) of the medium when none is given: 0.3 S/m (ρe ≈ 333 Ω·cm), the
#: homogeneous value for grey matter and nerve tissue used by Holt & Koch (1999) and close to
#: Rattay's ρe = 300 Ω·cm.  MRG (McIntyre et al. 2002) use 0.2 S/m (ρe = 500 Ω·cm).
DEFAULT_SIGMA_S_M = 0.3
#: mV at 1 µm from a 1 nA point source in a 1 S/m medium, times 4π: nA / (S/m · µm) = mV exactly.
MV_PER_NA_PER_S_M_UM = 1.0
#: nA per µA: stimulating electrodes pass µA, membrane currents are in nA.
NA_PER_UA = 1e3
#: Conductivity range accepted (S/m): from fat and bone (~0.02) down a decade, up to saline
#: (~2) and a decade more.
SIGMA_S_M = validate.Limits(1e-3, 20.0, "S/m", "tissue conducts 0.01–2 S/m")

__all__ = ["PointElectrode", "point_source_potential", "line_source_potential", "activating_function",
           "stimulation_thresholds", "strength_duration", "weiss_fit", "current_distance_fit", "DEFAULT_SIGMA_S_M"]


def point_source_potential(current, r, sigma=DEFAULT_SIGMA_S_M):
    """Potential (mV) at distance ``r`` (µm) from a point current ``current`` (nA) in a medium of ``sigma`` (S/m).

    ``V = I / (4πσr)``.  Arrays broadcast.
    """
    return MV_PER_NA_PER_S_M_UM * np.asarray(current, dtype=float) / (4 * np.pi * sigma * np.asarray(r, dtype=float))


def line_source_potential(current, start, stop, r, sigma=DEFAULT_SIGMA_S_M):
    """Potential (mV) of a current spread evenly along a straight segment.

    Holt & Koch (1999) eq. 2, ``I/(4πσΔs) · ln[(√(h² + r²) − h) / (√(l² + r²) − l)]``, written
    as the integral it is, ``I/(4πσΔs) · [asinh(stop/r) − asinh(start/r)]``, which does not
    lose digits when the electrode is far off the segment's end.  Arrays broadcast.

    Parameters
    ----------
    current : float or ndarray, nA
        Total current leaving the segment.
    start, stop : float or ndarray, µm
        Signed positions of the segment's ends along its axis, measured from the foot of the
        perpendicular dropped from the electrode onto that axis (``stop > start``).
    r : float or ndarray, µm
        Distance of the electrode from the axis (> 0).
    sigma : float, S/m

    Returns
    -------
    ndarray, mV
        Tends to :func:`point_source_potential` at the segment's centre far away.
    """
    start, stop, r = (np.asarray(a, dtype=float) for a in (start, stop, r))
    per_length = (np.arcsinh(stop / r) - np.arcsinh(start / r)) / (stop - start)
    return point_source_potential(current, 1.0, sigma) * per_length


def _segment_ends(comp):
    """Ends (µm, shape (n, 2, 3)) of each node's segment, on the polyline of its section's nodes.

    A segment of a section cut into ``nseg`` is ``length / nseg`` long and centred on its
    node, so its ends lie on the straight pieces to the node before it (its parent) and to
    the one after it (the next node, numbered next: a section's nodes are consecutive).  A
    zero-area node gets a segment of zero length at its own position.
    """
    ends = np.repeat(comp.xyz[:, None, :], 2, axis=1)
    half = np.zeros(comp.n_nodes)
    for nodes in comp.section_nodes:
        half[nodes[1:-1]] = (comp.distance[nodes[-1]] - comp.distance[nodes[0]]) / (len(nodes) - 2) / 2
    inner = np.flatnonzero(comp.area > 0)
    d = comp.distance
    for side, other in ((0, comp.parent[inner]), (1, inner + 1)):
        fraction = half[inner] / np.abs(d[other] - d[inner])
        ends[inner, side] += (comp.xyz[other] - comp.xyz[inner]) * fraction[:, None]
    return ends


class PointElectrode:
    """A point (monopolar) electrode in a homogeneous isotropic medium, the return far away.

    Parameters
    ----------
    x, y, z : float, µm
        Position, in the coordinates of the morphology (``Morphology.cable`` lies along x
        from the origin).
    sigma : float, S/m
        Conductivity of the medium (default :data:`DEFAULT_SIGMA_S_M`, 0.3 S/m).

    Examples
    --------
    >>> import hhcable as hc
    >>> cell = hc.Cell(hc.Morphology.cable(length=1000.0, diam=2.0), max_segment=100.0)
    >>> e = hc.PointElectrode(550.0, 100.0, 0.0, sigma=0.3)
    >>> node = cell.locate(0.5)                       # the segment centred at x = 550 µm
    >>> round(float(e.distance(cell)[node]), 6)
    100.0
    >>> round(float(e.potential(cell)[node]), 3)      # mV per µA: 1e3 / (4π · 0.3 · 100)
    2.653
    """

    def __init__(self, x, y, z, sigma=DEFAULT_SIGMA_S_M):
        self.xyz = np.array([validate.real(v, k, validate.COORDINATE_UM) for k, v in (("x_um", x), ("y_um", y), ("z_um", z))])
        self.sigma = validate.real(sigma, "sigma_S_m", SIGMA_S_M, positive=True)

    def __repr__(self):
        x, y, z = self.xyz
        return f"PointElectrode(x={x:g}, y={y:g}, z={z:g}, sigma={self.sigma:g})"

    def distance(self, cell):
        """Distance (µm) from the electrode to each node of ``cell``, at least the node's radius."""
        comp = _compartments(cell)
        return np.maximum(np.linalg.norm(comp.xyz - self.xyz, axis=1), comp.diam / 2)

    def potential(self, cell):
        """Extracellular potential (mV per µA the electrode passes) at each node of ``cell``.

        Feed it to :meth:`~hhcable.simulation.Simulation.apply_extracellular` with a
        stimulus whose amplitude is in µA; negative current (cathodic) depolarises the
        membrane next to the electrode.
        """
        return point_source_potential(NA_PER_UA, self.distance(cell), self.sigma)

    def weights(self, cell, source="line"):
        """Potential (mV) at the electrode per nA of membrane current of each node of ``cell``.

        Parameters
        ----------
        cell : Cell
        source : {"line", "point"}
            ``"line"``: each node's current leaves evenly along its segment (Holt & Koch
            1999); ``"point"``: from the node's centre.  Distances from the axis (line) or
            the centre (point) are at least the node's radius.

        Returns
        -------
        ndarray, mV/nA
            For :meth:`~hhcable.simulation.Simulation.record_extracellular`.
        """
        if source == "point":
            return point_source_potential(1.0, self.distance(cell), self.sigma)
        if source != "line":
            raise InputError(f"unknown source {source!r}; use 'line' or 'point'", key="source")
        comp = _compartments(cell)
        ends = _segment_ends(comp)
        axis = ends[:, 1] - ends[:, 0]
        length = np.linalg.norm(axis, axis=1)
        line = length > 0
        out = point_source_potential(1.0, self.distance(cell), self.sigma)  # zero-length: a point
        unit = axis[line] / length[line, None]
        start = np.einsum("ij,ij->i", ends[line, 0] - self.xyz, unit)  # foot of the perpendicular at 0
        off_axis = ends[line, 0] - self.xyz - start[:, None] * unit
        r = np.maximum(np.linalg.norm(off_axis, axis=1), comp.diam[line] / 2)
        out[line] = line_source_potential(1.0, start, start + length[line], r, self.sigma)
        return out


def _compartments(cell):
    if not isinstance(cell, Cell):
        raise InputError(f"expected a Cell, got {type(cell).__name__}", key="cell")
    return cell.compartments


def activating_function(cell, ve):
    """Rattay's activating function: how fast an extracellular potential starts to move each membrane.

    ``f_i = (1/C_i) Σ_j g_ij (Vi_j − Ve_i)`` over the axial neighbours ``j`` of compartment
    ``i``, where at rest the intracellular potential ``Vi_j`` of a compartment is its
    extracellular potential ``Ve_j``.  Zero-area nodes (section ends, branch points) carry no
    membrane: their intracellular potential is the one at which no current flows into them
    (Kirchhoff), so a sealed end feels nothing and a branch point joins its neighbours.  On a
    uniform straight fibre this is the second difference of ``Ve`` times ``d / (4 ρi cm Δx²)``,
    which tends to Rattay's ``(d / 4ρi cm) ∂²Ve/∂x²``.  Positive ``f`` depolarises.

    Parameters
    ----------
    cell : Cell
    ve : ndarray, mV
        Extracellular potential at each node (e.g. ``electrode.potential(cell) * amp_uA``).

    Returns
    -------
    ndarray, mV/ms
        One value per node; NaN at the zero-area nodes.
    """
    comp = _compartments(cell)
    n = comp.n_nodes
    ve = np.asarray(ve, dtype=float)  # no bound: near an electrode tens of volts are real
    if ve.shape != (n,) or not np.all(np.isfinite(ve)):
        raise InputError(f"needs one finite potential per node ({n}), got shape {ve.shape}", key="ve_mV")
    child = np.flatnonzero(comp.parent >= 0)
    par, g = comp.parent[child], comp.g_axial[child]
    # Laplacian of the axial conductances (µS): (L v)_i = Σ_j g_ij (v_i − v_j).
    lap = sp.coo_matrix((np.concatenate([-g, -g, g, g]),
                         (np.concatenate([child, par, child, par]), np.concatenate([par, child, child, par]))),
                        shape=(n, n)).tocsr()
    membrane = comp.area > 0
    vi = ve.copy()
    bare = np.flatnonzero(~membrane)
    if bare.size:
        inner = np.flatnonzero(membrane)
        vi[bare] = spla.spsolve(lap[bare][:, bare].tocsc(), -(lap[bare][:, inner] @ ve[inner]))
    capacitance = cell.node_cm * comp.area * NF_PER_UF_CM2_UM2  # nF
    f = np.full(n, np.nan)
    f[membrane] = -(lap @ vi)[membrane] / capacitance[membrane]  # nA / nF = mV/ms
    return f


def _transfer(cell, source):
    """mV per µA at each node from a PointElectrode or an array of it."""
    if isinstance(source, PointElectrode):
        return source.potential(cell)
    transfer = np.asarray(source, dtype=float)
    if transfer.shape != (cell.compartments.n_nodes,) or not np.all(np.isfinite(transfer)):
        raise InputError(f"a transfer needs one finite value (mV/µA) per node ({cell.compartments.n_nodes}), got "
                         f"shape {transfer.shape}", key="stimuli")
    return transfer


def _fires(cell, trials, tstop, detect, spike, sim_options):
    """Whether each (transfer, waveform, scale) trial fires a spike at ``detect``, run as one batch."""
    sims = []
    for transfer, waveform, scale in trials:
        sim = Simulation(cell, **sim_options)
        sim.apply_extracellular(transfer * scale, waveform)
        sim.probe("detect", at=detect)
        sims.append(sim)
    results = Batch(sims, backend=sim_options.get("backend", "auto")).run(tstop)
    return np.array([threshold_crossings(r.t, r["detect"], spike).size > 0 for r in results])


def stimulation_thresholds(cell, stimuli, tstop, detect=None, rtol=0.01, bounds=(1e-3, 1e3), per_round=6,
                           spike=0.0, dt=0.01, v_init=-65.0, method="backward_euler", backend="auto"):
    """Smallest multiple of each stimulus that starts a spike which reaches ``detect``.

    A spike is the membrane potential at ``detect`` crossing ``spike`` (mV) upwards before
    ``tstop``: the excitation travelled there, which local depolarisation under the
    electrode alone never does.  Each search starts on a grid of ``per_round`` amplitudes
    spaced evenly in log between ``bounds``, keeps the lowest that fires and the one below it
    (so the block of conduction under very strong currents is never mistaken for the
    threshold), and cuts that bracket ``per_round + 1`` ways per round until its ends differ
    by ``rtol``.  All the trials of a round, of every stimulus, run as one batch.

    Parameters
    ----------
    cell : Cell
        The fibre (with an extracellular layer if it has one); it is only read.
    stimuli : sequence of (PointElectrode or ndarray, Stimulus)
        The electrode (or its potential per node, mV/µA) and the waveform for each search.
        The waveform's amplitude sets the sign and shape: give it 1 µA (cathodic: -1) and the
        threshold reads in µA.
    tstop : float, ms
        Run length of each trial: long enough for the spike to reach ``detect``.
    detect : float, dict or Location, optional
        Where a spike must arrive (default: the last compartment of the cell's main path).
    rtol : float
        Relative width of the final bracket.
    bounds : (float, float)
        Lowest and highest multiple tried (µA for a 1 µA waveform).
    per_round : int
        Trials per search per round.
    spike : float, mV
    dt, v_init, method, backend
        As :class:`~hhcable.simulation.Simulation`.

    Returns
    -------
    ndarray
        The smallest multiple found to fire, for each stimulus; the largest found not to fire
        is within a factor ``1 + rtol`` below it.
    """
    pairs = list(stimuli)
    if not pairs or not all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], Stimulus) for p in pairs):
        raise InputError("needs a list of (electrode or transfer, Stimulus) pairs", key="stimuli")
    transfers = [_transfer(cell, source) for source, _ in pairs]
    rtol = validate.real(rtol, "rtol", positive=True)
    low, high = (validate.real(b, "bounds", positive=True) for b in bounds)
    if not low < high:
        raise InputError(f"must be (low, high) with low < high, got {bounds!r}", key="bounds")
    per_round = validate.integer(per_round, "per_round", low=2, high=1000)
    if detect is None:
        path = cell.main_path()
        detect = {"node": int(path[cell.compartments.area[path] > 0][-1])}
    options = dict(dt=dt, v_init=v_init, method=method, backend=backend)
    spike = validate.real(spike, "spike_mV", validate.VOLTAGE_MV)
    n = len(pairs)
    brackets = np.tile([low, high], (n, 1))
    grids = {k: np.geomspace(low, high, per_round) for k in range(n)}
    while grids:
        trials = [(transfers[k], pairs[k][1], a) for k, grid in grids.items() for a in grid]
        fired = iter(_fires(cell, trials, tstop, detect, spike, options))
        for k, grid in grids.items():
            hits = np.array([next(fired) for _ in grid])
            first = int(np.argmax(hits)) if hits.any() else None
            if first is None and grid[-1] >= high:
                raise InputError(f"stimulus {k} starts no spike at {detect} up to {high:g} µA; raise bounds",
                                 key="bounds")
            if first == 0 and grid[0] <= low:
                raise InputError(f"stimulus {k} starts a spike already at {low:g} µA; lower bounds", key="bounds")
            if first is None:  # the threshold lies above this grid
                brackets[k, 0] = grid[-1]
            elif first == 0:  # ... below it
                brackets[k, 1] = grid[0]
            else:
                brackets[k] = grid[first - 1], grid[first]
        grids = {k: np.geomspace(*brackets[k], per_round + 2)[1:-1] for k in grids
                 if brackets[k, 1] > brackets[k, 0] * (1 + rtol)}
    return brackets[:, 1].copy()


def strength_duration(cell, electrode, durations, tstop_after, polarity=-1.0, delay=0.5, **options):
    """Threshold (µA) of a rectangular pulse from ``electrode`` for each of ``durations`` (ms).

    ``polarity`` -1 is cathodic, +1 anodic; each run lasts ``delay + duration + tstop_after``
    ms; ``options`` go to :func:`stimulation_thresholds` (the longest run sets ``tstop``).
    """
    durations = validate.reals(durations, "durations_ms", validate.TIME_MS)
    pulses = [(electrode, IClamp(delay, d, float(np.sign(polarity)))) for d in durations]
    return stimulation_thresholds(cell, pulses, delay + durations.max() + tstop_after, **options)


def weiss_fit(durations, thresholds):
    """Rheobase and chronaxie of Weiss's law (1901), ``I = I_rh (1 + t_ch / t)``, fitted to thresholds.

    Weiss's law says the threshold charge grows linearly with the pulse duration,
    ``Q = I t = I_rh (t + t_ch)``; Lapicque named ``I_rh`` (the threshold of an endless pulse)
    rheobase and ``t_ch`` (the duration at twice rheobase) chronaxie.  The fit is linear
    least squares in the relative error ``I_fit / I − 1``, so short and long pulses weigh
    alike.

    Parameters
    ----------
    durations : array_like, ms
    thresholds : array_like, µA (or any current unit)

    Returns
    -------
    (float, float)
        Rheobase (the unit of ``thresholds``) and chronaxie (ms).
    """
    t = validate.reals(durations, "durations_ms", validate.TIME_MS)
    current = validate.reals(thresholds, "thresholds")
    if len(t) < 2 or t.shape != current.shape:
        raise InputError("needs at least two durations and one threshold for each", key="thresholds")
    (rheobase, charge), *_ = np.linalg.lstsq(np.column_stack([1 / current, 1 / (t * current)]), np.ones(len(t)),
                                             rcond=None)
    return float(rheobase), float(charge / rheobase)


def current_distance_fit(distances, thresholds):
    """Fit the current–distance relation ``I = I0 + k r²`` (Ranck 1975) by least squares.

    Parameters
    ----------
    distances : array_like, µm
        Electrode-to-fibre distance of each threshold.
    thresholds : array_like, µA

    Returns
    -------
    (float, float, float)
        ``I0`` (µA), ``k`` (µA/µm²) and the fit's coefficient of determination R².
    """
    r = validate.reals(distances, "distances_um", validate.LENGTH_UM)
    current = validate.reals(thresholds, "thresholds")
    if len(r) < 3 or r.shape != current.shape:
        raise InputError("needs at least three distances and one threshold for each", key="thresholds")
    k, i0 = np.polyfit(r**2, current, 1)
    residual = current - (i0 + k * r**2)
    r2 = 1 - np.sum(residual**2) / np.sum((current - current.mean()) ** 2)
    return float(i0), float(k), float(r2)
