"""The Connor–Stevens channels: a sodium current with kinetics unlike HH's, a delayed
rectifier, and the transient A-type potassium current.

Connor, Walter & McKown (1977), Biophys J 18:81–102, fitted to crab-walking-leg neurons;
in the form of Dayan & Abbott (2001), *Theoretical Neuroscience*, section 6.2, with their
conductances converted from mS/mm² to S/cm² (×0.1).  The model's leak is
``hc.Passive(g=3e-4, e=-17.0)``.  The A-current (a³b) lets the cell fire at arbitrarily low
rates (type I excitability), where HH cannot.  The rates have no temperature dependence.
"""

import numpy as np

from .base import Channel, Param, alpha_beta, inf_tau, ohmic, vtrap


class NaCS(Channel):
    """Connor–Stevens fast sodium current, ``gnabar m³h (v - ena)``.

    Parameters
    ----------
    gnabar : float, S/cm²
        Maximal conductance (default 0.12).
    ena : float, mV
        Reversal potential (default 55).
    """

    name = "na_cs"
    parameters = {
        "gnabar": Param(0.12, "S/cm²", "maximal sodium conductance", min=0.0),
        "ena": Param(55.0, "mV", "sodium reversal potential"),
    }
    currents = {"ina": ohmic("ena", lambda gnabar, m, h: gnabar * m**3 * h)}

    @alpha_beta
    def m(v):
        return 0.38 * vtrap(-(v + 29.7), 10.0), 15.2 * np.exp(-0.0556 * (v + 54.7))

    @alpha_beta
    def h(v):
        return 0.266 * np.exp(-0.05 * (v + 48.0)), 3.8 / (1.0 + np.exp(-0.1 * (v + 18.0)))


class KdrCS(Channel):
    """Connor–Stevens delayed-rectifier potassium current, ``gkbar n⁴ (v - ek)``.

    Parameters
    ----------
    gkbar : float, S/cm²
        Maximal conductance (default 0.02).
    ek : float, mV
        Reversal potential (default -72).
    """

    name = "kdr_cs"
    parameters = {
        "gkbar": Param(0.02, "S/cm²", "maximal potassium conductance", min=0.0),
        "ek": Param(-72.0, "mV", "potassium reversal potential"),
    }
    currents = {"ik": ohmic("ek", lambda gkbar, n: gkbar * n**4)}

    @alpha_beta
    def n(v):
        return 0.02 * vtrap(-(v + 45.7), 10.0), 0.25 * np.exp(-0.0125 * (v + 55.7))


class KACS(Channel):
    """Connor–Stevens transient A-type potassium current, ``gkabar a³b (v - ea)``.

    Parameters
    ----------
    gkabar : float, S/cm²
        Maximal conductance (default 0.0477).
    ea : float, mV
        Reversal potential (default -75).
    """

    name = "ka_cs"
    parameters = {
        "gkabar": Param(0.0477, "S/cm²", "maximal A-current conductance", min=0.0),
        "ea": Param(-75.0, "mV", "A-current reversal potential"),
    }
    currents = {"ika": ohmic("ea", lambda gkabar, a, b: gkabar * a**3 * b)}

    @inf_tau
    def a(v):
        inf = np.cbrt(0.0761 * np.exp(0.0314 * (v + 94.22)) / (1.0 + np.exp(0.0346 * (v + 1.17))))
        return inf, 0.3632 + 1.158 / (1.0 + np.exp(0.0497 * (v + 55.96)))

    @inf_tau
    def b(v):
        inf = (1.0 / (1.0 + np.exp(0.0688 * (v + 53.3)))) ** 4
        return inf, 1.24 + 2.678 / (1.0 + np.exp(0.0624 * (v + 50.0)))
