"""Channels as descriptions: what a channel is, written once, read by every backend.

A channel is a short class that says what it is and nothing about how it is solved::

    class HH(Channel):
        name = "hh"
        parameters = {"gnabar": Param(0.12, "S/cm²", "maximal sodium conductance", min=0.0), ...}
        q10, q10_celsius = 3.0, 6.3
        currents = {"ina": ohmic("ena", lambda gnabar, m, h: gnabar * m**3 * h), ...}

        @alpha_beta
        def m(v):
            return 0.1 * vtrap(-(v + 40.0), 10.0), 4.0 * np.exp(-(v + 65.0) / 18.0)

* **Parameters** have a default and a unit (NEURON's names and units); an instance
  overrides them by keyword: ``HH(gnabar=0.2)``.
* **Gates** are methods named after the gate, decorated with :func:`alpha_beta` (return the
  opening and closing rates, 1/ms) or :func:`inf_tau` (return the steady state, 1, and the
  time constant, ms).  Their first argument is the voltage ``v`` (mV); further arguments
  name parameters.  They are plain numpy math: the numpy backend calls them on arrays, the
  numba backend compiles them for scalars (so: ``np.exp`` not ``math.exp``, ``np.where`` not
  ``if``; helper functions they call are compiled with them).
* **Temperature**: every rate is multiplied by ``q10 ** ((celsius - q10_celsius) / 10)``
  (``q10 = 1``, the default, means no temperature dependence); a gate may carry its own
  ``q10``.
* **Currents** are ohmic, ``i = g (v - e)`` (mA/cm², outward positive): :func:`ohmic` takes
  the reversal potential's parameter name and the conductance (S/cm²) as a function whose
  arguments name gates and parameters.  The formula is written once; the engine derives
  from it the linearised conductance of the implicit voltage solve and the recordable
  current.

Nothing here runs a simulation: :mod:`hhcable.engine` derives the steady states,
exponential-Euler gate updates, rate tables (as NEURON's ``TABLE``) and the compiled step
from the description, and keeps all run state itself.  A channel object holds only its
parameter values and ``use_table``; the engine never writes to it.
"""

import inspect
import math

import numpy as np

from ..errors import InputError

#: Below this |x/y| the removable singularity of x / (exp(x/y) - 1) uses its series.
_VTRAP_SERIES = 1e-6
#: Voltage range (mV) of the rate tables; a step with any voltage outside uses the exact rates.
TABLE_V_MIN, TABLE_V_MAX = -200.0, 200.0
#: Spacing (mV) of the rate tables.  Linear interpolation errs by about dv²/8 times the second
#: derivative: below 1e-6 of the factors' range for HH, far under the error of the time step.
TABLE_DV = 0.05
#: Names a gate or parameter cannot take: the voltage, and what the engine binds itself.
RESERVED = ("v", "celsius", "dt")


def vtrap(x, y):
    """``x / (exp(x/y) - 1)`` with its removable singularity at ``x = 0`` filled in.

    Near zero the function equals ``y * (1 - x/(2y))`` to second order, as in NEURON's
    hh.mod.  Works on arrays (numpy) and on scalars (compiled by numba).
    """
    u = x / y
    small = np.abs(u) < _VTRAP_SERIES
    safe = np.where(small, 1.0, u)
    return y * np.where(small, 1.0 - u / 2, safe / np.expm1(safe))


class Param:
    """A channel parameter: default value, unit, meaning and the smallest allowed value.

    Parameters
    ----------
    default : float
        Value used when an instance does not set it (in ``unit``).
    unit : str
        NEURON's unit, for people (``"S/cm²"``, ``"mV"``, ``"ms"``, ``"1"``).
    doc : str, optional
        What it is.
    min : float, optional
        Smallest allowed value (``0.0`` for conductances).
    """

    def __init__(self, default=None, unit="1", doc="", min=None):
        self.default, self.unit, self.doc, self.min = default, unit, doc, min

    def __repr__(self):
        return f"Param({self.default!r}, {self.unit!r})"


class Gate:
    """A gating variable: its kinetics function and form (made by :func:`alpha_beta` / :func:`inf_tau`)."""

    def __init__(self, func, form, q10=None):
        self.func, self.form, self.q10 = func, form, q10
        self.name = func.__name__
        self.args = _arguments(func)

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)


def _gate_decorator(form):
    def decorate(func=None, *, q10=None):
        if func is None:
            return lambda f: Gate(f, form, q10)
        return Gate(func, form, q10)

    return decorate


