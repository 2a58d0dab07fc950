"""Model files: a TOML description of a cell, its stimuli, probes and run, and its summary.

The format is a contract other tools rely on (see the README).  Every key carries its unit.
Everything is checked before anything runs; an error names the file and the key.
"""

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

from . import validate
from .analysis import conduction_velocity, spike_times
from .cell import Cell, as_location
from .channels import CHANNELS, load_channel_file
from .errors import HHCableError, HHCableWarning, InputError
from .fibres import mrg_fibre, myelinated_fibre, node_hh, node_velocity
from .morphology import Morphology

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SECTIONS = {
    "morphology": {"cable", "swc", "scale", "soma", "builder"},
    "discretization": {"max_segment_um", "d_lambda"},
    "biophysics": {"cm_uF_cm2", "Ra_ohm_cm", "celsius", "mechanisms", "mechanism_files"},
    "stimulus": {"kind", "at", "delay_ms", "dur_ms", "amp_nA", "interval_ms", "number", "t_ms"},
    "probe": {"name", "at", "var"},
    "simulation": {"dt_ms", "tstop_ms", "v_init_mV", "method"},
    "velocity": {"from", "to", "threshold_mV"},
    "fibre_velocity": {"skip_nodes", "threshold_mV"},
    "recording": {"space_every", "max_MB"},
}
#: Defaults of the optional tables: without ``[discretization]``, NEURON's d_lambda rule at
#: 0.1; without ``[biophysics]``, HH everywhere (cm 1 µF/cm², Ra 35.4 Ω·cm, 6.3 °C); without
#: ``simulation.dt_ms``, NEURON's 0.025 ms.
DEFAULT_D_LAMBDA = 0.1
DEFAULT_BIOPHYSICS = {"mechanisms": [{"name": "hh", "where": "all"}]}
DEFAULT_DT_MS = 0.025
STIMULUS_KEYS = {
    "iclamp": {"delay_ms", "dur_ms", "amp_nA"},
    "pulse_train": {"delay_ms", "dur_ms", "amp_nA", "interval_ms", "number"},
    "waveform": {"t_ms", "amp_nA"},
}
BYTES_PER_MB = 1e6
#: Where the keys of :class:`~hhcable.Cell`'s errors live in a model file.
CELL_KEYS = {"cm": "biophysics.cm_uF_cm2", "Ra": "biophysics.Ra_ohm_cm", "celsius": "biophysics.celsius",
             "max_segment": "discretization.max_segment_um", "d_lambda": "discretization.d_lambda",
             "morphology": "morphology"}


@dataclass
class Model:
    """A model read from a file, ready to run.

    Attributes
    ----------
    simulation : Simulation
        Set up with the cell, stimuli, probes and recordings of the file.
    tstop : float, ms
    velocity : dict or None
        ``{"from": location, "to": location}`` if the file asks for a velocity, or for a
        fibre ``{"nodes": ..., "skip": ...}`` (node to node).
    source : str
        The file it came from.
    """

    simulation: object
    tstop: float
    velocity: dict
    source: str

    def run(self, progress=None):
        """Run the model; return the :class:`~hhcable.Result` and its summary (a dict).

        ``progress`` goes to :meth:`~hhcable.Simulation.run`."""
        result = self.simulation.run(self.tstop, progress=progress)
        voltage = [p.name for p in self.simulation.probes if p.var == "v"]
        return result, summarize(result, self.velocity, voltage)


class _Reader:
    """Typed access to a TOML table that reports errors with the file and full key."""

    def __init__(self, table, prefix, source):
        self.table, self.prefix, self.source = table, prefix, source

    def error(self, key, message):
        return InputError(message, key=f"{self.prefix}{key}".rstrip("."), source=self.source)

    def check_keys(self, allowed):
        for key in self.table:
            if key not in allowed:
                raise self.error(key, f"unknown key; expected one of {sorted(allowed)}")

    def number(self, key, default=None, positive=False, integer=False):
        """The number at ``key`` (or ``default``), checked by :mod:`hhcable.validate`: a real
        number in the sane range of the key's unit, or a whole number from 1 if ``integer``."""
        if key not in self.table:
            if default is None:
                raise self.error(key, "missing")
            return default
        value = self.table[key]
        try:
            if integer:
                return validate.integer(value, key, low=1 if positive else None, high=validate.MAX_STEPS)
            return validate.real(value, key, validate.limits_for(key), positive=positive)
        except InputError as err:
            raise self.error(key, err.message) from None

    def string(self, key, default=None):
        value = self.table.get(key, default)
        if value is None:
            raise self.error(key, "missing")
        try:
            return validate.text(value, key)
        except InputError as err:
            raise self.error(key, err.message) from None

    def sub(self, key, required=True):
        value = self.table.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, dict):
            raise self.error(key, "missing table" if value is None else f"must be a table, got {value!r}")
        return _Reader(value, f"{self.prefix}{key}.", self.source)


