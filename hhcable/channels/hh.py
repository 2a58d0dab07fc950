"""Hodgkin–Huxley 1952 squid-axon channels in the modern convention (NEURON's ``hh``)."""

import numpy as np

from .base import Channel, Param, alpha_beta, ohmic, vtrap


class HH(Channel):
    """Hodgkin–Huxley sodium, potassium and leak currents.

    ``i = gnabar m³h (v - ena) + gkbar n⁴ (v - ek) + gl (v - el)``, with NEURON's rate
    functions (hh.mod) and Q10 = 3 from 6.3 °C.

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
        Tabulated rates (as NEURON's ``usetable_hh``; default) or exact ones.
    """

    name = "hh"
    parameters = {
        "gnabar": Param(0.12, "S/cm²", "maximal sodium conductance", min=0.0),
        "gkbar": Param(0.036, "S/cm²", "maximal potassium conductance", min=0.0),
        "gl": Param(0.0003, "S/cm²", "leak conductance", min=0.0),
        "ena": Param(50.0, "mV", "sodium reversal potential"),
        "ek": Param(-77.0, "mV", "potassium reversal potential"),
        "el": Param(-54.3, "mV", "leak reversal potential"),
    }
    q10, q10_celsius = 3.0, 6.3
    currents = {
        "ina": ohmic("ena", lambda gnabar, m, h: gnabar * m**3 * h),
        "ik": ohmic("ek", lambda gkbar, n: gkbar * n**4),
        "il": ohmic("el", lambda gl: gl),
    }

    @alpha_beta
    def m(v):
        return 0.1 * vtrap(-(v + 40.0), 10.0), 4.0 * np.exp(-(v + 65.0) / 18.0)

    @alpha_beta
    def h(v):
        return 0.07 * np.exp(-(v + 65.0) / 20.0), 1.0 / (np.exp(-(v + 35.0) / 10.0) + 1.0)

    @alpha_beta
    def n(v):
        return 0.01 * vtrap(-(v + 55.0), 10.0), 0.125 * np.exp(-(v + 65.0) / 80.0)
