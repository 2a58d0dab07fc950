"""Closed-form cable theory, in NEURON's units.

A passive cylinder of diameter ``d`` (µm) with membrane conductance ``g`` (S/cm²) and axial
resistivity ``Ra`` (Ω·cm) has length constant ``λ = sqrt(d / (4 Ra g))`` and axial resistance
per unit length ``r_a = 4 Ra / (π d²)``.  Voltages below are deviations from rest.

Also here: the electrotonic length ``L/λ``, Rall's 3/2 rule and the equivalent cylinder of a
branching dendrite, and the square-root law for the conduction velocity of unmyelinated
axons, scaled from Hodgkin and Huxley's 1952 squid-axon computation.
"""

import numpy as np

from .errors import InputError
from .units import MOHM_PER_OHM_CM_PER_UM, UM_PER_CM

#: Conduction velocity (m/s) Hodgkin and Huxley computed for their squid axon (1952, part V).
HH1952_VELOCITY = 18.8
#: Diameter (µm) of that axon.
HH1952_DIAM = 476.0
#: Axial resistivity (Ω·cm) of that axon.
HH1952_RA = 35.4
#: Temperature (°C) of that computation.
HH1952_CELSIUS = 18.5
#: Relative mismatch allowed by :func:`equivalent_cylinder` in the 3/2 rule and in the
#: daughters' electrotonic lengths.
RALL_RTOL = 1e-3

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


def electrotonic_length(length, diam, g, Ra):
    """Electrotonic length ``L/λ`` (dimensionless) of a cylinder.

    Parameters
    ----------
    length : float or ndarray, µm
    diam : float or ndarray, µm
    g : float, S/cm²
    Ra : float, Ω·cm

    Returns
    -------
    float or ndarray
        Length in units of the length constant; a sealed cable attenuates a steady voltage
        from one end to the other by ``1 / cosh(L/λ)``.

    Examples
    --------
    >>> round(float(electrotonic_length(length=250.0, diam=1.0, g=1e-4, Ra=100.0)), 3)
    0.5
    """
    return np.asarray(length, dtype=float) / length_constant(diam, g, Ra)


def rall_ratio(parent_diam, child_diams):
    """How well a branch point obeys Rall's 3/2 rule: ``Σ d_child^(3/2) / d_parent^(3/2)``.

    Parameters
    ----------
    parent_diam : float, µm
    child_diams : sequence of float, µm

    Returns
    -------
    float
        1 when the daughters together match the parent's input conductance (no impedance
        mismatch); above 1 the daughters load the parent more, below 1 less.

    Examples
    --------
    >>> round(rall_ratio(2.0 ** (2 / 3) * 1.0, [1.0, 1.0]), 12)
    1.0
    """
    child = np.asarray(child_diams, dtype=float)
    return float(np.sum(child**1.5) / float(parent_diam) ** 1.5)


def rall_parent_diameter(child_diams):
    """Parent diameter (µm) that satisfies the 3/2 rule for daughters ``child_diams`` (µm)."""
    return float(np.sum(np.asarray(child_diams, dtype=float) ** 1.5) ** (2.0 / 3.0))


def equivalent_cylinder(parent_diam, parent_length, child_diams, child_lengths, g, Ra):
    """Rall's equivalent cylinder of a parent cylinder and its daughters.

    When the daughters obey the 3/2 rule and all have the same electrotonic length, the
    tree behaves, seen from the parent's root, as one cylinder of the parent's diameter
    whose electrotonic length is the parent's plus a daughter's.

    Parameters
    ----------
    parent_diam, parent_length : float, µm
    child_diams, child_lengths : sequence of float, µm
    g : float, S/cm²
    Ra : float, Ω·cm

    Returns
    -------
    dict
        ``diam`` (µm), ``length`` (µm) and ``electrotonic_length`` (dimensionless) of the
        equivalent cylinder.

    Raises
    ------
    InputError
        If the 3/2 rule or the equal electrotonic lengths fail by more than
        :data:`RALL_RTOL`: then no equivalent cylinder exists.
    """
    child_diams = np.asarray(child_diams, dtype=float)
    child_lengths = np.asarray(child_lengths, dtype=float)
    if child_diams.shape != child_lengths.shape or child_diams.size == 0:
        raise InputError("give one length per daughter diameter (at least one daughter)",
                         key="child_lengths")
    ratio = rall_ratio(parent_diam, child_diams)
    if abs(ratio - 1.0) > RALL_RTOL:
        raise InputError(f"the daughters break the 3/2 rule (Σd^1.5 / d_parent^1.5 = {ratio:.4f}); "
                         f"a parent of {rall_parent_diameter(child_diams):.4g} µm would obey it",
                         key="child_diams")
    child_l = electrotonic_length(child_lengths, child_diams, g, Ra)
    if np.ptp(child_l) > RALL_RTOL * np.max(child_l):
        raise InputError(f"the daughters' electrotonic lengths differ ({np.round(child_l, 4).tolist()}); "
                         "they must be equal", key="child_lengths")
    total = float(electrotonic_length(parent_length, parent_diam, g, Ra) + child_l[0])
    lam = float(length_constant(parent_diam, g, Ra))
    return {"diam": float(parent_diam), "length": total * lam, "electrotonic_length": total}


