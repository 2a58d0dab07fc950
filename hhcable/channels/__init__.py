"""Membrane mechanisms: one file per family, all implementing :class:`Mechanism`."""

from .base import Mechanism
from .hh import HH
from .passive import Passive

#: Mechanisms by the name used in model files.
MECHANISMS = {cls.name: cls for cls in (HH, Passive)}

__all__ = ["Mechanism", "HH", "Passive", "MECHANISMS"]
