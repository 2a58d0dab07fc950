"""The interface every membrane mechanism implements.

A mechanism is a small class: its parameters (with defaults and units), its gating states,
how the states start and advance, and the current it passes.  The solver only sees the
linearised current of each compartment, ``i(v') ~ g * (v' - e)``, so adding a mechanism never
touches the solver.  All methods work on arrays holding the compartments the mechanism is
inserted in.
"""

import numpy as np

from ..errors import InputError


class Mechanism:
    """Base class for membrane mechanisms.

    Subclasses set :attr:`name`, :attr:`states` and :attr:`defaults` and implement
    :meth:`steady_state`, :meth:`advance`, :meth:`conductance` and :meth:`currents`.

    Parameters
    ----------
    **params : float
        Values overriding :attr:`defaults` (NEURON's names and units).

    Raises
    ------
    InputError
        For an unknown parameter name or a value that is not a finite number.
    """

    #: Name used in model files (``mechanisms = [{ name = ... }]``) and probes (``"hh.m"``).
    name = ""
    #: Names of the gating states, in the order of the state array's rows.
    states = ()
    #: Names of the current densities :meth:`currents` returns (recordable as ``"hh.ina"``).
    current_names = ()
    #: Parameter name -> default value (units in the subclass docstring).
    defaults = {}
    #: Parameters that must not be negative (maximal conductances).
    nonnegative = ()

    def __init__(self, **params):
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise InputError(
                f"unknown parameter(s) {sorted(unknown)} for mechanism '{self.name}'; "
                f"known: {sorted(self.defaults)}", key=self.name)
        self.params = dict(self.defaults)
        for key, value in params.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                raise InputError(f"must be a finite number, got {value!r}", key=f"{self.name}.{key}")
            if key in self.nonnegative and value < 0:
                raise InputError(f"must be >= 0, got {value!r}", key=f"{self.name}.{key}")
            self.params[key] = float(value)

    def __getattr__(self, key):
        params = self.__dict__.get("params", {})
        if key in params:
            return params[key]
        raise AttributeError(key)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def prepare(self, celsius, dt):
        """Called once before a run: precompute what depends on temperature (°C) and step (ms)."""

    def steady_state(self, v):
        """Gating states at rest at voltages ``v`` (mV): array of shape (len(states), len(v))."""
        return np.empty((0, len(v)))

    def advance(self, states, v, dt):
        """Advance ``states`` in place by ``dt`` (ms) at voltages ``v`` (mV)."""

    def conductance(self, states, v, g, ge):
        """Add this mechanism's conductance to ``g`` (S/cm²) and conductance × reversal to ``ge``.

        The current density (mA/cm²) is then ``g * v - ge`` at the voltages ``v`` (mV).
        """
        raise NotImplementedError

    def currents(self, states, v):
        """Named current densities (mA/cm², outward positive) at voltages ``v`` (mV)."""
        raise NotImplementedError