def _wrap(reader, key, action):
    """Run ``action``; re-raise input errors from the engine with this file and key.

    With ``key=""`` the key is the last part of the engine's own (``hh.gnabar`` ->
    ``<table>.gnabar``), or for :class:`~hhcable.Cell`'s own arguments the file's key
    (:data:`CELL_KEYS`).
    """
    try:
        return action()
    except InputError as err:
        if not key and err.key in CELL_KEYS:  # a cell's sizes come from several tables
            raise InputError(err.message, key=CELL_KEYS[err.key], source=reader.source) from None
        key = key or (err.key or "").rpartition(".")[2]
        raise reader.error(key, err.message) from None


def load(path):
    """Read and check a model file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Model

    Raises
    ------
    InputError
        Naming the file and the key (or the line, for TOML syntax errors).
    """
    data = validate.read_file(path, "a model file")
    path = Path(path)
    source = str(path)
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))  # a byte-order mark is allowed
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(f"line {line}: not UTF-8 text (byte 0x{data[err.start]:02x}); save the file as UTF-8",
                         source=source) from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"invalid TOML: {err}", source=source) from None
    return from_dict(doc, source)


def from_dict(doc, source="<dict>"):
    """Check and build a model from a parsed model file (a dict, as ``tomllib`` reads it).

    Parameters
    ----------
    doc : dict
        The model file's tables; it is only read.
    source : str
        The file it stands for: errors name it, and the SWC and channel files it lists are
        found relative to its folder.

    Returns
    -------
    Model

    Raises
    ------
    InputError
        Naming ``source`` and the key.
    """
    from .simulation import Simulation

    top = _Reader(doc, "", source)
    top.check_keys(SECTIONS)
    for key in ("stimulus", "probe"):
        if key in doc and not (isinstance(doc[key], list) and all(isinstance(x, dict) for x in doc[key])):
            raise top.error(key, f"must be an array of tables: write [[{key}]]")
    morph_r = top.sub("morphology")
    fibre = _fibre(top, morph_r) if morph_r.table.get("builder") in FIBRE_BUILDERS else None
    cell = fibre.cell if fibre else _cell(top, _morphology(morph_r))

    sim_r = top.sub("simulation")
    sim_r.check_keys(SECTIONS["simulation"])
    dt = sim_r.number("dt_ms", DEFAULT_DT_MS, positive=True)
    tstop = sim_r.number("tstop_ms", positive=True)
    method = sim_r.string("method", "backward_euler")
    v_init = sim_r.number("v_init_mV", fibre.geometry.get("v_rest", -65.0) if fibre else -65.0)
    steps = _wrap(sim_r, "tstop_ms", lambda: validate.n_steps(tstop, dt))
    with warnings.catch_warnings():  # said once below, naming the file and key
        warnings.simplefilter("ignore", HHCableWarning)
        sim = _wrap(sim_r, "method", lambda: Simulation(cell, dt=dt, method=method, v_init=v_init))
    validate.warn_if_dt_too_long(dt, cell, key=f"{source}: simulation.dt_ms")

    for i, table in enumerate(doc.get("stimulus", [])):
        _stimulus(_Reader(table, f"stimulus[{i}].", source), sim)
    for i, table in enumerate(doc.get("probe", [])):
        r = _Reader(table, f"probe[{i}].", source)
        r.check_keys(SECTIONS["probe"])
        name, var = r.string("name"), r.string("var", "v")
        at = _location(r, cell)
        _wrap(r, "var", lambda: sim.probe(name, at, var))

    velocity = None
    vel_r = top.sub("velocity", required=False)
    if vel_r is not None and fibre is not None:
        vel_r.check_keys(SECTIONS["fibre_velocity"])  # node to node, on a fibre
        skip = vel_r.number("skip_nodes", len(fibre.nodes) // 4, integer=True) if "skip_nodes" in vel_r.table else None
        if skip is not None and len(fibre.nodes) - 2 * skip < 2:
            raise vel_r.error("skip_nodes", f"leaves fewer than 2 of the fibre's {len(fibre.nodes)} nodes to fit")
        velocity = {"nodes": fibre.nodes, "skip": skip}
        sim.record_crossings(vel_r.number("threshold_mV", 0.0))
    elif vel_r is not None:
        vel_r.check_keys(SECTIONS["velocity"])
        velocity = {"from": _location(vel_r, cell, "from"), "to": _location(vel_r, cell, "to")}
        if cell.locate(velocity["from"]) == cell.locate(velocity["to"]):
            raise vel_r.error("to", "falls in the same compartment as 'from'")
        sim.record_crossings(vel_r.number("threshold_mV", 0.0))

    rec_r = top.sub("recording", required=False)
    if rec_r is not None:
        rec_r.check_keys(SECTIONS["recording"])
        every = rec_r.number("space_every", 10, positive=True, integer=True)
        max_mb = rec_r.number("max_MB", sim.max_record_bytes / BYTES_PER_MB, positive=True)
        sim.record_space(every=every, max_bytes=max_mb * BYTES_PER_MB)
        need = sim.record_bytes(steps)
        if need > sim.max_record_bytes:
            raise rec_r.error("space_every", f"recording the whole cell needs {need / BYTES_PER_MB:.0f} MB, "
                                             f"over max_MB ({sim.max_record_bytes / BYTES_PER_MB:.0f}); "
                                             "record less often or raise max_MB")
    return Model(sim, tstop, velocity, source)


#: ``[morphology] builder = "..."``: each builder's keys (with units) and the
#: :class:`~hhcable.Morphology` parameter each one sets.
BUILDERS = {
    "cable": {"length_um": "length", "diam_um": "diam", "diam_end_um": "diam_end"},
    "y_junction": {"parent_length_um": "parent_length", "parent_diam_um": "parent_diam",
                   "daughter_lengths_um": "daughter_lengths", "daughter_diams_um": "daughter_diams",
                   "angle_deg": "angle"},
    "binary_tree": {"depth": "depth", "length_um": "length", "diam_um": "diam", "length_ratio": "length_ratio",
                    "diam_ratio": "diam_ratio", "rall": "rall"},
    "soma_with_dendrites": {"soma_diam_um": "soma_diam", "n_dendrites": "n_dendrites",
                            "dend_length_um": "dend_length", "dend_diam_um": "dend_diam",
                            "axon_length_um": "axon_length", "axon_diam_um": "axon_diam"},
}


#: Fibre builders: ``[morphology] builder = "myelinated_fibre"`` or ``"mrg_fibre"`` makes the
#: whole cell (membranes, myelin, layers); each key (with units) -> the builder's parameter.
FIBRE_BUILDERS = {
    "myelinated_fibre": {"diam_um": "diam", "n_nodes": "n_nodes", "g_ratio": "g_ratio",
                         "node_length_um": "node_length", "internode_length_um": "internode_length",
                         "lamella_thickness_um": "lamella_thickness", "internode_segments": "internode_segments",
                         "myelin_g_S_cm2": "myelin_g", "v_rest_mV": "v_rest", "demyelinated": "demyelinated",
                         "lamellae_left": "lamellae_left", "node_channel": "node_channel"},
    "mrg_fibre": {"diam_um": "diam", "n_nodes": "n_nodes"},
}
#: ``node_channel`` of a myelinated_fibre: HH with nodal densities (the default) or MRG's node.
NODE_CHANNELS = {"hh_node": node_hh, "axnode": CHANNELS["axnode"]}
#: What ``[biophysics]`` may set on a fibre (the builder sets the rest).
FIBRE_BIOPHYSICS = {"celsius", "cm_uF_cm2", "Ra_ohm_cm"}
#: Integer keys of the fibre builders.
_FIBRE_INTEGERS = {"n_nodes", "internode_segments"}


def _fibre(top, r):
    """A fibre builder's :class:`~hhcable.Fibre`: the keys of ``[morphology]``
    (:data:`FIBRE_BUILDERS`) and ``celsius`` (and for a myelinated_fibre ``cm_uF_cm2`` and
    ``Ra_ohm_cm``) from ``[biophysics]``; no ``[discretization]`` (the builder sets it)."""
    builder = r.string("builder")
    keys = FIBRE_BUILDERS[builder]
    r.check_keys({"builder", *keys})
    if "discretization" in top.table:
        raise top.error("discretization", f"a {builder} sets its own compartments; remove [discretization]")
    bio = top.sub("biophysics", required=False)
    allowed = FIBRE_BIOPHYSICS if builder == "myelinated_fibre" else {"celsius"}
    kwargs = {}
    if bio is not None:
        bio.check_keys(allowed)
        names = {"celsius": "celsius", "cm_uF_cm2": "cm", "Ra_ohm_cm": "Ra"}
        kwargs.update({names[k]: bio.number(k, positive=k != "celsius") for k in bio.table})
    for key in r.table:
        if key == "builder":
            continue
        if key == "demyelinated":
            value = r.table[key]
            if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                raise r.error(key, f"must be an array of internode numbers like [4, 5], got {value!r}")
            kwargs["demyelinated"] = value
        elif key == "node_channel":
            name = r.string(key)
            if name not in NODE_CHANNELS:
                raise r.error(key, f"unknown node channel {name!r}; use one of {sorted(NODE_CHANNELS)}")
            kwargs["node_channel"] = NODE_CHANNELS[name]()
        else:
            kwargs[keys[key]] = r.number(key, integer=key in _FIBRE_INTEGERS,
                                         positive=key not in ("lamellae_left", "v_rest_mV"))
    by_parameter = {param: key for key, param in keys.items()}
    try:
        return (myelinated_fibre if builder == "myelinated_fibre" else mrg_fibre)(**kwargs)
    except InputError as err:
        key = by_parameter.get(err.key)
        if key is None and err.key in ("celsius", "cm", "Ra"):
            raise InputError(err.message, key=CELL_KEYS[err.key], source=r.source) from None
        raise r.error(key or "builder", err.message) from None


def _morphology(r):
    """``[morphology]``: an SWC file (``swc = ...``), a builder (``builder = "binary_tree"`` and
    its keys, see :data:`BUILDERS`), or the older ``[morphology.cable]`` table."""
    if "builder" in r.table:
        return _built_morphology(r)
    r.check_keys(SECTIONS["morphology"] - {"builder"})
    if "swc" in r.table:
        return _swc_morphology(r)
    cable = r.sub("cable")
    cable.check_keys({"length_um", "diam_um", "diam_end_um"})
    length = cable.number("length_um", positive=True)
    diam = cable.number("diam_um", positive=True)
    diam_end = cable.number("diam_end_um", diam, positive=True)
    return Morphology.cable(length=length, diam=diam, diam_end=diam_end)


def _built_morphology(r):
    builder = r.string("builder")
    if builder not in BUILDERS:
        raise r.error("builder", f"unknown builder {builder!r}; use one of {sorted({*BUILDERS, *FIBRE_BUILDERS})}")
    keys = BUILDERS[builder]
    r.check_keys({"builder", *keys})
    for key, value in r.table.items():
        if key != "builder" and (isinstance(value, (dict, str)) or (
                isinstance(value, list) and not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                    for v in value))):
            raise r.error(key, f"must be a number{'s' if isinstance(value, list) else ''}, got {value!r}")
    kwargs = {keys[k]: v for k, v in r.table.items() if k != "builder"}
    by_parameter = {param: key for key, param in keys.items()}
    try:
        return getattr(Morphology, builder)(**kwargs)
    except TypeError as err:  # a parameter the builder needs is missing
        missing = [key for key, param in keys.items() if f"'{param}'" in str(err)]
        raise r.error(missing[0] if missing else "builder", "missing") from None
    except InputError as err:
        key = by_parameter.get((err.key or "").split("[")[0], "builder")
        raise r.error(key, err.message) from None