def unmyelinated_velocity(diam, Ra=HH1952_RA, reference=(HH1952_VELOCITY, HH1952_DIAM, HH1952_RA)):
    """Conduction velocity (m/s) of an unmyelinated HH axon, by the square-root law.

    With the membrane (its capacitance, channels and temperature) fixed, the cable equation
    ``d/(4 Ra) ∂²V/∂x² = cm ∂V/∂t + i_ion`` is unchanged when distance is rescaled by
    ``sqrt(d/Ra)``, so the velocity is ``v_ref · sqrt((d/d_ref) (Ra_ref/Ra))``.  The constant
    is not fitted: by default it is Hodgkin and Huxley's computed 18.8 m/s for a 476 µm squid
    axon with Ra = 35.4 Ω·cm at 18.5 °C (converged solutions of their model give about
    18.7 m/s; pass your own simulated ``reference`` for other membranes or temperatures).

    Parameters
    ----------
    diam : float or ndarray, µm
    Ra : float, Ω·cm
    reference : tuple (velocity m/s, diam µm, Ra Ω·cm)
        A known velocity of the same membrane.

    Returns
    -------
    float or ndarray, m/s

    Examples
    --------
    >>> round(float(unmyelinated_velocity(diam=4 * HH1952_DIAM)), 1)
    37.6
    """
    v_ref, d_ref, ra_ref = reference
    diam = np.asarray(diam, dtype=float)
    if np.any(~(diam > 0)) or not (d_ref > 0 and Ra > 0 and ra_ref > 0):
        raise InputError("diameters and resistivities must be positive", key="diam")
    return v_ref * np.sqrt(diam / d_ref * ra_ref / Ra)


def loaded_cable(diam, length, g, Ra, load, x=None):
    """Steady state of a passive cylinder whose far end feeds a conductance ``load``.

    With ``R_inf = r_a λ``, ``B = R_inf · load`` and ``L = length``, the input resistance is
    ``R_inf (1 + B tanh(L/λ)) / (B + tanh(L/λ))`` and the voltage, relative to the injected
    end, is ``(cosh((L-x)/λ) + B sinh((L-x)/λ)) / (cosh(L/λ) + B sinh(L/λ))``.  ``load = 0``
    is a sealed end; ``load = 1/R_inf`` makes the cable look semi-infinite.  A branch point
    loads its parent with the sum of its daughters' input conductances.

    Parameters
    ----------
    diam, length : float, µm
    g : float, S/cm²
    Ra : float, Ω·cm
    load : float, µS
        Conductance at the far end.
    x : ndarray, µm, optional
        Distances from the injected end at which to give the voltage.

    Returns
    -------
    dict
        ``input_resistance`` (MΩ) and, if ``x`` is given, ``profile`` (V(x)/V(0)).
    """
    lam = length_constant(diam, g, Ra)
    r_inf = axial_resistance_per_length(diam, Ra) * lam
    b = r_inf * load
    el = length / lam
    out = {"input_resistance": float(r_inf * (1 + b * np.tanh(el)) / (b + np.tanh(el)))}
    if x is not None:
        rest = (length - np.asarray(x, dtype=float)) / lam
        out["profile"] = (np.cosh(rest) + b * np.sinh(rest)) / (np.cosh(el) + b * np.sinh(el))
    return out
