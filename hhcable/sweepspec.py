"""Sweep descriptions: a base model file, the parameters to vary and the measures to keep.

A sweep file is TOML, with keys in units like a model file::

    [sweep]
    model = "axon.toml"              # the base model, relative to this file
    measures = ["velocity", "spike_count", "v_max"]
    probes = ["far"]                 # voltage probes the spike and voltage measures read (default: all)

    [[parameter]]                    # any key of the model, as a dotted path
    key = "morphology.cable.diam_um"
    geomspace = [1.0, 8.0, 8]        # start, stop, number of values (also: linspace)

    [[parameter]]
    key = "biophysics.celsius"
    values = [6.3, 12.0, 18.5]

    [[parameter]]                    # random: one draw per sample, from the seed
    key = "biophysics.mechanisms[0].gnabar"
    uniform = [0.08, 0.16]           # also: loguniform = [low, high], normal = [mean, sd]

The models are every combination of the grid parameters (``values``, ``linspace``,
``geomspace``; the first parameter varies slowest), and with random parameters ``samples``
draws of them (``[sweep] samples``, ``seed``) at each grid point: draw ``s`` is the same at
every grid point, so grid points are compared on the same random models.
"""

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .modelfile import _Reader, from_dict, tomllib

SWEEP_KEYS = {"model", "measures", "probes", "backend", "samples", "seed", "chunk_size"}
TOP_KEYS = {"sweep", "parameter", "threshold", "plot"}
GRIDS = {"values", "linspace", "geomspace"}
RANDOM = {"uniform", "loguniform", "normal"}
THRESHOLD_KEYS = {"stimulus", "probe", "low_nA", "high_nA", "tolerance_nA"}
#: Measures of the whole model -> (column, arrow type name).
MODEL_MEASURES = {"velocity": ("cv_m_s", "float"), "threshold": ("threshold_nA", "float")}
#: Measures read at each probe -> (column suffix, arrow type name, value from the probe's summary).
PROBE_MEASURES = {
    "spike_count": ("spike_count", "int", lambda p: len(p["spike_times_ms"])),
    "spike_times": ("spike_times_ms", "list", lambda p: p["spike_times_ms"]),
    "first_spike": ("first_spike_ms", "float", lambda p: p["spike_times_ms"][0] if p["spike_times_ms"] else None),
    "v_max": ("v_max_mV", "float", lambda p: p["v_max_mV"]),
    "v_min": ("v_min_mV", "float", lambda p: p["v_min_mV"]),
    "v_final": ("v_final_mV", "float", lambda p: p["v_final_mV"]),
}
_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")


@dataclass
class Sweep:
    """A checked sweep description.

    Attributes
    ----------
    source : str
        The sweep file (or ``"<dict>"``).
    model_path : Path
        The base model file (absolute, so workers anywhere on a shared file system find it).
    base : dict
        The base model file's tables.
    parameters : list of str
        The keys varied, in the order of the file (the table's parameter columns).
    grids : list of (str, list)
        The grid parameters and their values, in order (the first varies slowest).
    draws : dict
        The random parameters' draws: key -> list of ``samples`` values.
    measures : list of str
    probes : list of str
        Voltage probes the per-probe measures read.
    threshold : dict or None
        The ``[threshold]`` table (bisection on a stimulus amplitude), if measured.
    backend : str
    chunk_size : int or None
        Models per chunk, if the file fixes it.
    plot : dict
        ``x``, ``y`` and optionally ``by``: column names of the summary figure.
    units : dict
        Units of the parameter columns whose key does not end in one (channel parameters).
    """

    source: str
    model_path: Path
    base: dict
    parameters: list
    grids: list
    draws: dict
    measures: list
    probes: list
    threshold: dict
    backend: str
    chunk_size: int
    plot: dict
    units: dict

    def columns(self):
        """The result table's columns, in order: name -> type name (float, int, str, bool, list)."""
        cols = {"model": "int", "chunk": "int"}
        values = dict(self.grids, **self.draws)
        for key in self.parameters:
            cols[key] = _value_type(values[key])
        for m in self.measures:
            if m in MODEL_MEASURES:
                cols[MODEL_MEASURES[m][0]] = MODEL_MEASURES[m][1]
        for probe in self.probes:
            for m in self.measures:
                if m in PROBE_MEASURES:
                    cols[f"{probe}.{PROBE_MEASURES[m][0]}"] = PROBE_MEASURES[m][1]
        cols.update({"n_compartments": "int", "backend": "str", "wall_s": "float", "error": "str"})
        return cols

    @property
    def n_models(self):
        """How many models: every combination of the grids, times the random draws."""
        return math.prod(len(v) for _, v in self.grids) * self._samples()

    def _samples(self):
        return len(next(iter(self.draws.values()))) if self.draws else 1

    def point(self, index):
        """The values of model ``index`` (key -> value): grid combination ``index // samples``
        (the first grid parameter slowest), random draw ``index % samples``."""
        combo, draw = divmod(index, self._samples())
        point = {}
        for key, values in reversed(self.grids):
            combo, i = divmod(combo, len(values))
            point[key] = values[i]
        point.update({key: values[draw] for key, values in self.draws.items()})
        return {key: point[key] for key in self.parameters}

    @property
    def points(self):
        """Every model's values, in order (a list: for small sweeps and tests)."""
        return [self.point(i) for i in range(self.n_models)]

    def model_doc(self, point):
        """The base model's tables with one model's values set (a new dict)."""
        return with_values(self.base, point)

    def fingerprint(self):
        """A hash of everything that decides the table: the base model, its files, the points, the measures."""
        digest = hashlib.sha256(json.dumps(
            [self.base, self.parameters, self.grids, self.draws, self.measures, self.probes, self.threshold,
             self.backend],
            sort_keys=True, default=repr).encode())
        bio, morph = self.base.get("biophysics", {}), self.base.get("morphology", {})
        for name in list(bio.get("mechanism_files", [])) + ([morph["swc"]] if "swc" in morph else []):
            try:
                digest.update((self.model_path.parent / name).read_bytes())
            except OSError:
                pass  # the model's own check names the missing file
        return digest.hexdigest()


