"""A passive leak: NEURON's ``pas``."""

from .base import Channel, Param, ohmic


class Passive(Channel):
    """Passive membrane leak, ``i = g (v - e)``.

    Parameters
    ----------
    g : float, S/cm²
        Leak conductance density (default 0.001).
    e : float, mV
        Leak reversal potential (default -70).
    """

    name = "pas"
    parameters = {
        "g": Param(0.001, "S/cm²", "leak conductance", min=0.0),
        "e": Param(-70.0, "mV", "leak reversal potential"),
    }
    currents = {"i_pas": ohmic("e", lambda g: g)}
