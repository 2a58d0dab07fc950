"""Hodgkin–Huxley 1952 squid-axon channels in the modern convention (NEURON's ``hh``)."""

import numpy as np

from .base import Mechanism

#: Temperature (°C) at which the HH rate constants were measured.
HH_REFERENCE_CELSIUS = 6.3
#: Rate increase per 10 °C.
HH_Q10 = 3.0
#: Below this |x/y| the removable singularity of x / (exp(x/y) - 1) uses its series.
_VTRAP_SERIES = 1e-6
#: Voltage range (mV) of the rate tables; a step with any voltage outside uses the exact rates.
TABLE_V_MIN, TABLE_V_MAX = -200.0, 200.0
#: Spacing (mV) of the rate tables.  Linear interpolation errs by about dv²/8 times the second
#: derivative: below 1e-6 of the factors' range here, far under the error of the time step.
TABLE_DV = 0.05


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


def update_factors(v, q10, dt):
    """Exponential-Euler factors of the gates m, h, n over a step ``dt`` (ms) at ``v`` (mV).

    A gate moves as ``x' = decay * x + gain`` with ``decay = exp(-dt / tau)`` and
    ``gain = x_inf (1 - decay)``; ``q10`` multiplies the 6.3 °C rates.

    Returns
    -------
    ndarray, shape (2, 3, n)
        ``[decay, gain]`` (both dimensionless).
    """
    alpha, beta = rates(v)
    rate = -dt * q10 * (alpha + beta)
    return np.stack([np.exp(rate), -alpha / (alpha + beta) * np.expm1(rate)])


class RateTable:
    """The gate update factors tabulated on a voltage grid, linearly interpolated (as NEURON).

    Parameters
    ----------
    q10 : float
        Factor on the 6.3 °C rates.
    dt : float, ms
        Time step.
    """

    def __init__(self, q10, dt):
        self.v0, self.inv_dv = TABLE_V_MIN, 1.0 / TABLE_DV
        grid = np.linspace(TABLE_V_MIN, TABLE_V_MAX, int(round((TABLE_V_MAX - TABLE_V_MIN) / TABLE_DV)) + 1)
        values = update_factors(grid, q10, dt).reshape(6, -1)
        # Row q holds factor q at grid point i; slope[q, i] the rise to point i + 1.
        self.value = np.ascontiguousarray(values[:, :-1])
        self.slope = np.ascontiguousarray(np.diff(values, axis=1))
        self._work = {}

    def advance(self, states, v):
        """Advance ``states`` (3, n) in place over one step at ``v`` (mV); False if ``v`` is off the table."""
        n = len(v)
        if n == 0:
            return True
        lo, hi = v.min(), v.max()
        if not (lo >= TABLE_V_MIN and hi < TABLE_V_MAX):
            return False
        if n not in self._work:
            self._work[n] = (np.empty(n), np.empty(n, dtype=np.intp), np.empty((6, n)), np.empty((6, n)))
        x, i, val, slope = self._work[n]
        np.subtract(v, self.v0, out=x)
        x *= self.inv_dv
        np.copyto(i, x, casting="unsafe")  # truncation = floor, as x >= 0
        x -= i
        for q in range(6):
            self.value[q].take(i, out=val[q])
            self.slope[q].take(i, out=slope[q])
        slope *= x
        val += slope
        states *= val[:3]
        states += val[3:]
        return True


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
    use_table : bool
        Advance the gates with tabulated update factors (0.05 mV grid, linear
        interpolation, as NEURON's ``usetable_hh``; default) instead of the exact rates.
    """

    name = "hh"
    states = ("m", "h", "n")
    current_names = ("ina", "ik", "il")
    defaults = {"gnabar": 0.12, "gkbar": 0.036, "gl": 0.0003, "ena": 50.0, "ek": -77.0, "el": -54.3}
    nonnegative = ("gnabar", "gkbar", "gl")

    def __init__(self, use_table=True, **params):
        super().__init__(**params)
        self.use_table = bool(use_table)
        self._table = None
        self._work = {}

    def prepare(self, celsius, dt):
        self._q10 = q10_factor(celsius)
        key = (self._q10, dt)
        if self.use_table and (self._table is None or self._table[0] != key):
            self._table = (key, RateTable(self._q10, dt))

    def inf_tau(self, v):
        """Steady states (1) and time constants (ms) of m, h, n at ``v`` (mV), each shape (3, n)."""
        alpha, beta = rates(v)
        total = alpha + beta
        return alpha / total, 1.0 / (self._q10 * total)

    def steady_state(self, v):
        alpha, beta = rates(v)
        return alpha / (alpha + beta)

    def advance(self, states, v, dt):
        table = self._table[1] if self.use_table and self._table[0] == (self._q10, dt) else None
        if table is not None and table.advance(states, v):
            return
        decay, gain = update_factors(v, self._q10, dt)
        states *= decay
        states += gain

    def conductance(self, states, v, g, ge):
        n_nodes = states.shape[1]
        if n_nodes not in self._work:
            self._work[n_nodes] = np.empty((2, n_nodes))
        gna, gk = self._work[n_nodes]
        p = self.params
        m, h, n = states
        np.multiply(m, m, out=gna)
        gna *= m
        gna *= h
        gna *= p["gnabar"]
        np.multiply(n, n, out=gk)
        gk *= gk
        gk *= p["gkbar"]
        g += gna
        g += gk
        g += p["gl"]
        gna *= p["ena"]
        gk *= p["ek"]
        ge += gna
        ge += gk
        ge += p["gl"] * p["el"]

    def currents(self, states, v):
        m, h, n = states
        return {
            "ina": self.gnabar * m**3 * h * (v - self.ena),
            "ik": self.gkbar * n**4 * (v - self.ek),
            "il": self.gl * (v - self.el),
        }