def _swc_morphology(r):
    """``swc = "cell.swc"`` (relative to the model file), optional ``scale`` (µm per file unit) and
    ``soma`` (see :mod:`hhcable.swc`).  The file's soft problems are kept in the morphology's
    ``warnings`` (``hhcable run`` prints a count and the first few; ``hhcable swc-info`` lists
    them all), not emitted as Python warnings."""

    from .swc import SOMA_OPTIONS, SWCWarning, read_swc

    if "cable" in r.table:
        raise r.error("swc", "give either cable or swc, not both")
    path = Path(r.source).parent / r.string("swc")
    scale = r.number("scale", 1.0, positive=True)
    soma = r.string("soma", "auto")
    if soma not in SOMA_OPTIONS:
        raise r.error("soma", f"unknown soma convention {soma!r}; use one of {list(SOMA_OPTIONS)}")
    with warnings.catch_warnings():  # errors in the SWC file name its own file and line
        warnings.simplefilter("ignore", SWCWarning)
        return read_swc(path, scale=scale, soma=soma)


def _cell(top, morph):
    disc = top.sub("discretization", required=False) or _Reader({}, "discretization.", top.source)
    disc.check_keys(SECTIONS["discretization"])
    max_segment = disc.number("max_segment_um", positive=True) if "max_segment_um" in disc.table else None
    d_lambda = disc.number("d_lambda", positive=True) if "d_lambda" in disc.table else None
    if max_segment is None and d_lambda is None:
        d_lambda = DEFAULT_D_LAMBDA

    bio = top.sub("biophysics", required=False) or _Reader(DEFAULT_BIOPHYSICS, "biophysics.", top.source)
    bio.check_keys(SECTIONS["biophysics"])
    cell = _wrap(bio, "", lambda: Cell(
        morph,
        cm=bio.number("cm_uF_cm2", 1.0, positive=True),
        Ra=bio.number("Ra_ohm_cm", 35.4, positive=True),
        celsius=bio.number("celsius", 6.3),
        max_segment=max_segment,
        d_lambda=d_lambda,
    ))
    known = dict(CHANNELS)
    files = bio.table.get("mechanism_files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise bio.error("mechanism_files", "must be an array of file names like [\"my_channels.py\"]")
    for i, name in enumerate(files):
        for cname, cls in load_channel_file(Path(bio.source).parent / name).items():
            if cname in known:
                raise bio.error(f"mechanism_files[{i}]", f"channel {cname!r} is defined twice")
            known[cname] = cls
    mechanisms = bio.table.get("mechanisms", [])
    if not isinstance(mechanisms, list):
        raise bio.error("mechanisms", "must be an array of tables like [{ name = \"hh\", where = \"all\" }]")
    for i, entry in enumerate(mechanisms):
        if not isinstance(entry, dict):
            raise bio.error(f"mechanisms[{i}]", f"must be a table, got {entry!r}")
        m = _Reader(entry, f"biophysics.mechanisms[{i}].", bio.source)
        name = m.string("name")
        if name not in known:
            raise m.error("name", f"unknown mechanism {name!r}; known: {sorted(known)} (a channel of your own: "
                                  "list its file in biophysics.mechanism_files)")
        where = entry.get("where", "all")
        if isinstance(where, bool) or not isinstance(where, (str, int)):
            raise m.error("where", f"must be a region name or a type code, got {where!r}")
        params = {k: v for k, v in entry.items() if k not in ("name", "where")}
        mech = _wrap(m, "", lambda: known[name](**params))
        _wrap(m, "where", lambda: cell.insert(mech, where=where))
    return cell


def _location(r, cell, key="at"):
    table = r.table.get(key)
    if not isinstance(table, dict):
        raise r.error(key, "missing table like { x = 0.5 } or { section = \"dend[0]\", x = 0.5 }" if table is None
                      else f"must be a table, got {table!r}")
    loc = _wrap(r, key, lambda: as_location(table))
    _wrap(r, key, lambda: cell.locate(loc))
    return loc


def _stimulus(r, sim):
    r.check_keys(SECTIONS["stimulus"])
    kind = r.string("kind")
    if kind not in STIMULUS_KEYS:
        raise r.error("kind", f"unknown stimulus {kind!r}; use one of {sorted(STIMULUS_KEYS)}")
    extra = set(r.table) - STIMULUS_KEYS[kind] - {"kind", "at"}
    if extra:
        raise r.error(sorted(extra)[0], f"not a key of a {kind} stimulus")
    at = _location(r, sim.cell)
    if kind == "iclamp":
        args = (r.number("delay_ms"), r.number("dur_ms", positive=True), r.number("amp_nA"))
        _wrap(r, "", lambda: sim.iclamp(at, *args))
    elif kind == "pulse_train":
        args = (r.number("delay_ms"), r.number("dur_ms", positive=True), r.number("amp_nA"),
                r.number("interval_ms", positive=True), r.number("number", integer=True, positive=True))
        _wrap(r, "", lambda: sim.pulse_train(at, *args))
    else:
        t, amp = r.table.get("t_ms"), r.table.get("amp_nA")
        for key, arr in (("t_ms", t), ("amp_nA", amp)):
            if arr is None:
                raise r.error(key, "missing")
        _wrap(r, "", lambda: sim.waveform(at, t, amp))  # checked there, element by element


def summarize(result, velocity=None, voltage_probes=None):
    """The JSON-ready summary of a run (the contract of ``hhcable run --json``).

    Parameters
    ----------
    result : Result
    velocity : dict, optional
        ``{"from": location, "to": location}``: also measure the conduction velocity;
        ``{"nodes": node indices, "skip": int or None}``: node to node on a fibre
        (:func:`~hhcable.node_velocity`).
    voltage_probes : list of str, optional
        The probes that record voltage (default: all); only these are summarised.

    Returns
    -------
    dict
        ``n_compartments``, ``n_nodes``, ``run_wall_s`` (s, time stepping only), ``compile_s``
        (s, compiling or loading the compiled kernel; 0 for numpy), ``setup_s`` (s, all the
        set-up before stepping, compiling included), ``backend``
        (``"numba"`` or ``"numpy"``: who stepped),
        ``probes`` (per name: ``spike_times_ms``, ``v_max_mV``, ``v_min_mV``,
        ``v_final_mV``) and, when asked for, ``velocity`` (``cv_m_s``, ``path_um``, and
        ``error`` when it could not be measured).  Strict JSON: a value that is not finite
        is None, never NaN or Infinity.
    """
    probes = {}
    for name, trace in zip(result.names, result.traces):
        if voltage_probes is not None and name not in voltage_probes:
            continue
        probes[name] = {
            "spike_times_ms": [round(float(s), 6) for s in spike_times(result.t, trace) if math.isfinite(s)],
            "v_max_mV": _finite(trace.max()),
            "v_min_mV": _finite(trace.min()),
            "v_final_mV": _finite(trace[-1]),
        }
    out = {
        "n_compartments": result.cell.n_compartments,
        "n_nodes": result.cell.compartments.n_nodes,
        "run_wall_s": result.run_wall_s,
        "compile_s": result.info["compile_s"],
        "setup_s": result.info["setup_s"],
        "tstop_ms": float(result.t[-1]),
        "dt_ms": result.info["dt"],
        "backend": result.info["backend"],
        "probes": probes,
    }
    if velocity is not None:
        try:
            if "nodes" in velocity:
                cv = node_velocity(result, velocity["nodes"], velocity["skip"])
            else:
                cv = conduction_velocity(result, velocity["from"], velocity["to"])
        except HHCableError as err:
            out["velocity"] = {"cv_m_s": None, "path_um": None, "error": str(err)}
        else:
            if math.isfinite(cv["cv_m_s"]):
                out["velocity"] = {"cv_m_s": cv["cv_m_s"], "path_um": cv["path_um"]}
            else:
                out["velocity"] = {"cv_m_s": None, "path_um": _finite(cv["path_um"]),
                                   "error": "the first-crossing times give no finite velocity"}
    return out


def _finite(value):
    """``value`` as a float, or None if it is NaN or infinite (strict JSON has neither)."""
    value = float(value)
    return value if math.isfinite(value) else None
