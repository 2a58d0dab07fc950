"""Closed-form cable theory, in NEURON's units.

A passive cylinder of diameter ``d`` (µm) with membrane conductance ``g`` (S/cm²) and axial
resistivity ``Ra`` (Ω·cm) has length constant ``λ = sqrt(d / (4 Ra g))`` and axial resistance
per unit length ``r_a = 4 Ra / (π d²)``.  Voltages below are deviations from rest.
"""

import numpy as np

from .errors import InputError
from .units import MOHM_PER_OHM_CM_PER_UM, UM_PER_CM

#: ms per (µF/cm² / (S/cm²)) = ms per µs
MS_PER_UF_PER_S = 1e-3
END_CONDITIONS = ("sealed", "killed", "infinite")


def length_constant(diam, g, Ra):
    """DC length constant λ (µm) of a passive cylinder.

    Parameters
    ----------
    diam : float or ndarray, µm
    g : float, S/cm²
        Membrane conductance density (1 / specific membrane resistance).
    Ra : float, Ω·cm

    Returns
    -------
    float or ndarray, µm

    Examples
    --------
    >>> round(float(length_constant(diam=1.0, g=1e-4, Ra=100.0)), 1)
    500.0
    """
    diam_cm = np.asarray(diam, dtype=float) / UM_PER_CM
    return np.sqrt(diam_cm / (4.0 * Ra * g)) * UM_PER_CM


def time_constant(cm, g):
    """Membrane time constant τ = cm / g (ms) for ``cm`` (µF/cm²) and ``g`` (S/cm²)."""
    return cm / g * MS_PER_UF_PER_S


def axial_resistance_per_length(diam, Ra):
    """Axial resistance per unit length r_a (MΩ/µm) of a cylinder of ``diam`` (µm), ``Ra`` (Ω·cm)."""
    return 4.0 * Ra / (np.pi * np.asarray(diam, dtype=float) ** 2) * MOHM_PER_OHM_CM_PER_UM


def _check_end(end):
    if end not in END_CONDITIONS:
        raise InputError(f"unknown end condition {end!r}; use one of {END_CONDITIONS}", key="end")


def input_resistance(diam, length, g, Ra, end="sealed"):
    """Input resistance (MΩ) at one end of a passive cylinder.

    ``R_inf = r_a λ`` for a semi-infinite cable; a finite cable of length ``L`` has
    ``R_inf coth(L/λ)`` with a sealed far end and ``R_inf tanh(L/λ)`` with a killed one
    (far end held at rest).

    Parameters
    ----------
    diam : float, µm
    length : float, µm
        Ignored when ``end="infinite"``.
    g : float, S/cm²
    Ra : float, Ω·cm
    end : {"sealed", "killed", "infinite"}

    Returns
    -------
    float, MΩ
    """
    _check_end(end)
    lam = length_constant(diam, g, Ra)
    r_inf = axial_resistance_per_length(diam, Ra) * lam
    if end == "infinite":
        return float(r_inf)
    electrotonic = length / lam
    return float(r_inf / np.tanh(electrotonic) if end == "sealed" else r_inf * np.tanh(electrotonic))


def steady_state_profile(x, length, lam, end="sealed"):
    """Steady voltage along a cable, relative to its value at the injected end (x = 0).

    Parameters
    ----------
    x : ndarray, µm
        Distances from the injected end.
    length : float, µm
        Cable length (ignored when ``end="infinite"``).
    lam : float, µm
        Length constant.
    end : {"sealed", "killed", "infinite"}

    Returns
    -------
    ndarray
        ``cosh((L-x)/λ) / cosh(L/λ)`` (sealed), ``sinh((L-x)/λ) / sinh(L/λ)`` (killed) or
        ``exp(-x/λ)`` (infinite).
    """
    _check_end(end)
    x = np.asarray(x, dtype=float)
    if end == "infinite":
        return np.exp(-x / lam)
    if end == "sealed":
        return np.cosh((length - x) / lam) / np.cosh(length / lam)
    return np.sinh((length - x) / lam) / np.sinh(length / lam)