def parse_key(key):
    """``"biophysics.mechanisms[0].gnabar"`` -> ``["biophysics", "mechanisms", 0, "gnabar"]``; None if malformed."""
    path = []
    for part in key.split("."):
        match = _TOKEN.match(part)
        if match is None:
            return None
        path.append(match.group(1))
        path.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return path


def with_values(doc, point):
    """A copy of ``doc`` with each dotted key of ``point`` set to its value (the paths were checked)."""
    doc = json.loads(json.dumps(doc))  # TOML documents are JSON data: a deep copy
    for key, value in point.items():
        *parents, last = parse_key(key)
        table = doc
        for part in parents:
            table = table[part]
        table[last] = value
    return doc


def load(source):
    """Read and check a sweep description.

    Parameters
    ----------
    source : str, Path or dict
        A sweep file (TOML), or its tables as a dict (the model path then relative to the
        working folder).

    Returns
    -------
    Sweep

    Raises
    ------
    InputError
        Naming the sweep file (or the base model file) and the key.
    """
    if isinstance(source, dict):
        doc, name, folder = source, "<dict>", Path(".")
    else:
        name, folder = str(source), Path(source).parent
        try:
            with open(source, "rb") as fh:
                doc = tomllib.load(fh)
        except FileNotFoundError:
            raise InputError("no such file", source=name) from None
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"cannot read: {err}", source=name) from None
        except tomllib.TOMLDecodeError as err:
            raise InputError(f"invalid TOML: {err}", source=name) from None
    top = _Reader(doc, "", name)
    top.check_keys(TOP_KEYS)
    head = top.sub("sweep")
    head.check_keys(SWEEP_KEYS)
    model_path = (folder / head.string("model")).resolve()
    from .modelfile import load as load_model

    base_model = load_model(model_path)  # the base must be valid: its errors name its own file
    with open(model_path, "rb") as fh:
        base = tomllib.load(fh)

    params = doc.get("parameter", [])
    if not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
        raise top.error("parameter", "must be an array of tables: write [[parameter]]")
    if not params:
        raise top.error("parameter", "missing: give at least one [[parameter]] with a key to vary")
    grids, draws, keys, units = [], {}, [], {}
    samples = head.number("samples", 1, positive=True, integer=True) if "samples" in head.table else None
    rng = np.random.default_rng(head.number("seed", integer=True)) if "seed" in head.table else None
    for i, table in enumerate(params):
        r = _Reader(table, f"parameter[{i}].", name)
        kind = _one_kind(r)
        if kind in RANDOM:
            if samples is None or rng is None:
                raise r.error(kind, "a random parameter needs [sweep] samples (how many draws) and seed")
            values = draws[r.string("key")] = _draw(r, kind, samples, rng)
        else:
            values = _grid(r, kind)
            grids.append((r.string("key"), values))
        key, unit = _check_key(r, base, base_model, model_path, values[0])
        if unit:
            units[key] = unit
        if key in keys:
            raise r.error("key", f"{key!r} is varied twice")
        keys.append(key)
    if samples is not None and not draws:
        raise head.error("samples", "only random parameters (uniform, loguniform, normal) are sampled")
    measures, probes = _measures(head, base_model)
    threshold = _threshold(top, base, base_model) if "threshold" in measures else None
    backend = head.string("backend", "auto")
    from .engine import BACKENDS

    if backend not in BACKENDS:
        raise head.error("backend", f"unknown backend {backend!r}; use one of {list(BACKENDS)}")
    chunk = head.number("chunk_size", positive=True, integer=True) if "chunk_size" in head.table else None
    sweep = Sweep(name, model_path, base, keys, grids, draws, measures, probes, threshold, backend, chunk, {}, units)
    sweep.plot = _plot(top, sweep)
    return sweep


