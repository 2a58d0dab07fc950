"""Channels as a user writes them in a file of their own, outside hhcable (used by the tests
and by ``user_channel.toml``).

``KSlow`` is a slow, non-inactivating potassium current of the M type, in the inf/tau form
with a half-activation voltage that is a parameter (so cells may differ in their kinetics)
and its own Q10.  The constants are illustrative, not fitted to data.
"""

import numpy as np

import hhcable as hc


def boltzmann(v, vhalf, slope):
    """Steady-state activation: 1 / (1 + exp(-(v - vhalf) / slope))."""
    return 1.0 / (1.0 + np.exp(-(v - vhalf) / slope))


class KSlow(hc.Channel):
    """Slow potassium current ``gkbar n (v - ek)``."""

    name = "kslow"
    parameters = {
        "gkbar": hc.Param(0.004, "S/cm²", "maximal conductance", min=0.0),
        "ek": hc.Param(-90.0, "mV", "reversal potential"),
        "vhalf": hc.Param(-35.0, "mV", "half-activation voltage"),
    }
    q10, q10_celsius = 2.3, 23.0
    currents = {"ik": hc.ohmic("ek", lambda gkbar, n: gkbar * n)}

    @hc.inf_tau
    def n(v, vhalf):
        return boltzmann(v, vhalf, 10.0), 100.0 / (3.3 * np.exp((v - vhalf) / 20.0) + np.exp(-(v - vhalf) / 20.0))
