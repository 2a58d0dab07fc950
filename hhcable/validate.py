"""One place where every value entering hhcable is checked: its type, that it is finite, and
that it lies in a physically sane range.

Values come from model files, the command line and the Python API; each public entry point
passes them through these functions before anything is computed or allocated, so a wrong
value ends as an :class:`~hhcable.errors.InputError` naming the key, what is wrong and why,
never as an overflow, a ``MemoryError`` or a silently wrong answer deep inside a run.

The ranges are wide: they refuse only what no neuron has (a length above a metre, a
temperature no tissue lives at, a current no electrode passes), which is nearly always a
unit mistake, and every refusal says which range and why.
"""

import math
import numbers
import os
import stat
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import HHCableWarning, InputError


@dataclass(frozen=True)
class Limits:
    """A closed range ``[low, high]`` in ``unit``, with the reason values outside are refused."""

    low: float
    high: float
    unit: str
    why: str

    def describe(self):
        unit = f" {self.unit}" if self.unit else ""
        return f"from {self.low:g} to {self.high:g}{unit} ({self.why})"


#: Lengths of cables and segments; keys ending in ``_um``.
LENGTH_UM = Limits(0.0, 1e6, "µm", "1e6 µm is a metre; lengths are in µm")
#: Diameters; keys ending in ``diam_um``.  The thinnest axons are about 0.1 µm, the squid
#: giant axon about 500 µm.
DIAMETER_UM = Limits(1e-3, 1e4, "µm", "a nanometre to a centimetre; diameters are in µm")
#: How far a sample may lie from the origin: farther is a unit mistake (or a corrupt file).
COORDINATE_UM = Limits(-1e7, 1e7, "µm", "10 metres; coordinates are in µm")
#: Times: onsets, durations, run lengths; keys ending in ``_ms``.  Wide enough for NEURON's
#: idiom of a stimulus that never ends (``dur = 1e9``); a run's length is bounded by its
#: number of steps (:data:`MAX_STEPS`).
TIME_MS = Limits(0.0, 1e12, "ms", "1e12 ms is 30 years; times are in ms")
#: Time steps: below a nanosecond no membrane process changes.
DT_MS = Limits(1e-6, 1e6, "ms", "a nanosecond to a quarter of an hour; times are in ms")
#: Voltages; keys ending in ``_mV``.
VOLTAGE_MV = Limits(-1000.0, 1000.0, "mV", "membranes break down well below 1 V")
#: Injected currents; keys ending in ``_nA``.  The squid-axon stimulus is 1e5 nA (0.1 mA).
CURRENT_NA = Limits(-1e7, 1e7, "nA", "10 mA is more than any electrode passes")
#: Temperature, which scales channel kinetics.
TEMPERATURE_C = Limits(0.0, 60.0, "°C", "no living tissue is colder or warmer")
#: Specific membrane capacitance; biological membranes have about 1 µF/cm².
CAPACITANCE_UF_CM2 = Limits(1e-3, 1e3, "µF/cm²", "biological membranes have about 1 µF/cm²")
#: Axial resistivity; cytoplasm has 30 to 300 Ω·cm.
RESISTIVITY_OHM_CM = Limits(1e-2, 1e7, "Ω·cm", "cytoplasm has 30 to 300 Ω·cm")
#: NEURON's d_lambda rule: the longest segment as a fraction of the length constant.
D_LAMBDA = Limits(1e-4, 1e2, "", "NEURON's usual value is 0.1")
#: µm per file unit of an SWC file (1e-3 for nanometres).
SCALE = Limits(1e-6, 1e6, "µm per file unit", "1e-3 for files in nanometres")
#: Memory limits given in megabytes; keys ending in ``_MB``.
MEMORY_MB = Limits(0.0, 1e9, "MB", "1e9 MB is a petabyte")
#: Most time steps in one run: every step is recorded (8 bytes per probe and per step).
MAX_STEPS = 10**8
#: Most compartments in one cell: a detailed neuron needs 1e3 to 1e5, a metre of axon at 1 µm
#: (a benchmark) 1e6; 1e7 takes about 6 GB, so anything above is a mistake in the input.
MAX_COMPARTMENTS = 10**7
#: Longest step (ms) that resolves a spike: its upstroke lasts a fraction of a millisecond
#: (NEURON's default step is 0.025 ms).  Longer steps with voltage-gated channels get a warning.
SPIKE_DT_MS = 0.1

#: Model-file keys and the ranges their values must lie in, by the end of the key (its unit).
#: The first ending that matches counts.
RANGES_BY_KEY = (
    ("dt_ms", DT_MS),
    ("diam_um", DIAMETER_UM),
    ("celsius", TEMPERATURE_C),
    ("d_lambda", D_LAMBDA),
    ("scale", SCALE),
    ("_um", LENGTH_UM),
    ("_ms", TIME_MS),
    ("_mV", VOLTAGE_MV),
    ("_nA", CURRENT_NA),
    ("_uF_cm2", CAPACITANCE_UF_CM2),
    ("_ohm_cm", RESISTIVITY_OHM_CM),
    ("_MB", MEMORY_MB),
)


