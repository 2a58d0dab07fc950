"""Spikes and conduction velocity from simulated traces."""

import numpy as np

from .cell import as_location
from .errors import InputError
from .units import M_S_PER_UM_MS


def threshold_crossings(t, v, threshold=0.0):
    """Times of upward crossings of ``threshold``, linearly interpolated between samples.

    Parameters
    ----------
    t : ndarray, ms
    v : ndarray, mV
    threshold : float, mV

    Returns
    -------
    ndarray, ms
    """
    t, v = np.asarray(t, dtype=float), np.asarray(v, dtype=float)
    i = np.flatnonzero((v[:-1] < threshold) & (v[1:] >= threshold))
    return t[i] + (threshold - v[i]) / (v[i + 1] - v[i]) * (t[i + 1] - t[i])


def spike_times(t, v, threshold=0.0):
    """Spike times (ms): upward crossings of ``threshold`` (mV, default 0)."""
    return threshold_crossings(t, v, threshold)


def spike_features(t, v, threshold=0.0):
    """Peak and width of the first spike in a trace.

    Parameters
    ----------
    t : ndarray, ms
    v : ndarray, mV
    threshold : float, mV
        A spike is a crossing of this voltage.

    Returns
    -------
    dict
        ``peak_mV``, ``peak_ms`` and ``half_width_ms`` (width at half the amplitude from
        the resting voltage before the spike to the peak), or None without a spike.
    """
    t, v = np.asarray(t, dtype=float), np.asarray(v, dtype=float)
    onset = threshold_crossings(t, v, threshold)
    if onset.size == 0:
        return None
    start = int(np.searchsorted(t, onset[0]))
    after = np.flatnonzero(v[start:] < threshold)
    stop = start + (after[0] if after.size else len(v) - start)
    peak = start + int(np.argmax(v[start:stop]))
    half = (v[0] + v[peak]) / 2
    rise = threshold_crossings(t[: peak + 1], v[: peak + 1], half)
    fall = threshold_crossings(t[peak:], -v[peak:], -half)
    width = fall[0] - rise[-1] if rise.size and fall.size else np.nan
    return {"peak_mV": float(v[peak]), "peak_ms": float(t[peak]), "half_width_ms": float(width)}


def conduction_velocity(result, start, stop):
    """Conduction velocity between two places, from first-crossing times.

    The velocity is the least-squares slope of path distance against first-crossing time
    over every node on the path between the two places.  The run must have recorded
    crossings (``Simulation.record_crossings``).

    Parameters
    ----------
    result : Result
    start, stop : float, dict or Location
        The ends of the path (see :class:`hhcable.Location`).

    Returns
    -------
    dict
        ``cv_m_s`` (m/s, positive), ``path_um`` (µm, path length between the places) and
        ``n_points`` (nodes in the fit).
    """
    if result.crossings is None:
        raise InputError("the run did not record crossings; call Simulation.record_crossings()",
                         key="velocity")
    cell = result.cell
    a, b = cell.locate(as_location(start)), cell.locate(as_location(stop))
    if a == b:
        raise InputError("start and stop fall in the same compartment", key="velocity")
    nodes, along = cell.compartments.path(a, b)
    times = result.crossings[nodes]
    if not np.all(np.isfinite(times)):
        missing = int(np.count_nonzero(~np.isfinite(times)))
        raise InputError(f"the spike did not reach {missing} of the {len(nodes)} compartments on the path "
                         f"(threshold {result.threshold} mV)", key="velocity")
    slope = np.polyfit(times, along, 1)[0]  # µm/ms
    return {"cv_m_s": float(abs(slope) * M_S_PER_UM_MS), "path_um": float(abs(along[-1])),
            "n_points": int(len(nodes))}
