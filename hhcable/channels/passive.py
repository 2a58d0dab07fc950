"""A passive leak: NEURON's ``pas``."""

from .base import Mechanism


class Passive(Mechanism):
    """Passive membrane leak, ``i = g (v - e)``.

    Parameters
    ----------
    g : float, S/cm²
        Leak conductance density (default 0.001).
    e : float, mV
        Leak reversal potential (default -70).
    """

    name = "pas"
    current_names = ("i_pas",)
    defaults = {"g": 0.001, "e": -70.0}
    nonnegative = ("g",)

    def conductance(self, states, v, g, ge):
        g += self.g
        ge += self.g * self.e

    def currents(self, states, v):
        return {"i_pas": self.g * (v - self.e)}