def limits_for(key):
    """The :class:`Limits` of a model-file key (by its unit ending), or None."""
    return next((limits for end, limits in RANGES_BY_KEY if key.endswith(end)), None)


def real(value, key, limits=None, positive=False):
    """``value`` as a float, if it is a real number, finite, and within ``limits``.

    Booleans, strings and other types are refused (``True`` is not 1 µm).

    Parameters
    ----------
    value : object
    key : str
        The argument or model-file key, for the message.
    limits : Limits, optional
    positive : bool
        Also refuse zero (and negative values).

    Returns
    -------
    float

    Raises
    ------
    InputError
    """
    is_number(value, key)
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        number = math.inf
    if not math.isfinite(number):
        raise InputError(f"must be a finite number, got {_show(value)}", key=key)
    if positive and not number > 0:
        raise InputError(f"must be > 0, got {_show(value)}", key=key)
    if limits is not None and not limits.low <= number <= limits.high:
        raise InputError(f"must lie {limits.describe()}, got {_show(value)}", key=key)
    return number


def is_number(value, key):
    """``value`` if it is a real number (NaN included), not a bool or a string; else InputError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        hint = " (write numbers without quotes)" if isinstance(value, str) and _parses(value) else ""
        raise InputError(f"must be a number, got {_show(value)}{hint}", key=key)
    return value


def integer(value, key, low=None, high=None):
    """``value`` as an int, if it is an integer (not a bool, not a float) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        hint = " (write numbers without quotes)" if isinstance(value, str) and _parses(value) else ""
        raise InputError(f"must be a whole number, got {_show(value)}{hint}", key=key)
    value = int(value)
    if low is not None and value < low:
        raise InputError(f"must be >= {low}, got {value}", key=key)
    if high is not None and value > high:
        raise InputError(f"must be <= {high:g}, got {value:g}", key=key)
    return value


def reals(values, key, limits=None):
    """A 1-D array of floats from a sequence of numbers, each checked as :func:`real`."""
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise InputError(f"must be a 1-D array of numbers, got shape {values.shape}", key=key)
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise InputError(f"must be an array of numbers, got {_show(values)}", key=key)
    return np.array([real(v, f"{key}[{i}]", limits) for i, v in enumerate(values)], dtype=float)


def text(value, key):
    """``value`` if it is a string without NUL characters."""
    if not isinstance(value, str):
        raise InputError(f"must be a string, got {_show(value)}", key=key)
    if "\0" in value:
        raise InputError(f"must not contain a NUL character, got {_show(value)}", key=key)
    return value


def path(value, key):
    """``value`` (a str or os.PathLike) as a str, if it can name a file: not empty, no NUL."""
    if not isinstance(value, (str, os.PathLike)):
        raise InputError(f"must be a file name, got {_show(value)}", key=key)
    name = os.fspath(value)
    if not isinstance(name, str):
        raise InputError(f"must be a file name as text, got {_show(name)}", key=key)
    if not name:
        raise InputError("must be a file name, got an empty string", key=key)
    if "\0" in name:
        raise InputError(f"file name {_show(name)} contains a NUL character", key=key)
    return name


def printable(name):
    """``name`` with NUL and other control characters escaped, for messages."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(name))


def _parses(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _show(value, limit=60):
    """A short repr of a value for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def n_steps(tstop, dt, key="tstop"):
    """Number of steps of a run from 0 to ``tstop`` (ms) with step ``dt`` (ms), if it is sane.

    Call it before allocating anything that grows with the run.

    Raises
    ------
    InputError
        If the run is shorter than one step or longer than :data:`MAX_STEPS` steps.
    """
    steps = tstop / dt
    if steps > MAX_STEPS:
        raise InputError(f"a run of {tstop:g} ms in steps of {dt:g} ms has {steps:.3g} steps, over "
                         f"{MAX_STEPS:.0e}; every step is recorded, so shorten the run or lengthen dt",
                         key=key)
    if round(steps) < 1:
        raise InputError(f"({tstop:g} ms) is shorter than one step ({dt:g} ms)", key=key)
    return int(round(steps))


def warn_if_dt_too_long(dt, cell, key="dt"):
    """Warn (:class:`~hhcable.errors.HHCableWarning`) if ``dt`` (ms) is too long to resolve a
    spike and ``cell`` has voltage-gated channels (a passive cell may take long steps)."""
    if dt > SPIKE_DT_MS and any(_gated(mech) for mech, _ in cell.mechanisms):
        warnings.warn(f"{key}: {dt:g} ms is too long to resolve a spike (its upstroke lasts a fraction "
                      f"of a millisecond); spike times and velocities will be wrong; use at most "
                      f"{SPIKE_DT_MS:g} ms (NEURON's default is 0.025 ms)", HHCableWarning, stacklevel=3)