alpha_beta = _gate_decorator("alpha_beta")
alpha_beta.__doc__ = """Mark a method as a gate given by its opening and closing rates (1/ms) at ``v`` (mV).

Use as ``@alpha_beta`` or ``@alpha_beta(q10=2.3)`` (a Q10 of its own)."""
inf_tau = _gate_decorator("inf_tau")
inf_tau.__doc__ = """Mark a method as a gate given by its steady state (1) and time constant (ms) at ``v`` (mV).

Use as ``@inf_tau`` or ``@inf_tau(q10=2.3)`` (a Q10 of its own)."""


class Current:
    """An ohmic current ``g (v - e)``: made by :func:`ohmic`."""

    def __init__(self, e, g):
        self.e, self.g = e, g
        self.args = _arguments(g)


def ohmic(e, g):
    """An ohmic current ``i = g (v - e)`` (mA/cm²).

    Parameters
    ----------
    e : str
        Name of the parameter holding the reversal potential (mV).
    g : callable
        The conductance (S/cm²); its arguments name gates and parameters, for example
        ``lambda gnabar, m, h: gnabar * m**3 * h``.
    """
    return Current(e, g)


def _arguments(func):
    if not callable(func):
        raise InputError(f"expected a function, got {func!r}", key="channel")
    params = inspect.signature(func).parameters.values()
    if any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params):
        raise InputError(f"{func.__name__}: arguments must be plain names (no *args, **kwargs)", key="channel")
    return tuple(p.name for p in params)


class Spec:
    """What the engine reads from a channel class, checked once when the class is made.

    Attributes
    ----------
    params : tuple of str
        Parameter names, in declaration order.
    gates : tuple of Gate
    currents : tuple of (str, Current)
    kinetic : tuple of str
        Parameters the gate kinetics depend on (cells differing in these cannot share a table).
    """

    def __init__(self, cls):
        where = cls.name or cls.__name__
        if not (isinstance(cls.name, str) and cls.name.isidentifier()):
            raise InputError(f"a channel needs a name that is an identifier, got {cls.name!r}", key=where)
        if not isinstance(cls.parameters, dict) or not all(isinstance(p, Param) for p in cls.parameters.values()):
            raise InputError("parameters must map names to Param(default, unit, ...)", key=f"{where}.parameters")
        self.name = cls.name
        self.params = tuple(cls.parameters)
        for pname, p in cls.parameters.items():
            if isinstance(p.default, bool) or not isinstance(p.default, (int, float)) or not math.isfinite(p.default):
                raise InputError(f"needs a finite default value, got {p.default!r}", key=f"{where}.{pname}")
        gates = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, Gate):
                    gates[attr] = value
        self.gates = tuple(gates.values())
        gate_names = tuple(gates)
        if not isinstance(cls.currents, dict) or not all(isinstance(c, Current) for c in cls.currents.values()):
            raise InputError("currents must map names to ohmic(e, g)", key=f"{where}.currents")
        self.currents = tuple(cls.currents.items())
        for name in (*gate_names, *self.params, *cls.currents):
            if name in RESERVED:
                raise InputError(f"{name!r} is reserved ({', '.join(RESERVED)}); rename it", key=f"{where}.{name}")
        for a, b, what in ((gate_names, self.params, "a gate and a parameter"),
                           (gate_names, tuple(cls.currents), "a gate and a current"),
                           (self.params, tuple(cls.currents), "a parameter and a current")):
            clash = set(a) & set(b)
            if clash:
                raise InputError(f"{sorted(clash)[0]!r} is both {what}", key=where)
        for gate in self.gates:
            if not gate.args or gate.args[0] != "v":
                raise InputError("the first argument of a gate's kinetics must be v (mV)", key=f"{where}.{gate.name}")
            for arg in gate.args[1:]:
                if arg not in self.params:
                    raise InputError(f"uses {arg!r}, which is not a parameter ({', '.join(self.params)})",
                                     key=f"{where}.{gate.name}")
            if gate.q10 is not None and not (isinstance(gate.q10, (int, float)) and gate.q10 > 0):
                raise InputError(f"q10 must be a positive number, got {gate.q10!r}", key=f"{where}.{gate.name}")
        for cname, cur in self.currents:
            if cur.e not in self.params:
                raise InputError(f"reversal potential {cur.e!r} is not a parameter ({', '.join(self.params)})",
                                 key=f"{where}.{cname}")
            for arg in cur.args:
                if arg not in self.params and arg not in gate_names:
                    raise InputError(f"the conductance uses {arg!r}, which is neither a gate "
                                     f"({', '.join(gate_names) or 'none'}) nor a parameter", key=f"{where}.{cname}")
        if not (isinstance(cls.q10, (int, float)) and cls.q10 > 0 and math.isfinite(cls.q10_celsius)):
            raise InputError("q10 must be > 0 and q10_celsius a temperature in °C", key=f"{where}.q10")
        self.kinetic = tuple(p for p in self.params if any(p in g.args for g in self.gates))
        self.gate_names = gate_names
        self.current_names = tuple(cls.currents)

    def q10_factors(self, cls, celsius):
        """Rate factor of each gate at ``celsius`` (°C): shape (n_gates,)."""
        return np.array([(g.q10 or cls.q10) ** ((celsius - cls.q10_celsius) / 10.0) for g in self.gates])


