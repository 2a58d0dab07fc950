"""Membrane channels, each a :class:`Channel` description (one file per family)."""

from .base import Channel, Param, alpha_beta, inf_tau, ohmic, vtrap
from .connor_stevens import KACS, KdrCS, NaCS
from .hh import HH
from .hh1952 import HH1952
from .passive import Passive

#: The built-in channels by the name used in model files and probes.
CHANNELS = {cls.name: cls for cls in (HH, HH1952, Passive, NaCS, KdrCS, KACS)}

__all__ = ["Channel", "Param", "alpha_beta", "inf_tau", "ohmic", "vtrap",
           "HH", "HH1952", "Passive", "NaCS", "KdrCS", "KACS", "CHANNELS"]