def _check_key(r, base, base_model, model_path, value):
    """The dotted key of a [[parameter]], checked against the base model, and its unit if it is
    a channel parameter's.  A key the base file leaves out (a default) must be one the model
    file takes: a channel's parameter, or a key the model accepts with ``value`` set."""
    key = r.string("key")
    path = parse_key(key)
    if path is None:
        raise r.error("key", f"{key!r} is not a dotted key like \"biophysics.mechanisms[0].gnabar\"")
    table = base
    for depth, part in enumerate(path[:-1]):
        ok = (isinstance(part, int) and isinstance(table, list) and part < len(table)) or \
             (isinstance(part, str) and isinstance(table, dict) and part in table)
        if not ok:
            where = ".".join(str(p) for p in path[:depth]) or "the model"
            raise r.error("key", f"{key!r}: {where} has no {part!r} in the base model")
        table = table[part]
    last = path[-1]
    if not isinstance(table, dict) or not isinstance(last, str):
        raise r.error("key", f"{key!r} does not name a value of a table in the base model")
    mechanism = path[:2] == ["biophysics", "mechanisms"] and len(path) == 4
    cls = type(base_model.simulation.cell.mechanisms[path[2]][0]) if mechanism else None
    if cls is not None and last not in list(cls.parameters) + ["use_table"]:
        raise r.error("key", f"{key!r}: channel {cls.name!r} has no parameter {last!r}; its parameters: "
                             f"{sorted(cls.parameters)}")
    if cls is None and last not in table:
        try:
            from_dict(with_values(base, {key: value}), str(model_path))
        except InputError as err:
            if err.key == key and ("unknown" in err.message or "not a key" in err.message):
                raise r.error("key", f"{key!r}: not a key of the model file ({err.message})") from None
    return key, cls.parameters[last].unit if cls is not None and last in cls.parameters else None


def _one_kind(r):
    kinds = [k for k in r.table if k in GRIDS | RANDOM]
    r.check_keys({"key"} | GRIDS | RANDOM)
    if len(kinds) != 1:
        raise r.error("values", f"give exactly one of {sorted(GRIDS | RANDOM)}, got {kinds or 'none'}")
    return kinds[0]


def _numbers(r, kind, count):
    value = r.table[kind]
    if not (isinstance(value, list) and len(value) == count and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in value)):
        raise r.error(kind, f"must be an array of {count} finite numbers, got {value!r}")
    return value


def _grid(r, kind):
    if kind == "values":
        values = r.table["values"]
        if not isinstance(values, list) or not values:
            raise r.error("values", f"must be a non-empty array, got {values!r}")
        try:
            _value_type(values)
        except ValueError as err:
            raise r.error("values", str(err)) from None
        return values
    start, stop, num = _numbers(r, kind, 3)
    if isinstance(num, float) or num < 1:
        raise r.error(kind, f"the number of values (third) must be a positive integer, got {num!r}")
    if kind == "geomspace" and not (start > 0 and stop > 0):
        raise r.error(kind, f"start and stop must be > 0 on a geometric grid, got {start!r}, {stop!r}")
    space = np.geomspace if kind == "geomspace" else np.linspace
    return [float(x) for x in space(start, stop, num)]


def _draw(r, kind, samples, rng):
    a, b = _numbers(r, kind, 2)
    if kind == "normal":
        if not b > 0:
            raise r.error(kind, f"the standard deviation (second) must be > 0, got {b!r}")
        return [float(x) for x in rng.normal(a, b, samples)]
    if not a < b or (kind == "loguniform" and not a > 0):
        raise r.error(kind, f"needs low < high{' and low > 0' if kind == 'loguniform' else ''}, got {a!r}, {b!r}")
    if kind == "loguniform":
        return [float(x) for x in np.exp(rng.uniform(np.log(a), np.log(b), samples))]
    return [float(x) for x in rng.uniform(a, b, samples)]