class Channel:
    """Base class of membrane channels written as descriptions (see the module docstring).

    Parameters
    ----------
    use_table : bool
        Advance the gates with update factors tabulated on a 0.05 mV grid from -200 to
        200 mV, linearly interpolated (as NEURON's ``TABLE``; default) instead of the exact
        rates.  A step with any voltage off the table uses the exact rates.
    **params : float
        Values overriding the defaults of :attr:`parameters`.

    Raises
    ------
    InputError
        For an unknown parameter, a value that is not a finite number or is below the
        parameter's minimum, or kinetics that are not finite and positive over the table's
        voltage range (checked here, at creation, not mid-run).
    """

    #: Name in model files (``mechanisms = [{ name = ... }]``) and probes (``"hh.m"``).
    name = ""
    #: Parameter name -> :class:`Param`.
    parameters = {}
    #: Current name -> :func:`ohmic` current.
    currents = {}
    #: Rate increase per 10 °C (1: none) and the temperature (°C) the rates were measured at.
    q10, q10_celsius = 1.0, 6.3

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._spec = Spec(cls)

    def __init__(self, use_table=True, **params):
        spec = type(self).spec()
        if not isinstance(use_table, (bool, np.bool_)):
            raise InputError(f"must be true or false, got {use_table!r}", key=f"{self.name}.use_table")
        unknown = set(params) - set(spec.params)
        if unknown:
            raise InputError(f"unknown parameter(s) {sorted(unknown)} for channel '{self.name}'; "
                             f"known: {list(spec.params)}", key=f"{self.name}.{sorted(unknown)[0]}")
        values = {}
        for key in spec.params:
            value = params.get(key, self.parameters[key].default)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
                    or not math.isfinite(value):
                raise InputError(f"must be a finite number, got {value!r}", key=f"{self.name}.{key}")
            low = self.parameters[key].min
            if low is not None and value < low:
                raise InputError(f"must be >= {low}, got {value!r}", key=f"{self.name}.{key}")
            values[key] = float(value)
        self.params = values
        self.use_table = bool(use_table)
        check_kinetics(type(self), {k: values[k] for k in spec.kinetic})

    @classmethod
    def spec(cls):
        """The checked description of this channel class (:class:`Spec`)."""
        if cls is Channel:
            raise InputError("Channel is a base class; use a channel such as hc.HH()", key="channel")
        return cls._spec

    def __getattr__(self, key):
        params = self.__dict__.get("params", {})
        if key in params:
            return params[key]
        raise AttributeError(key)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    # -- what the description implies, on arrays (the numpy reference) ----------------------
    def steady_state(self, v, params=None):
        """Every gate at rest at voltages ``v`` (mV): shape (n_gates, len(v)).

        ``params`` maps parameter names to values or per-node arrays (default: this
        instance's).
        """
        return steady_state(type(self), v, self.params if params is None else params)

    def inf_tau(self, v, celsius):
        """Steady states (1) and time constants (ms) at ``v`` (mV) and ``celsius`` (°C), each (n_gates, n)."""
        cls, spec = type(self), self.spec()
        q = spec.q10_factors(cls, celsius)
        inf, tau = [], []
        for k, gate in enumerate(spec.gates):
            x_inf, rate = _inf_rate(gate, v, self.params)
            inf.append(x_inf)
            tau.append(1.0 / (q[k] * rate))
        return np.array(inf).reshape(len(spec.gates), -1), np.array(tau).reshape(len(spec.gates), -1)

    def current_densities(self, states, v, params=None):
        """Named current densities (mA/cm², outward positive) at ``v`` (mV) and gate values ``states``."""
        return current_densities(type(self), states, v, self.params if params is None else params)


def _inf_rate(gate, v, params):
    """Steady state and total rate (1/ms, before Q10) of ``gate`` at ``v``."""
    a, b = gate.func(v, *(params[p] for p in gate.args[1:]))
    if gate.form == "alpha_beta":
        return a / (a + b), a + b
    return a, 1.0 / b


