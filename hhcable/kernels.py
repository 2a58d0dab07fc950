"""The compiled time loop (numba): the whole run in one call, generated from the channels.

Nothing here is written per channel.  For the set of channel classes a model uses, this
module writes the source of a small module (:func:`source`): one membrane loop per class,
which advances the class's gates (rate table or exact rates) and adds its currents'
conductances, calling the class's own gate and conductance functions compiled by numba;
and the run loop, which calls the static solver step below and those membrane loops.  The
source is written to a cache folder under a name that fingerprints every piece of code it
calls (the channel functions, the helpers they call, this file), so numba's on-disk cache
makes a second run of the same channels start in milliseconds, and any edit to a channel
gives a new name, never a stale kernel.

Each step does what the numpy loop (:mod:`hhcable.engine`) does, in the same order:
conductances group by group, the voltage solve, crossings, then the gates by exponential
Euler at the new voltage (rate tables with the same interpolation and the same fall-back to
exact rates when a voltage leaves the table).  The voltage solve is classic Hines
elimination (leaves to roots along the parent array, then substitution back), where numpy
uses LAPACK on the chains and a junction system; the two agree to round-off.  The membrane
code is compiled with :data:`hhcable.vecmath.JIT_OPTIONS` (fused multiply-adds, reciprocals
of constants: within an ulp or two of numpy's arithmetic; NaN and inf as in numpy), and its
exp, expm1 and cbrt are :mod:`hhcable.vecmath`'s, so that the exact-rate loop vectorises.
"""

import functools
import hashlib
import importlib.util
import math
import os
import sys
import tempfile
import textwrap
import types
from pathlib import Path

import numpy as np

from .channels.base import _VTRAP_SERIES, TABLE_V_MAX, TABLE_V_MIN, vtrap
from .errors import InputError

try:
    import numba

    from . import vecmath
except ImportError:  # numba could not be installed here: numpy steps (the reference path)
    numba = vecmath = None

#: Whether the compiled kernel can be used (numba importable).
AVAILABLE = numba is not None
#: Probe kinds in the kernel's probe arrays.
PROBE_V, PROBE_GATE, PROBE_CURRENT = 0, 1, 2
#: Environment variable naming the folder of generated kernels (default: the user's cache).
CACHE_ENV = "HHCABLE_CACHE_DIR"


def _jit(func):
    return numba.njit(cache=True)(func) if AVAILABLE else func


@_jit
def solve_step(k, dt, crank, parent, off, axial_diag, c_over_dt, g_scale, v, g, ge, d_acc, r_acc, fac, x,
               stim_nodes, stim_amp, thresholds, crossings, above, t, crossing):
    """One implicit voltage step: assemble, eliminate, substitute; crossings; the range check.

    Solves ``(C/dt + g + L) v' = C/dt v + g e + I`` in place in ``v`` (Crank–Nicolson: over
    dt/2, then ``v' = 2 v_half - v``) and zeroes ``g``, ``ge`` for the next step's channels.
    Returns ``(on_table, bad)``: whether every new voltage lies on the rate tables, and the
    first node whose voltage is not finite (-1 if none).
    """
    n = v.size
    for s in range(stim_nodes.size):
        r_acc[stim_nodes[s]] += stim_amp[k, s]
    # Hines elimination from the leaves (every parent precedes its children), with the
    # system assembled on the way.  A node's first child is the node after it; its
    # elimination is carried in registers (cd, cr).
    cd, cr = 0.0, 0.0
    for i in range(n - 1, -1, -1):
        d = g[i] * g_scale[i] + c_over_dt[i] + axial_diag[i] + d_acc[i] - cd
        rr = ge[i] * g_scale[i] + v[i] * c_over_dt[i] + r_acc[i] - cr
        g[i], ge[i], d_acc[i], r_acc[i] = 0.0, 0.0, 0.0, 0.0
        r = 1.0 / d
        f = off[i] * r
        fac[i] = f
        x[i] = rr * r
        p = parent[i]
        cd, cr = 0.0, 0.0
        if p == i - 1:
            cd, cr = f * off[i], f * rr
        elif p >= 0:
            d_acc[p] -= f * off[i]
            r_acc[p] -= f * rr
    # Substitution from the roots, then Crank–Nicolson's extrapolation and crossings.
    xp = 0.0
    on_table = True
    bad = -1
    for i in range(n):
        p = parent[i]
        if p == i - 1:
            xp = x[i] - fac[i] * xp
        elif p >= 0:
            xp = x[i] - fac[i] * x[p]
        else:
            xp = x[i]
        x[i] = xp
        vn = xp * 2.0 - v[i] if crank else xp
        if crossing:
            now = vn >= thresholds[i]
            if now and not above[i] and math.isnan(crossings[i]):
                crossings[i] = t[k] + (thresholds[i] - v[i]) / (vn - v[i]) * dt
            above[i] = now
        on_table &= vn >= TABLE_V_MIN and vn < TABLE_V_MAX
        if bad < 0 and not math.isfinite(vn):
            bad = i
        v[i] = vn
    return on_table, bad


