"""Hodgkin–Huxley channels in the 1952 paper's convention.

Hodgkin and Huxley measured voltage as the displacement from rest with depolarisation
positive (the sign used in modern textbooks' retellings of the 1952 paper), so rest is 0 mV,
E_Na = 115, E_K = -12 and E_L = 10.6 mV.  Those are the modern rates moved by the 65 mV
resting potential: this mechanism evaluates :class:`~hhcable.channels.hh.HH`'s rate
functions at ``v + MODERN_REST``, so both give the same spikes shifted by 65 mV.
"""

from .hh import HH

#: Resting potential (mV) of the modern convention, where the 1952 convention's 0 mV lies.
MODERN_REST = -65.0


class HH1952(HH):
    """HH sodium, potassium and leak currents with rest at 0 mV (the 1952 convention).

    Parameters
    ----------
    gnabar, gkbar, gl : float, S/cm²
        Maximal conductances (defaults 0.12, 0.036, 0.0003).
    ena, ek, el : float, mV
        Reversal potentials relative to rest (defaults 115, -12, 10.6).
    """

    name = "hh1952"
    defaults = {**HH.defaults, "ena": 115.0, "ek": -12.0, "el": 10.6}

    def inf_tau(self, v):
        return super().inf_tau(v + MODERN_REST)

    def steady_state(self, v):
        return super().steady_state(v + MODERN_REST)

    def advance(self, states, v, dt):
        super().advance(states, v + MODERN_REST, dt)
