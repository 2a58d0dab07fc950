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
uses LAPACK on the chains and a junction system; the two agree to round-off.  No fast-math:
results are reproducible.
"""

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
except ImportError:  # numba could not be installed here: numpy steps (the reference path)
    numba = None

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
def _membrane_source(c, spec):
    """Source of ``membrane_c`` and ``current_c`` for channel class number ``c``."""
    P = {p: f"p_{p}" for p in spec.params}
    S = {gate.name: f"s_{gate.name}" for gate in spec.gates}
    names = {**P, **S}
    load_p = [f"{P[p]} = params[{i}, j]" for i, p in enumerate(spec.params)]
    load_s = [f"{S[gate.name]} = states[{i}, j]" for i, gate in enumerate(spec.gates)]
    conds = [f"c{r} = _c{c}_current{r}({', '.join(names[a] for a in cur.args)})"
             for r, (_, cur) in enumerate(spec.currents)]
    lines = [
        "@numba.njit(cache=True)",
        f"def membrane_{c}(v, dt, advance, all_on_table, ptr, nodes, q, use_table, params, states, table, "
        "inv_dv, g, ge):",
        "    for grp in range(ptr.size - 1):",
        "        a, b = ptr[grp], ptr[grp + 1]",
        "        on_table = use_table[grp]",
        "        if advance and on_table and not all_on_table:",
        "            for j in range(a, b):",
        "                x = v[nodes[j]]",
        "                if not (x >= V_MIN and x < V_MAX):",
        "                    on_table = False",
        "                    break",
        "        for j in range(a, b):",
        "            i = nodes[j]",
        "            x = v[i]",
        *("            " + s for s in load_p),
    ]
    if spec.gates:
        lines += ["            if advance and on_table:",
                  "                u = (x - V_MIN) * inv_dv",
                  "                k = int(u)",
                  "                u -= k"]
        for i in range(len(spec.gates)):
            lines.append(f"                states[{i}, j] = states[{i}, j] * (table[grp, k, {4 * i}] + "
                         f"table[grp, k, {4 * i + 1}] * u) + (table[grp, k, {4 * i + 2}] + "
                         f"table[grp, k, {4 * i + 3}] * u)")
        lines.append("            elif advance:")
        for i, gate in enumerate(spec.gates):
            args = ", ".join(["x", *(P[a] for a in gate.args[1:])])
            lines.append(f"                r0, r1 = _c{c}_gate{i}({args})")
            if gate.form == "alpha_beta":
                lines += [f"                rate = -dt * q[grp, {i}] * (r0 + r1)",
                          f"                states[{i}, j] = states[{i}, j] * math.exp(rate) - "
                          "r0 / (r0 + r1) * math.expm1(rate)"]
            else:
                lines += [f"                rate = -dt * q[grp, {i}] / r1",
                          f"                states[{i}, j] = states[{i}, j] * math.exp(rate) - r0 * math.expm1(rate)"]
        lines += ["            " + s for s in load_s]
    lines += ["            " + s for s in conds]
    if spec.currents:
        lines += [f"            g[i] += {' + '.join(f'c{r}' for r in range(len(spec.currents)))}",
                  f"            ge[i] += {' + '.join(f'c{r} * {P[cur.e]}' for r, (_, cur) in enumerate(spec.currents))}"]
    lines += ["", "", "@numba.njit(cache=True)",
              f"def current_{c}(r, j, x, params, states):",
              *("    " + s for s in load_p), *("    " + s for s in load_s)]
    for r, (_, cur) in enumerate(spec.currents):
        lines += [f"    if r == {r}:", f"        {conds[r]}", f"        return c{r} * (x - {P[cur.e]})"]
    lines.append("    return 0.0")
    return "\n".join(lines)


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
    return head + ("\n\n" + body + "\n" if body else "")


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
    """:func:`hhcable.channels.vtrap` for one number (numba makes arrays of np.where on scalars)."""
    u = x / y
    if abs(u) < _VTRAP_SERIES:
        return y * (1.0 - u / 2)
    return y * (u / math.expm1(u))


#: Array helpers of the channel library -> their scalar form, compiled in their place.
SCALAR_FORMS = {vtrap: _vtrap_scalar}


def _jit_tree(func, done):
    """``func`` compiled by numba, with the plain Python functions it calls compiled too."""
    if func in done:
        return done[func]
    names = dict(func.__globals__)
    # numba's on-disk cache re-imports the module named here when it loads the kernel in
    # another process; a user's file may be loaded under any name, or none, so the compiled
    # copy names this module (what it compiles is fingerprinted, so nothing is lost).
    names["__name__"] = __name__
    for name in func.__code__.co_names:
        if isinstance(names.get(name), types.FunctionType):
            names[name] = _jit_tree(SCALAR_FORMS.get(names[name], names[name]), done)
    clone = types.FunctionType(func.__code__, names, func.__name__, func.__defaults__, func.__closure__)
    done[func] = numba.njit(clone)
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
    text = source(specs) + extracellular_source(specs)
    digest = hashlib.sha256(text.encode())
    digest.update(Path(__file__).read_bytes())
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


# -- extracellular layers (NEURON's `extracellular`) ----------------------------------------------
#: Probe kinds of the extracellular features (read by ``run_extracellular``, skipped by ``record``).
PROBE_I_MEMBRANE, PROBE_VEXT = 3, 4


@_jit
def solve_step_layer(k, dt, crank, parent, g_in, axial_diag, g_out, layer_diag, layer, gx, cx_over_dt, c_over_dt,
                     g_scale, v, vx, g, ge, acc, w, stim_nodes, stim_amp, e_now, e_old, imem, i_out, thresholds,
                     crossings, above, t, crossing):
    """One implicit step of a forest whose nodes may carry an extracellular layer.

    The unknowns of node ``i`` are ``vi`` (inside) and ``vx`` (the layer), with the blocks of
    :class:`hhcable.solver.LayerSolver` (``vx = e_now`` where there is no layer): a tree of
    symmetric 2 x 2 blocks coupled to the parent by ``diag(-g_in, -g_out)``.  Hines
    elimination with blocks: from the leaves, each node's block is inverted and its
    ``G A^-1 G`` and ``G A^-1 r`` go to its parent; then substitution from the roots.
    Updates ``v`` (membrane, mV) and ``vx`` in place (Crank–Nicolson: solved over dt/2 and
    extrapolated), fills the membrane current ``imem`` and the current into the medium
    ``i_out`` (nA), zeroes ``g``, ``ge`` and ``acc``, and copies ``e_now`` into ``e_old``.
    Returns ``(on_table, bad)`` as :func:`solve_step`.

    ``acc`` (5, n): what children add to a node's block and right-hand side; ``w`` (9, n):
    each node's inverse block, eliminated right-hand side, solution, and membrane load and
    right-hand side.
    """
    n = v.size
    for s in range(stim_nodes.size):
        acc[3, stim_nodes[s]] += stim_amp[k, s]
    for i in range(n - 1, -1, -1):
        dm = g[i] * g_scale[i] + c_over_dt[i]
        rm = ge[i] * g_scale[i] + v[i] * c_over_dt[i]
        g[i], ge[i] = 0.0, 0.0
        e = e_now[i]
        a = dm + axial_diag[i] + acc[0, i]
        r1 = rm + acc[3, i]
        if layer[i]:
            b = -dm + acc[1, i]
            c = dm + layer_diag[i] + gx[i] + cx_over_dt[i] + acc[2, i]
            r2 = -rm + gx[i] * e + cx_over_dt[i] * (e - e_old[i] + vx[i]) + acc[4, i]
        else:
            b, c = acc[1, i], 1.0 + acc[2, i]
            r1 += dm * e
            r2 = e + acc[4, i]
        for q in range(5):
            acc[q, i] = 0.0
        det = a * c - b * b
        i11, i12, i22 = c / det, -b / det, a / det
        y1 = i11 * r1 + i12 * r2
        y2 = i12 * r1 + i22 * r2
        w[0, i], w[1, i], w[2, i], w[3, i], w[4, i], w[7, i], w[8, i] = i11, i12, i22, y1, y2, dm, rm
        p = parent[i]
        if p >= 0:
            gi, go = g_in[i], g_out[i]
            acc[0, p] -= gi * gi * i11
            acc[1, p] -= gi * go * i12
            acc[2, p] -= go * go * i22
            acc[3, p] += gi * y1
            acc[4, p] += go * y2
    on_table = True
    bad = -1
    for i in range(n):
        p = parent[i]
        x1, x2 = w[3, i], w[4, i]
        if p >= 0:
            u1, u2 = g_in[i] * w[5, p], g_out[i] * w[6, p]
            x1 += w[0, i] * u1 + w[1, i] * u2
            x2 += w[1, i] * u1 + w[2, i] * u2
        w[5, i], w[6, i] = x1, x2
        vs = x1 - x2
        imem[i] = w[7, i] * vs - w[8, i]
        e = e_now[i]
        if layer[i]:
            i_out[i] = gx[i] * (x2 - e) + cx_over_dt[i] * (x2 - e - vx[i] + e_old[i])
            vx[i] = x2 * 2.0 - vx[i] if crank else x2
        else:
            i_out[i] = imem[i]
            vx[i] = x2
        e_old[i] = e
        vn = vs * 2.0 - v[i] if crank else vs
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
def applied_potential(k, src_node, src_w, src_col, src_amp, e_now):
    """The applied potential (mV) of step ``k`` at every node, into ``e_now``."""
    e_now[:] = 0.0
    for s in range(src_node.size):
        e_now[src_node[s]] += src_w[s] * src_amp[k, src_col[s]]


@_jit
def record_extracellular(k, imem, vx, i_out, traces, probe_kind, probe_node, out_node, out_w, out_col, out_traces):
    """Record membrane-current and layer probes and the extracellular recordings at sample ``k``."""
    for p in range(probe_kind.size):
        if probe_kind[p] == PROBE_I_MEMBRANE:
            traces[k, p] = imem[probe_node[p]]
        elif probe_kind[p] == PROBE_VEXT:
            traces[k, p] = vx[probe_node[p]]
    for c in range(out_traces.shape[1]):
        out_traces[k, c] = 0.0
    for s in range(out_node.size):
        out_traces[k, out_col[s]] += out_w[s] * i_out[out_node[s]]


def extracellular_source(specs):
    """Source of ``run_extracellular``, the run loop with extracellular layers, appended to
    the kernel module of :func:`source` (it calls that module's ``membrane`` and ``record``)."""
    group_args = ", ".join(f"{a}_{c}" for c in range(len(specs)) for a in _GROUP_ARGS)
    return f'''

from hhcable.kernels import applied_potential, record_extracellular, solve_step_layer


@numba.njit(cache=True)
def run_extracellular(first, last, dt, crank, parent, off, axial_diag, c_over_dt, g_scale, v, stim_nodes, stim_amp,
                      thresholds, crossings, above, t, rec_every, rec_start, rec_stop, rec_off, frames, probe_kind,
                      probe_cls, probe_row, probe_col, probe_node, traces, inv_dv, g_out, layer_diag, layer, gx,
                      cx_over_dt, vx, e_old, imem, i_out, src_node, src_w, src_col, src_amp, out_node, out_w, out_col,
                      out_traces, {group_args}):
    """Steps first..last-1 with extracellular layers (as ``run``; the layer's state is in the arrays)."""
    n = v.size
    g, ge = np.zeros(n), np.zeros(n)
    acc, w = np.zeros((5, n)), np.zeros((9, n))
    e_now = np.zeros(n)
    g_in = -off
    crossing = False
    for i in range(n):
        crossing |= not math.isnan(thresholds[i])
    membrane(v, dt, False, False, inv_dv, g, ge, {group_args})
    if first == 0:
        record(0, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node, {group_args})
        record_extracellular(0, imem, vx, i_out, traces, probe_kind, probe_node, out_node, out_w, out_col,
                             out_traces)
        record_frames(0, v, rec_every, rec_start, rec_stop, rec_off, frames)
    for k in range(first, last):
        applied_potential(k, src_node, src_w, src_col, src_amp, e_now)
        on_table, bad = solve_step_layer(k, dt, crank, parent, g_in, axial_diag, g_out, layer_diag, layer, gx,
                                         cx_over_dt, c_over_dt, g_scale, v, vx, g, ge, acc, w, stim_nodes, stim_amp,
                                         e_now, e_old, imem, i_out, thresholds, crossings, above, t, crossing)
        if bad >= 0:
            return k, bad
        membrane(v, dt, True, on_table, inv_dv, g, ge, {group_args})
        record(k + 1, v, traces, probe_kind, probe_cls, probe_row, probe_col, probe_node, {group_args})
        record_extracellular(k + 1, imem, vx, i_out, traces, probe_kind, probe_node, out_node, out_w, out_col,
                             out_traces)
        record_frames(k + 1, v, rec_every, rec_start, rec_stop, rec_off, frames)
    return -1, -1
'''
