"""Membrane mechanisms: one file per family, all implementing :class:`Mechanism`."""

from .base import Mechanism
from .hh import HH
from .hh1952 import HH1952
from .passive import Passive

#: Mechanisms by the name used in model files.
MECHANISMS = {cls.name: cls for cls in (HH, HH1952, Passive)}

__all__ = ["Mechanism", "HH", "HH1952", "Passive", "MECHANISMS"]
