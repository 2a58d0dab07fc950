"""Hodgkin–Huxley 1952 squid-axon channels in the modern convention (NEURON's ``hh``)."""

import numpy as np

from .base import Mechanism

#: Temperature (°C) at which the HH rate constants were measured.
HH_REFERENCE_CELSIUS = 6.3
#: Rate increase per 10 °C.
HH_Q10 = 3.0
#: Below this |x/y| the removable singularity of x / (exp(x/y) - 1) uses its series.
_VTRAP_SERIES = 1e-6


def vtrap(x, y):
    """``x / (exp(x/y) - 1)`` with its removable singularity at ``x = 0`` filled in.

    Near zero the function equals ``y * (1 - x/(2y))`` to second order, as in NEURON's hh.mod.
    """
    u = np.asarray(x, dtype=float) / y
    small = np.abs(u) < _VTRAP_SERIES
    safe = np.where(small, 1.0, u)
    return y * np.where(small, 1.0 - u / 2, safe / np.expm1(safe))


def rates(v):
    """HH opening and closing rates at 6.3 °C.

    Parameters
    ----------
    v : ndarray, mV
        Membrane potential (rest near -65 mV).

    Returns
    -------
    ndarray, shape (2, 3, n), 1/ms
        ``[alpha, beta]`` for the gates ``m, h, n``.
    """
    v = np.asarray(v, dtype=float)
    alpha = np.stack([
        0.1 * vtrap(-(v + 40.0), 10.0),
        0.07 * np.exp(-(v + 65.0) / 20.0),
        0.01 * vtrap(-(v + 55.0), 10.0),
    ])
    beta = np.stack([
        4.0 * np.exp(-(v + 65.0) / 18.0),
        1.0 / (np.exp(-(v + 35.0) / 10.0) + 1.0),
        0.125 * np.exp(-(v + 65.0) / 80.0),
    ])
    return np.stack([alpha, beta])


def q10_factor(celsius):
    """Factor by which HH rates at ``celsius`` (°C) exceed those at 6.3 °C."""
    return HH_Q10 ** ((celsius - HH_REFERENCE_CELSIUS) / 10.0)


class HH(Mechanism):
    """Hodgkin–Huxley sodium, potassium and leak currents.

    ``i = gnabar m³h (v - ena) + gkbar n⁴ (v - ek) + gl (v - el)``, with NEURON's rate
    functions, Q10 = 3 from 6.3 °C, and exponential-Euler gate updates.

    Parameters
    ----------
    gnabar : float, S/cm²
        Maximal sodium conductance (default 0.12).
    gkbar : float, S/cm²
        Maximal potassium conductance (default 0.036).
    gl : float, S/cm²
        Leak conductance (default 0.0003).
    ena, ek, el : float, mV
        Reversal potentials (defaults 50, -77, -54.3).
    """

    name = "hh"
    states = ("m", "h", "n")
    current_names = ("ina", "ik", "il")
    defaults = {"gnabar": 0.12, "gkbar": 0.036, "gl": 0.0003, "ena": 50.0, "ek": -77.0, "el": -54.3}
    nonnegative = ("gnabar", "gkbar", "gl")

    def prepare(self, celsius, dt):
        self._q10 = q10_factor(celsius)

    def inf_tau(self, v):
        """Steady states (1) and time constants (ms) of m, h, n at ``v`` (mV), each shape (3, n)."""
        alpha, beta = rates(v)
        total = alpha + beta
        return alpha / total, 1.0 / (self._q10 * total)

    def steady_state(self, v):
        alpha, beta = rates(v)
        return alpha / (alpha + beta)

    def advance(self, states, v, dt):
        alpha, beta = rates(v)
        total = alpha + beta
        inf = alpha / total
        decay = np.exp(-dt * self._q10 * total)
        states -= inf
        states *= decay
        states += inf

    def conductance(self, states, v, g, ge):
        m, h, n = states
        gna = self.gnabar * m**3 * h
        gk = self.gkbar * n**4
        g += gna + gk + self.gl
        ge += gna * self.ena + gk * self.ek + self.gl * self.el

    def currents(self, states, v):
        m, h, n = states
        return {
            "ina": self.gnabar * m**3 * h * (v - self.ena),
            "ik": self.gkbar * n**4 * (v - self.ek),
            "il": self.gl * (v - self.el),
        }