def steady_state(cls, v, params):
    """Gates of channel ``cls`` at rest at ``v`` (mV): shape (n_gates, len(v))."""
    v = np.asarray(v, dtype=float)
    spec = cls.spec()
    out = np.empty((len(spec.gates), v.size))
    for k, gate in enumerate(spec.gates):
        out[k] = _inf_rate(gate, v, params)[0]
    return out


def update_factors(cls, v, q, dt, params):
    """Exponential-Euler factors over a step ``dt`` (ms) at ``v`` (mV): shape (2, n_gates, n).

    A gate moves as ``x' = decay * x + gain`` with ``decay = exp(-dt q / tau)`` and
    ``gain = x_inf (1 - decay)``; ``q`` holds each gate's temperature factor.  For
    ``alpha_beta`` gates ``x_inf = a / (a + b)`` and ``1 / tau = a + b``.
    """
    v = np.asarray(v, dtype=float)
    spec = cls.spec()
    out = np.empty((2, len(spec.gates), v.size))
    for k, gate in enumerate(spec.gates):
        a, b = gate.func(v, *(params[p] for p in gate.args[1:]))
        if gate.form == "alpha_beta":
            rate = -dt * q[k] * (a + b)
            out[0, k] = np.exp(rate)
            out[1, k] = -a / (a + b) * np.expm1(rate)
        else:
            rate = -dt * q[k] / b
            out[0, k] = np.exp(rate)
            out[1, k] = -a * np.expm1(rate)
    return out


def conductances(cls, states, params):
    """Each current's conductance (S/cm²) and reversal potential (mV) at gate values ``states``."""
    spec = cls.spec()
    names = dict(zip(spec.gate_names, states))
    out = []
    for _, cur in spec.currents:
        g = cur.g(*(names[a] if a in names else params[a] for a in cur.args))
        out.append((g, params[cur.e]))
    return out


def current_densities(cls, states, v, params):
    """Named current densities (mA/cm², outward positive) at ``v`` (mV)."""
    spec = cls.spec()
    return {name: g * (v - e) for name, (g, e) in zip(spec.current_names, conductances(cls, states, params))}


#: Kinetic parameter sets already checked, per channel class (checking evaluates the gates
#: on the whole table grid, so it is done once per distinct set).
_CHECKED = {}


def table_grid():
    """The voltages (mV) of the rate tables: TABLE_V_MIN to TABLE_V_MAX every TABLE_DV."""
    return np.linspace(TABLE_V_MIN, TABLE_V_MAX, int(round((TABLE_V_MAX - TABLE_V_MIN) / TABLE_DV)) + 1)


def check_kinetics(cls, kinetic_params):
    """InputError naming the channel, gate and voltage if a gate's rates, steady state or time
    constant are NaN, infinite or negative (a time constant or a total rate of zero too),
    anywhere on the table's voltage range.  (Fitted steady states may exceed 1 slightly, as
    the Connor–Stevens a∞ does above +40 mV: that is allowed.)"""
    key = (cls, tuple(sorted(kinetic_params.items())))
    if key in _CHECKED:
        return
    v = table_grid()
    where = cls.name
    for gate in cls.spec().gates:
        try:
            with np.errstate(all="ignore"):
                a, b = (np.broadcast_to(np.asarray(x, dtype=float), v.shape)
                        for x in gate.func(v, *(kinetic_params[p] for p in gate.args[1:])))
        except Exception as err:  # the user's function: any failure is a bad description
            raise InputError(f"evaluating the kinetics on an array of voltages failed: "
                             f"{type(err).__name__}: {err} (write them with numpy functions, no 'if')",
                             key=f"{where}.{gate.name}") from None
        if gate.form == "alpha_beta":
            checks = (("alpha", a, "a finite rate >= 0 (1/ms)", lambda x: np.isfinite(x) & (x >= 0)),
                      ("beta", b, "a finite rate >= 0 (1/ms)", lambda x: np.isfinite(x) & (x >= 0)),
                      ("alpha + beta", a + b, "> 0", lambda x: x > 0))
        else:
            checks = (("inf", a, "finite and >= 0", lambda x: np.isfinite(x) & (x >= 0)),
                      ("tau", b, "a finite time constant > 0 (ms)", lambda x: np.isfinite(x) & (x > 0)))
        for what, values, need, ok in checks:
            bad = np.flatnonzero(~ok(values))
            if bad.size:
                i = bad[0]
                raise InputError(f"{what} is {float(values[i])!r} at v = {v[i]:g} mV; it must be {need} over "
                                 f"{TABLE_V_MIN:g}..{TABLE_V_MAX:g} mV", key=f"{where}.{gate.name}")
    _CHECKED[key] = True
