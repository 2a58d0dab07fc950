"""Membrane channels, each a :class:`Channel` description (one file per family)."""

from .base import Channel, Param, alpha_beta, inf_tau, ohmic, vtrap
from .connor_stevens import KACS, KdrCS, NaCS
from .hh import HH
from .hh1952 import HH1952
from .mrg import MRGNode
from .passive import Passive

#: The built-in channels by the name used in model files and probes.
CHANNELS = {cls.name: cls for cls in (HH, HH1952, Passive, NaCS, KdrCS, KACS, MRGNode)}

__all__ = ["Channel", "Param", "alpha_beta", "inf_tau", "ohmic", "vtrap",
           "HH", "HH1952", "Passive", "NaCS", "KdrCS", "KACS", "MRGNode", "CHANNELS"]


def load_channel_file(path):
    """The channels defined in a user's Python file: name -> Channel subclass.

    Parameters
    ----------
    path : str or Path
        A Python file defining :class:`Channel` subclasses (other imports are fine).

    Raises
    ------
    InputError
        Naming the file (and line) when it cannot be read or run, when it defines no
        channel, or when a channel's name is a built-in's.
    """
    import hashlib
    import importlib.util
    import sys
    import traceback
    from pathlib import Path

    from ..errors import InputError

    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError("no such file" if not path.exists() else "not a regular file", source=source)
    name = f"hhcable_user_{path.stem}_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so its classes can be pickled (sent to worker processes)
    try:
        spec.loader.exec_module(module)
    except InputError as err:  # a channel's description is wrong: the Spec's own message
        del sys.modules[name]
        raise InputError(err.message, key=err.key, source=source) from None
    except Exception as err:  # the user's code: any failure is reported on one line
        del sys.modules[name]
        lines = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == str(path)]
        line = getattr(err, "lineno", None) or (lines[-1].lineno if lines else None)
        where = f"{source}:{line}" if line else source
        raise InputError(f"{type(err).__name__}: {err}".splitlines()[0], source=where) from None
    found = {cls.name: cls for cls in vars(module).values()
             if isinstance(cls, type) and issubclass(cls, Channel) and cls.__module__ == name}
    if not found:
        raise InputError("defines no channel (a subclass of hhcable.Channel)", source=source)
    for cname, cls in found.items():
        if cname in CHANNELS:
            raise InputError(f"channel {cls.__name__} is named {cname!r}, the name of a built-in channel; "
                             "rename it", source=source)
    return found