def _value_type(values):
    """The column type of a parameter's values; ValueError if they mix kinds."""
    kinds = {"bool" if isinstance(v, bool) else "int" if isinstance(v, int) else "float"
             if isinstance(v, float) else "str" if isinstance(v, str) else None for v in values}
    if None in kinds or len(kinds - {"int", "float"}) > (0 if kinds & {"int", "float"} else 1):
        raise ValueError(f"must all be numbers, all strings or all booleans, got {values!r}")
    return "float" if "float" in kinds else kinds.pop()


def _measures(head, base_model):
    measures = head.table.get("measures", ["spike_count", "v_max"] + (["velocity"] if base_model.velocity else []))
    known = set(MODEL_MEASURES) | set(PROBE_MEASURES)
    if not isinstance(measures, list) or not measures or not all(isinstance(m, str) for m in measures):
        raise head.error("measures", f"must be a non-empty array of names from {sorted(known)}")
    for m in measures:
        if m not in known:
            raise head.error("measures", f"unknown measure {m!r}; use names from {sorted(known)}")
    if "velocity" in measures and base_model.velocity is None:
        raise head.error("measures", "'velocity' needs a [velocity] table in the base model")
    voltage = [p.name for p in base_model.simulation.probes if p.var == "v"]
    probes = head.table.get("probes", voltage)
    if not isinstance(probes, list) or not all(isinstance(p, str) for p in probes):
        raise head.error("probes", "must be an array of probe names")
    for p in probes:
        if p not in voltage:
            raise head.error("probes", f"{p!r} is not a voltage probe of the base model; its voltage probes: {voltage}")
    if any(m in PROBE_MEASURES for m in measures) and not probes:
        raise head.error("measures", "spike and voltage measures need a [[probe]] in the base model")
    return list(dict.fromkeys(measures)), list(probes)


def _threshold(top, base, base_model):
    r = top.sub("threshold")
    r.check_keys(THRESHOLD_KEYS)
    index = r.number("stimulus", 0, integer=True)
    stimuli = base.get("stimulus", [])
    if not 0 <= index < len(stimuli) or "amp_nA" not in stimuli[index] or "t_ms" in stimuli[index]:
        raise r.error("stimulus", f"must be the index of an iclamp or pulse_train [[stimulus]] (0 to "
                                  f"{len(stimuli) - 1}) of the base model")
    voltage = [p.name for p in base_model.simulation.probes if p.var == "v"]
    probe = r.string("probe", voltage[0] if voltage else None) if voltage else r.string("probe")
    if probe not in voltage:
        raise r.error("probe", f"{probe!r} is not a voltage probe of the base model; its voltage probes: {voltage}")
    low, high = r.number("low_nA", 0.0), r.number("high_nA")
    tolerance = r.number("tolerance_nA", positive=True)
    if not low < high:
        raise r.error("high_nA", f"must be above low_nA ({low}), got {high}")
    return {"stimulus": index, "probe": probe, "low_nA": low, "high_nA": high, "tolerance_nA": tolerance}


def _plot(top, sweep):
    """``x``, ``y`` and ``by`` of the summary figure: from ``[plot]``, else the first measure
    against the first parameter, by the second."""
    numeric = [c for c, t in sweep.columns().items() if t in ("float", "int") and c not in ("model", "chunk")]
    r = top.sub("plot", required=False)
    table = r.table if r is not None else {}
    if r is not None:
        r.check_keys({"x", "y", "by"})
    measures = [c for c in numeric if c not in sweep.parameters and c not in ("n_compartments", "wall_s")]
    plot = {"x": table.get("x", sweep.parameters[0]), "y": table.get("y", measures[0] if measures else None),
            "by": table.get("by", sweep.parameters[1] if len(sweep.parameters) > 1 else None)}
    for name, column in plot.items():
        if column is not None and column not in numeric and not (name == "by" and column in sweep.parameters):
            raise InputError(f"{column!r} is not a numeric column of the table; numeric columns: {numeric}",
                             key=f"plot.{name}", source=sweep.source)
    return plot


def build_model(sweep, point):
    """The :class:`~hhcable.modelfile.Model` of one point of the sweep (InputError naming the base file)."""
    return from_dict(sweep.model_doc(point), str(sweep.model_path))
