"""Hodgkin–Huxley channels in the 1952 paper's convention.

Hodgkin and Huxley measured voltage as the displacement from rest with depolarisation
positive (the sign used in modern textbooks' retellings of the 1952 paper), so rest is 0 mV,
E_Na = 115, E_K = -12 and E_L = 10.6 mV.  Those are the modern rates moved by the 65 mV
resting potential: this channel's gates are :class:`~hhcable.channels.hh.HH`'s evaluated at
``v + MODERN_REST``, so both give the same spikes shifted by 65 mV.
"""

from .base import Param, alpha_beta
from .hh import HH

#: Resting potential (mV) of the modern convention, where the 1952 convention's 0 mV lies.
MODERN_REST = -65.0
_m, _h, _n = HH.m.func, HH.h.func, HH.n.func


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
    parameters = {**HH.parameters, "ena": Param(115.0, "mV", "sodium reversal potential, from rest"),
                  "ek": Param(-12.0, "mV", "potassium reversal potential, from rest"),
                  "el": Param(10.6, "mV", "leak reversal potential, from rest")}

    @alpha_beta
    def m(v):
        return _m(v + MODERN_REST)

    @alpha_beta
    def h(v):
        return _h(v + MODERN_REST)

    @alpha_beta
    def n(v):
        return _n(v + MODERN_REST)