def _gated(channel):
    """True if ``channel`` has gating states."""
    return bool(channel.spec().gate_names)


def morphology_size(morphology, Ra, cm, max_segment=None, d_lambda=None):
    """Refuse a morphology whose sizes no neuron has, or that would need too many compartments.

    Checks every sample's coordinates (:data:`COORDINATE_UM`) and diameter
    (:data:`DIAMETER_UM`), every segment's length (:data:`LENGTH_UM`), and an upper bound on
    the number of compartments the discretisation will make (:data:`MAX_COMPARTMENTS`), before
    anything is allocated for them.

    Parameters
    ----------
    morphology : Morphology
    Ra : float, Ω·cm
    cm : float, µF/cm²
    max_segment : float, µm, optional
    d_lambda : float, optional

    Raises
    ------
    InputError
        With key ``"morphology"``, ``"max_segment"`` or ``"d_lambda"``.
    """
    from .discretize import lambda_ac

    graph = morphology.graph
    samples = list(graph.nodes)
    try:
        xyzr = np.array([[graph.nodes[s][c] for c in ("x", "y", "z", "radius")] for s in samples], dtype=float)
    except (TypeError, ValueError):
        raise InputError("sample coordinates and radii must be numbers", key="morphology") from None
    for column, what, limits, scale in ((slice(0, 3), "a coordinate", COORDINATE_UM, 1.0),
                                        (slice(3, 4), "a diameter", DIAMETER_UM, 2.0)):
        values = xyzr[:, column] * scale
        bad = ~(np.isfinite(values) & (values >= limits.low) & (values <= limits.high))
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise InputError(f"sample {samples[row]} has {what} of {values[row, col]:g} µm; it must lie "
                             f"{limits.describe()}", key="morphology")
    index = {s: i for i, s in enumerate(samples)}
    edges = np.array([(index[a], index[b]) for a, b in graph.edges], dtype=int).reshape(-1, 2)
    length = np.linalg.norm(xyzr[edges[:, 1], :3] - xyzr[edges[:, 0], :3], axis=1)
    if length.size and length.max() > LENGTH_UM.high:
        k = int(np.argmax(length))
        raise InputError(f"the segment ending at sample {samples[edges[k, 1]]} is {length[k]:g} µm long; "
                         f"lengths must lie {LENGTH_UM.describe()}", key="morphology")
    # An upper bound: every section adds at most one segment to the rounding up, and no
    # length constant is shorter than the thinnest sample's.
    total = float(length.sum())
    bound, key = len(samples), "max_segment"
    if max_segment is not None:
        bound += total / max_segment
    if d_lambda is not None:
        shortest = float(lambda_ac(2 * xyzr[:, 3].min(), Ra, cm))
        if total / (d_lambda * shortest) > bound - len(samples):
            bound, key = len(samples) + total / (d_lambda * shortest), "d_lambda"
    if bound > MAX_COMPARTMENTS:
        raise InputError(f"would cut the cell ({total:g} µm of cable) into up to {bound:.3g} compartments, "
                         f"over {MAX_COMPARTMENTS:.0e}; a detailed neuron needs 1e3 to 1e5: use a larger "
                         f"{key}", key=key)


def read_file(name, what="a file"):
    """The bytes of the regular file ``name``, refusing anything else without blocking.

    A FIFO, a device, a socket or a folder is refused before it is read (opening a FIFO for
    reading would wait for a writer forever; ``/dev/zero`` never ends).

    Parameters
    ----------
    name : str or os.PathLike
    what : str
        What the file should be, for messages (``"an SWC file"``).

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        With ``source`` set to the file name.
    """
    shown = str(os.fspath(name)) if isinstance(name, (str, os.PathLike)) else repr(name)
    try:
        name = path(name, "file")
    except InputError as err:
        raise InputError(err.message, source=shown) from None
    try:
        # O_NONBLOCK: opening a FIFO returns at once; it does nothing to a regular file.
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError("cannot read: no such file", source=shown) from None
    except IsADirectoryError:
        raise InputError(f"is a folder, not {what}", source=shown) from None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", source=shown) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"is {file_kind(mode)}, not {what}; give a regular file", source=shown)
        with os.fdopen(fd, "rb") as fh:
            fd = None
            return fh.read()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", source=shown) from None
    finally:
        if fd is not None:
            os.close(fd)


def file_kind(mode):
    """What a non-regular file is, in words."""
    for test, words in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return words
    return "not a regular file"