@_jit
def record_frames(k, v, rec_every, rec_start, rec_stop, rec_off, frames):
    """Copy the voltage of whole cells into their frames at step ``k`` (where due)."""
    for r in range(rec_every.size):
        if k % rec_every[r] == 0:
            width = rec_stop[r] - rec_start[r]
            base = rec_off[r] + (k // rec_every[r]) * width
            for j in range(width):
                frames[base + j] = v[rec_start[r] + j]


# -- generating the model's kernel --------------------------------------------------------------


def _membrane_jit():
    """Decorator line of the generated membrane code (options: :data:`hhcable.vecmath.JIT_OPTIONS`)."""
    options = vecmath.JIT_OPTIONS
    return f"@numba.njit(cache=True, error_model={options['error_model']!r}, fastmath={options['fastmath']!r})"


def _membrane_source(c, spec):
    """Source of ``membrane_c`` (with ``gates_c``, ``conductances_c``) and ``current_c`` for class ``c``.

    For each group ``membrane_c`` decides once whether the gates advance by the rate table
    or by the exact rates, takes 1-D views of the group's rows (voltages, conductance sums,
    parameters, gates) when its nodes are consecutive, or gathered copies when they are not,
    and runs branch-free loops over them: the gate update (``gates_c``), then the
    conductances at the new gates (``conductances_c``).  With exact rates LLVM vectorises the
    gate loop: the channel's functions are inlined and their exp, expm1 and cbrt are plain
    arithmetic (:func:`_jit_tree`, :mod:`hhcable.vecmath`).
    """
    gate_names = [gate.name for gate in spec.gates]
    kinetic = [p for p in spec.params if any(p in gate.args for gate in spec.gates)]
    # In the loops: p_NAME, s_NAME are rows (1-D), k_NAME a kinetic parameter (one value per
    # group), NAME_ a gate's new value at node j; x, gx, gex the voltages and conductance sums.
    arg = {**{p: f"k_{p}" if p in kinetic else f"p_{p}[j]" for p in spec.params},
           **{name: f"{name}_" for name in gate_names}}
    conds = [f"c{r} = _c{c}_current{r}({', '.join(arg[a] for a in cur.args)})"
             for r, (_, cur) in enumerate(spec.currents)]
    sums = []
    if spec.currents:
        sums = [f"gx[j] += {' + '.join(f'c{r}' for r in range(len(spec.currents)))}",
                f"gex[j] += {' + '.join(f'c{r} * {arg[cur.e]}' for r, (_, cur) in enumerate(spec.currents))}"]
    store = [f"s_{name}[j] = {name}_" for name in gate_names]
    by_table = ["u = (x[j] - V_MIN) * inv_dv", "k = int(u)", "u -= k"]
    for i, name in enumerate(gate_names):
        by_table.append(f"{name}_ = s_{name}[j] * (rates[k, {4 * i}] + rates[k, {4 * i + 1}] * u) "
                        f"+ (rates[k, {4 * i + 2}] + rates[k, {4 * i + 3}] * u)")
    by_rates = ["xj = x[j]"]
    for i, gate in enumerate(spec.gates):
        args = ", ".join(["xj", *(arg[a] for a in gate.args[1:])])
        by_rates.append(f"r0, r1 = _c{c}_gate{i}({args})")
        if gate.form == "alpha_beta":  # as update_factors: decay exp(rate), gain -inf expm1(rate)
            by_rates += ["total = r0 + r1", f"decay, change = exp_expm1(nq{i} * total)",
                         f"{gate.name}_ = s_{gate.name}[j] * decay - r0 / total * change"]
        else:
            by_rates += [f"decay, change = exp_expm1(nq{i} / r1)",
                         f"{gate.name}_ = s_{gate.name}[j] * decay - r0 * change"]
    keep = [f"{name}_ = s_{name}[j]" for name in gate_names]

    def loop(body, indent):
        return [indent[4:] + "for j in range(m):", *(indent + s for s in body)]

    # Three functions, so that numba compiles each loop once (the run loop calls membrane_c
    # with ``advance`` a literal True or False, two compilations) and inlines each channel
    # function at one place only (inlining is most of the compile time).
    rows = [f"p_{p}" for p in spec.params] + [f"s_{name}" for name in gate_names]
    row_args = ", ".join([f"k_{p}" for p in kinetic] + rows)
    lines = []
    if spec.gates:
        lines += [
            _membrane_jit(),
            f"def gates_{c}(on_table, x, rates, inv_dv, {', '.join(f'nq{i}' for i in range(len(spec.gates)))}, "
            f"{row_args}):",
            '    """Advance the gates on a run of nodes (1-D rows) over one step."""',
            "    m = x.size",
            "    if on_table:", *loop(by_table + store, " " * 12),
            "    else:", *loop(by_rates + store, " " * 12),
            "", ""]
    if sums:
        lines += [
            _membrane_jit(),
            f"def conductances_{c}(gx, gex, {row_args}):",
            '    """Add the conductances of a run of nodes (1-D rows) to gx, gex."""',
            "    m = gx.size",
            *loop(keep + conds + sums, " " * 8),
            "", ""]
    lines += [
        _membrane_jit(),
        f"def membrane_{c}(v, dt, advance, all_on_table, ptr, nodes, q, use_table, params, states, table, "
        "inv_dv, g, ge):",
        "    for grp in range(ptr.size - 1):",
        "        a, b = ptr[grp], ptr[grp + 1]",
        "        if a == b:",
        "            continue",
        "        on_table = use_table[grp]",
        "        if advance and on_table and not all_on_table:",
        "            for j in range(a, b):",
        "                xj = v[nodes[j]]",
        "                if not (xj >= V_MIN and xj < V_MAX):",
        "                    on_table = False",
        "                    break",
        "        first, m = nodes[a], b - a",
        "        consecutive = nodes[b - 1] - first == m - 1  # (a group's nodes ascend)",
        "        if consecutive:",
        "            x, gx, gex = v[first:first + m], g[first:first + m], ge[first:first + m]",
        "        else:",
        "            x, gx, gex = np.empty(m), np.zeros(m), np.zeros(m)",
        "            for j in range(m):",
        "                x[j] = v[nodes[a + j]]",
        *(f"        p_{p} = params[{i}, a:b]" for i, p in enumerate(spec.params)),
        *(f"        s_{name} = states[{i}, a:b]" for i, name in enumerate(gate_names)),
        *(f"        k_{p} = params[{spec.params.index(p)}, a]" for p in kinetic),
    ]
    if spec.gates:
        lines += ["        if advance:",
                  f"            gates_{c}(on_table, x, table[grp], inv_dv, "
                  f"{', '.join(f'-dt * q[grp, {i}]' for i in range(len(spec.gates)))}, {row_args})"]
    if sums:
        lines += [f"        conductances_{c}(gx, gex, {row_args})"]
    lines += [
        "        if not consecutive:",
        "            for j in range(m):",
        "                g[nodes[a + j]] += gx[j]",
        "                ge[nodes[a + j]] += gex[j]",
    ]
    P = {p: f"p_{p}" for p in spec.params}
    S = {name: f"s_{name}" for name in gate_names}
    names = {**P, **S}
    lines += ["", "", "@numba.njit(cache=True)",
              f"def current_{c}(r, j, x, params, states):",
              *(f"    {P[p]} = params[{i}, j]" for i, p in enumerate(spec.params)),
              *(f"    {S[name]} = states[{i}, j]" for i, name in enumerate(gate_names))]
    for r, (_, cur) in enumerate(spec.currents):
        lines += [f"    if r == {r}:", f"        c{r} = _c{c}_current{r}({', '.join(names[a] for a in cur.args)})",
                  f"        return c{r} * (x - {P[cur.e]})"]
    lines.append("    return 0.0")
    return "\n".join(lines)


#: The generated membrane code's imports (after the run loop's).
_MEMBRANE_IMPORTS = "from hhcable.vecmath import exp_expm1\n\n\n"


#: Arguments of the run loop for each channel class ``c``.
_GROUP_ARGS = ("ptr", "nodes", "q", "use_table", "params", "states", "table")


def source(specs):
    """Source of the kernel module for channel classes with these :class:`Spec` s, in order."""
    group_args = ", ".join(f"{a}_{c}" for c in range(len(specs)) for a in _GROUP_ARGS)
    membrane = "\n".join(f"    membrane_{c}(v, dt, advance, on_table, {', '.join(f'{a}_{c}' for a in _GROUP_ARGS)}, "
                         "inv_dv, g, ge)" for c in range(len(specs))) or "    pass"
    reads = "\n".join(
        f"        elif probe_cls[p] == {c}:\n"
        f"            if probe_kind[p] == PROBE_GATE:\n"
        f"                traces[k, p] = states_{c}[probe_row[p], probe_col[p]]\n"
        f"            else:\n"
        f"                traces[k, p] = current_{c}(probe_row[p], probe_col[p], v[probe_node[p]], params_{c}, "
        f"states_{c})" for c in range(len(specs)))
    head = f'''"""Generated by hhcable.kernels for channels {', '.join(s.name for s in specs) or 'none'}: do not edit."""
import math

import numba
import numpy as np

from hhcable.kernels import PROBE_GATE, PROBE_V, record_frames, solve_step

V_MIN, V_MAX = {TABLE_V_MIN!r}, {TABLE_V_MAX!r}


@numba.njit(cache=True)
def membrane(v, dt, advance, on_table, inv_dv, g, ge, {group_args}):
{membrane}


@numba.njit(cache=True)
def record(k, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node, {group_args}):
    for p in range(probe_kind.size):
        if probe_kind[p] == PROBE_V:
            traces[k, p] = v[probe_node[p]]
{reads}


@numba.njit(cache=True)
def run(first, last, dt, crank, parent, off, axial_diag, c_over_dt, g_scale, v, stim_nodes, stim_amp, thresholds,
        crossings, above, t, rec_every, rec_start, rec_stop, rec_off, frames, probe_kind, probe_cls, probe_row,
        probe_col, probe_node, traces, inv_dv, {group_args}):
    """Steps first..last-1 (a run in one call, or in chunks: the state is all in the arrays)."""
    n = v.size
    g, ge = np.zeros(n), np.zeros(n)  # conductance (S/cm²) and conductance x reversal (mV S/cm²)
    d_acc, r_acc = np.zeros(n), np.zeros(n)  # added to a node's row: stimuli, non-adjacent children
    fac, x = np.empty(n), np.empty(n)
    crossing = False
    for i in range(n):
        crossing |= not math.isnan(thresholds[i])
    membrane(v, dt, False, False, inv_dv, g, ge, {group_args})
    if first == 0:
        record(0, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node, {group_args})
        record_frames(0, v, rec_every, rec_start, rec_stop, rec_off, frames)
    for k in range(first, last):
        on_table, bad = solve_step(k, dt, crank, parent, off, axial_diag, c_over_dt, g_scale, v, g, ge, d_acc,
                                   r_acc, fac, x, stim_nodes, stim_amp, thresholds, crossings, above, t, crossing)
        if bad >= 0:
            return k, bad
        membrane(v, dt, True, on_table, inv_dv, g, ge, {group_args})
        record(k + 1, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node, {group_args})
        record_frames(k + 1, v, rec_every, rec_start, rec_stop, rec_off, frames)
    return -1, -1
'''
    body = "\n\n\n".join(_membrane_source(c, spec) for c, spec in enumerate(specs))
    return head + ("\n\n" + _MEMBRANE_IMPORTS + body + "\n" if body else "")


# -- fingerprints: what the cached machine code depends on ------------------------------------
def _fingerprint(obj, digest, seen):
    """Feed into ``digest`` everything that determines what compiling ``obj`` gives."""
    if isinstance(obj, types.FunctionType):
        if id(obj) in seen:
            digest.update(b"<seen>")
            return
        seen.add(id(obj))
        _fingerprint(obj.__code__, digest, seen)
        for name in obj.__code__.co_names:
            if name in obj.__globals__:
                digest.update(name.encode())
                _fingerprint(obj.__globals__[name], digest, seen)
        for cell in obj.__closure__ or ():
            _fingerprint(cell.cell_contents, digest, seen)
    elif isinstance(obj, types.CodeType):
        digest.update(obj.co_code)
        digest.update(repr(obj.co_names).encode())
        for const in obj.co_consts:
            _fingerprint(const, digest, seen)
    elif isinstance(obj, types.ModuleType):
        digest.update(f"module {obj.__name__} {getattr(obj, '__version__', '')}".encode())
    elif isinstance(obj, np.ndarray):
        digest.update(obj.tobytes())
    else:
        digest.update(f"{type(obj).__name__}:{obj!r}".encode())


def _functions(spec):
    """The channel's functions the kernel calls, by their name in the generated module."""
    return ([(f"gate{i}", gate.name, gate.func) for i, gate in enumerate(spec.gates)]
            + [(f"current{r}", name, cur.g) for r, (name, cur) in enumerate(spec.currents)])


def _vtrap_scalar(x, y):
    """:func:`hhcable.channels.vtrap` for one number, without a branch (both sides computed)."""
    u = x / y
    small = abs(u) < _VTRAP_SERIES
    series = 1.0 - u / 2
    safe = 1.0 if small else u
    full = safe / vecmath.expm1(safe)
    return y * (series if small else full)


#: Array helpers of the channel library -> their scalar form, compiled in their place; and
#: numpy's exp, expm1, cbrt, where -> forms loops can vectorise (:mod:`hhcable.vecmath`).
SCALAR_FORMS = {vtrap: _vtrap_scalar}
if AVAILABLE:
    SCALAR_FORMS |= {np.exp: vecmath.exp, np.expm1: vecmath.expm1, np.cbrt: vecmath.cbrt, np.where: vecmath.where}


@functools.cache
def _scalar_numpy():
    """numpy as compiled channel functions see it: a copy with its SCALAR_FORMS in place."""
    copy = types.ModuleType(np.__name__)
    copy.__dict__.update({name: SCALAR_FORMS.get(value, value) if _hashable(value) else value
                          for name, value in vars(np).items()})
    return copy


def _hashable(value):
    """Whether ``value`` can be looked up in a dict (numpy's module holds some that cannot)."""
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _jit_tree(func, done):
    """``func`` compiled by numba for scalars, with the plain Python functions it calls compiled too.

    Each is inlined where it is called (numba's ``inline="always"``), so the membrane loop is
    one body LLVM can vectorise, compiled with the loop's options; ``np.exp``, ``np.expm1``,
    ``np.where`` and the library's ``vtrap`` become their :data:`SCALAR_FORMS`.
    """
    if func in done:
        return done[func]
    names = dict(func.__globals__)
    # numba's on-disk cache re-imports the module named here when it loads the kernel in
    # another process; a user's file may be loaded under any name, or none, so the compiled
    # copy names this module (what it compiles is fingerprinted, so nothing is lost).
    names["__name__"] = __name__
    for name in func.__code__.co_names:
        value = names.get(name)
        if value is np:
            names[name] = _scalar_numpy()
        elif _hashable(value) and value in SCALAR_FORMS and not isinstance(value, types.FunctionType):
            names[name] = SCALAR_FORMS[value]  # exp, expm1, where imported by name
        elif isinstance(value, types.FunctionType):
            names[name] = _jit_tree(SCALAR_FORMS.get(value, value), done)
    clone = types.FunctionType(func.__code__, names, func.__name__, func.__defaults__, func.__closure__)
    done[func] = numba.njit(clone, inline="always", **vecmath.JIT_OPTIONS)
    return done[func]


def cache_dir():
    """Folder of the generated kernels: ``$HHCABLE_CACHE_DIR``, else the user's cache folder."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hhcable" / "kernels"


_MODULES = {}


def module_for(classes):
    """The compiled kernel module for these channel classes (in this order), made once.

    Raises
    ------
    InputError
        Naming the channel and the function numba cannot compile.
    """
    specs = [cls.spec() for cls in classes]
    text = source(specs)
    digest = hashlib.sha256(text.encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(Path(vecmath.__file__).read_bytes())
    digest.update(numba.__version__.encode())
    seen = set()
    for spec in specs:
        for name, _, func in _functions(spec):
            digest.update(name.encode())
            _fingerprint(func, digest, seen)
    key = digest.hexdigest()[:24]
    if key in _MODULES:
        return _MODULES[key]
    done, compiled = {}, {}
    for c, (cls, spec) in enumerate(zip(classes, specs)):
        for name, label, func in _functions(spec):
            jitted = _jit_tree(func, done)
            try:
                jitted.compile((numba.float64,) * func.__code__.co_argcount)
            except Exception as err:  # numba's errors are long: keep the first line
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise InputError(f"numba cannot compile {func.__name__!r}: {first}; write it with numpy "
                                 "functions of scalars (np.exp, np.where), or use backend='numpy'",
                                 key=f"{cls.name}.{label}") from None
            compiled[f"_c{c}_{name}"] = jitted
    path = _write_source(key, text)
    spec = importlib.util.spec_from_file_location(f"hhcable_kernel_{key}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    for name, jitted in compiled.items():
        setattr(module, name, jitted)
    _MODULES[key] = module
    return module


def _write_source(key, text):
    """Write the generated module under its fingerprint (atomically); its path."""
    for folder in (cache_dir(), Path(tempfile.gettempdir()) / f"hhcable-kernels-{os.getuid()}"):
        path = folder / f"k_{key}.py"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text() != text:
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".k_{key}.", suffix=".tmp")
                with os.fdopen(fd, "w") as fh:
                    fh.write(text)
                os.replace(tmp, path)
            return path
        except OSError:
            continue
    raise InputError("no writable folder for the compiled kernel; set HHCABLE_CACHE_DIR or use backend='numpy'",
                     key="backend")
