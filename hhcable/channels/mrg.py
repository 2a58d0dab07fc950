"""The node of Ranvier of a mammalian myelinated fibre: McIntyre, Richardson & Grill (2002).

McIntyre CC, Richardson AG, Grill WM (2002) Modeling the excitability of mammalian nerve
fibers: influence of afterpotentials on the recovery cycle.  J Neurophysiol 87:995–1006
(ModelDB 3810, NEURON mechanism ``AXNODE``).  Four currents at the node: fast sodium
(m³h), persistent sodium (mp³), slow potassium (s) and a leak, fitted at 20 °C (the sodium
gates, Q10 2.2 and 2.9) and 36 °C (the potassium gate, Q10 3) to rat and human nodal
recordings; the model runs at 37 °C from a rest of -80 mV.

The rate functions are the paper's (its Appendix), written with :func:`vtrap` so that their
removable singularities are filled in.  The published NMODL clamps ``exp`` to 0 below
``exp(-100)``; that changes the slow potassium closing rate by one part in 1e43 above
+10 mV and nothing else between -200 and 200 mV, so it is not reproduced.
"""

import numpy as np

from .base import Channel, Param, alpha_beta, ohmic, vtrap

#: Temperature (°C) at which the sodium kinetics were fitted, and their Q10s.
SODIUM_Q10_CELSIUS = 20.0
PERSISTENT_AND_FAST_M_Q10 = 2.2
FAST_H_Q10 = 2.9
#: Temperature (°C) at which the slow potassium kinetics were fitted, and its Q10.
POTASSIUM_Q10_CELSIUS = 36.0
POTASSIUM_Q10 = 3.0
#: The slow potassium rates are written relative to this voltage (mV): Traub's convention.
V_TRAUB = -80.0
#: The channel's Q10 factors are taken from SODIUM_Q10_CELSIUS; the potassium gate's own
#: reference temperature enters as this constant factor on its rates.
_POTASSIUM_REFERENCE = POTASSIUM_Q10 ** ((SODIUM_Q10_CELSIUS - POTASSIUM_Q10_CELSIUS) / 10.0)


class MRGNode(Channel):
    """MRG nodal membrane: fast and persistent sodium, slow potassium and leak.

    ``i = gnabar m³h (v - ena) + gnapbar mp³ (v - ena) + gkbar s (v - ek) + gl (v - el)``.

    Parameters
    ----------
    gnabar : float, S/cm²
        Fast sodium (default 3.0).
    gnapbar : float, S/cm²
        Persistent sodium (default 0.01).
    gkbar : float, S/cm²
        Slow potassium (default 0.08).
    gl : float, S/cm²
        Leak (default 0.007).
    ena, ek, el : float, mV
        Reversal potentials (defaults 50, -90, -90).
    use_table : bool
        Tabulated rates (default) or exact ones.

    Notes
    -----
    Its name, ``axnode``, is the NEURON mechanism's.  Written from the paper's equations;
    ``tests/test_fibres_mrg.py`` checks it against NEURON running an NMODL file of the same
    equations (``tests/nmodl/axnode.mod``).
    """

    name = "axnode"
    parameters = {
        "gnabar": Param(3.0, "S/cm²", "maximal fast sodium conductance", min=0.0),
        "gnapbar": Param(0.01, "S/cm²", "maximal persistent sodium conductance", min=0.0),
        "gkbar": Param(0.08, "S/cm²", "maximal slow potassium conductance", min=0.0),
        "gl": Param(0.007, "S/cm²", "leak conductance", min=0.0),
        "ena": Param(50.0, "mV", "sodium reversal potential"),
        "ek": Param(-90.0, "mV", "potassium reversal potential"),
        "el": Param(-90.0, "mV", "leak reversal potential"),
    }
    q10, q10_celsius = PERSISTENT_AND_FAST_M_Q10, SODIUM_Q10_CELSIUS
    currents = {
        "ina": ohmic("ena", lambda gnabar, m, h: gnabar * m**3 * h),
        "inap": ohmic("ena", lambda gnapbar, mp: gnapbar * mp**3),
        "ik": ohmic("ek", lambda gkbar, s: gkbar * s),
        "il": ohmic("el", lambda gl: gl),
    }

    @alpha_beta
    def mp(v):
        return 0.01 * vtrap(-(v + 27.0), 10.2), 0.00025 * vtrap(v + 34.0, 10.0)

    @alpha_beta
    def m(v):
        return 1.86 * vtrap(-(v + 21.4), 10.3), 0.086 * vtrap(v + 25.7, 9.16)

    @alpha_beta(q10=FAST_H_Q10)
    def h(v):
        return 0.062 * vtrap(v + 114.0, 11.0), 2.3 / (1.0 + np.exp(-(v + 31.8) / 13.4))

    @alpha_beta(q10=POTASSIUM_Q10)
    def s(v):
        u = v - V_TRAUB
        return (_POTASSIUM_REFERENCE * 0.3 / (np.exp((u - 27.0) / -5.0) + 1.0),
                _POTASSIUM_REFERENCE * 0.03 / (np.exp((u + 10.0) / -1.0) + 1.0))
