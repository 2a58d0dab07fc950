"""Read, validate and write SWC morphology files.

An SWC file has one sample per line: ``id type x y z radius parent`` (µm, parent ``-1`` for
the root).  The reader accepts what real files contain: ``#`` comments (whole lines or after
the data), blank lines, LF, CRLF and CR-only line ends, a UTF-8 byte-order mark, bytes that
are not UTF-8 inside comments, ids that are not consecutive, parents listed after their
children, extra columns (ignored, with a warning) and any integer type code (1 soma, 2 axon,
3 basal dendrite, 4 apical dendrite; other codes are kept as they are).  Only regular files
are read (a FIFO or a device is refused, never waited on).

Hard errors raise :class:`hhcable.SWCError`, printed as ``file:line: message``: a line with
fewer than seven columns, a field that is not a number (or, for coordinates and radii, is
beyond :data:`MAX_FILE_VALUE`; for ids, types and parents, beyond :data:`MAX_FILE_INTEGER`),
text that is not UTF-8 (UTF-16, or a stray byte in the data), a duplicate id, a missing parent, a
sample that is its own parent, a cycle, more than one root, no samples, a negative radius
or one below :data:`MIN_FILE_RADIUS`,
and a branch (an unbranched run of one type) whose points all coincide: it has no membrane.

Soft problems are collected in :attr:`Morphology.warnings` (strings ``file:line: message``)
and also emitted as :class:`SWCWarning`: zero radii (raised to ``min_radius``, default
:data:`MIN_RADIUS_UM`), zero-length segments inside neurites, radii that change by more than
:data:`RADIUS_JUMP_RATIO` between a sample and its parent, type codes outside 0–4, and
sections removed because they have no membrane (a branch whose points coincide, as NEURON's
Import3d removes them).  The root section (the soma, or the first branch of a file without
one) must have length.

Soma and neurites
-----------------
Samples become sections exactly as NEURON's Import3d makes them (:mod:`hhcable.sections`,
figure in ``docs/soma.md``): a one-point soma is a sphere (a cylinder whose length is its
diameter), so is a NeuroMorpho three-point soma, and a soma of more points (a contour or a
chain of cylinders) is the frustums between them.  A neurite starts at its own first sample
and attaches to the soma's middle, ``soma(0.5)``, where Import3d attaches it; its length and
area count from its first sample, as in NeuroM and MorphIO.

The ``soma`` option:

``"auto"`` (default)
    As above.
``"sphere"``
    As ``"auto"``, but the file must have a one- or three-point soma.
``"cylinders"``
    A three-point soma is read as the two cylinders between its samples (NEURON does this
    when the three points do not meet NeuroMorpho's rule); a one-point soma is a sphere.

The representation used is :attr:`Morphology.soma`: ``"none"``, ``"sphere"``,
``"three-point"`` or ``"cylinders"``.  Every SWC id keeps a compartment
(``Location(swc_id=N)``).
"""

import math
import os
import re
import warnings

import networkx as nx
import numpy as np

from . import validate
from .discretize import discretize
from .errors import InputError, SWCError
from .morphology import REGIONS, Morphology

#: Radius (µm) given to samples whose radius is zero in the file.
MIN_RADIUS_UM = 0.05
#: A radius more than this many times its parent's (or less than 1/this) is reported.
RADIUS_JUMP_RATIO = 5.0
#: Type codes of the SWC standard (0 undefined, 1 soma, 2 axon, 3 basal, 4 apical).
STANDARD_TYPES = (0, 1, 2, 3, 4)
#: Names of the type codes: NeuroMorpho.Org's 0-4, and 5-7 of the original SWC
#: specification (Cannon et al. 1998), which skeletonising tools such as navis still write.
TYPE_NAMES = {0: "undefined", 1: "soma", 2: "axon", 3: "basal dendrite", 4: "apical dendrite",
              5: "fork point", 6: "end point", 7: "custom"}
SOMA_OPTIONS = ("auto", "sphere", "cylinders")
#: A median radius (µm) above this says the file is not in µm (neurites are a few µm thick).
NANOMETRE_MEDIAN_RADIUS_UM = 20.0
#: An extent (µm, bounding-box diagonal) above this says the same (5 cm: no neuron is that big).
NANOMETRE_EXTENT_UM = 50_000.0
#: µm per nm: the ``scale`` for files in nanometres.
UM_PER_NM = 1e-3
#: A segment length (µm) longer than any section: one segment each when only areas are wanted.
_WHOLE_SECTIONS = 1e12
_COLUMNS = ("id", "type", "x", "y", "z", "radius", "parent")
#: Largest coordinate or radius accepted, in file units: a kilometre in µm, a metre in nm.
#: Larger values are no reconstruction's and would overflow areas and lengths.
MAX_FILE_VALUE = 1e9
#: Smallest radius other than 0 accepted, in file units (a picometre in µm): smaller ones
#: would overflow axial resistances.
MIN_FILE_RADIUS = 1e-6
#: Largest id, type code or parent accepted: beyond 2**53 a number read as a float is no
#: longer a whole number exactly.
MAX_FILE_INTEGER = 2**53
#: A number as SWC files write it (ASCII digits, optional sign, point and exponent).
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_LINE_END = re.compile(r"\r\n|\r|\n")
#: Byte-order marks of the encodings an SWC file must not be in, and their names.
_OTHER_BOMS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"),
               (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16"))
_SOMA = REGIONS["soma"]


class SWCWarning(UserWarning):
    """A soft problem in an SWC file (the file still loads)."""


def read_swc(source, scale=1.0, soma="auto", min_radius=MIN_RADIUS_UM):
    """Load a morphology from an SWC file.

    Parameters
    ----------
    source : str, os.PathLike or file-like
        A path, or an open text or binary stream.  Use :func:`parse_swc` for SWC text.
    scale : float, µm per file unit
        Multiplies coordinates and radii (1e-3 for files in nanometres).
    soma : {"auto", "sphere", "cylinders"}
        Soma convention (see the module docstring).
    min_radius : float, µm
        Radius given to samples whose radius is zero.

    Returns
    -------
    Morphology
        Its ``name`` is the source, ``soma`` the soma representation and ``warnings`` the
        soft problems found.

    Raises
    ------
    SWCError
        For a malformed file; the message names the file and line.
    """
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "<stream>"))
        try:
            data = source.read()
        except (OSError, UnicodeDecodeError) as err:
            raise SWCError(f"cannot read the stream: {err}", source=name) from None
    else:
        try:
            data = validate.read_file(source, "an SWC file")
        except InputError as err:
            raise SWCError(err.message, source=err.source) from None
        name = os.fspath(source)
    return parse_swc(_decode(data, name), source=name, scale=scale, soma=soma, min_radius=min_radius)


def _decode(data, source):
    """The text of an SWC file's bytes: UTF-8 (ASCII), with or without a byte-order mark.

    Bytes that are not UTF-8 are kept as lone surrogates (``surrogateescape``) so that a
    comment in Latin-1 does not stop the file; in a sample line they are an error
    (:func:`_parse_rows`).
    """
    if isinstance(data, str):
        return data
    for bom, encoding in _OTHER_BOMS:
        if data.startswith(bom):
            raise SWCError(f"the file is {encoding} text; save it as UTF-8 or ASCII", source=source)
    if b"\0" in data:
        at = data.index(b"\0")
        raise SWCError("NUL byte in the file: it is binary, or UTF-16/32 text; save it as UTF-8 or ASCII",
                       source=source, line=len(_LINE_END.findall(data[:at].decode("latin-1"))) + 1)
    return data.decode("utf-8", errors="surrogateescape")


def _number(token, column, source, line):
    """The value of field ``column`` (0-based) of a sample line, checked."""
    what = f"column {column + 1} ({_COLUMNS[column]})"
    if not _NUMBER.fullmatch(token):
        try:
            finite = math.isfinite(float(token))
        except ValueError:
            finite = True
        words = "is not a number" if finite else "is not a finite number"
        raise SWCError(f"{what} {words}: {validate.printable(token)!r}", source=source, line=line)
    integer = column in (0, 1, 6)
    value = int(token) if integer and token.lstrip("+-").isdigit() else float(token)  # exact if it can be
    limit = MAX_FILE_INTEGER if integer else MAX_FILE_VALUE
    if isinstance(value, float) and not math.isfinite(value):
        raise SWCError(f"{what} is not a finite number: {token!r}", source=source, line=line)
    if abs(value) > limit:
        raise SWCError(f"{what} is {token}, beyond ±{'2**53' if integer else f'{limit:.0e}'}, more than any "
                       "reconstruction holds (is the file in other units, or corrupt?)", source=source, line=line)
    if integer:
        if value != int(value):
            raise SWCError(f"{what} must be a whole number, got {token!r}", source=source, line=line)
        return int(value)
    return value


def _parse_rows(text, source):
    """Rows ``(line, id, type, x, y, z, r, parent)`` and the soft problems found on the way."""
    rows, notes, extra = [], [], []
    if isinstance(text, (bytes, bytearray)):
        text = _decode(bytes(text), source)
    if not isinstance(text, str):
        raise SWCError(f"expected SWC text, got {type(text).__name__}", source=source)
    if text.startswith("\ufeff"):  # a UTF-8 byte-order mark
        text = text[1:]
    for line, raw in enumerate(_LINE_END.split(text), start=1):  # as editors count lines
        data = raw.split("#", 1)[0]
        fields = data.split()
        if not fields:
            continue
        stray = next((c for c in data if "\udc80" <= c <= "\udcff"), None)  # from _decode
        if stray is not None:
            raise SWCError(f"byte 0x{ord(stray) - 0xdc00:02x} is not UTF-8 text; save the file as UTF-8 "
                           "or ASCII", source=source, line=line)
        if len(fields) < len(_COLUMNS):
            raise SWCError(f"expected 7 columns (id type x y z radius parent), found {len(fields)}",
                           source=source, line=line)
        if len(fields) > len(_COLUMNS):
            extra.append(line)
        values = [_number(tok, c, source, line) for c, tok in enumerate(fields[:len(_COLUMNS)])]
        sample = values[0]
        if sample < 0:
            raise SWCError(f"sample id must be >= 0, got {sample}", source=source, line=line, sample=sample)
        if values[5] < 0:
            raise SWCError(f"sample {sample} has a negative radius ({values[5]})",
                           source=source, line=line, sample=sample)
        if 0 < values[5] < MIN_FILE_RADIUS:
            raise SWCError(f"sample {sample} has a radius of {values[5]:g}, below {MIN_FILE_RADIUS:g} file units; "
                           "write 0 for an unknown radius", source=source, line=line, sample=sample)
        if values[6] < -1:
            raise SWCError(f"sample {sample} has parent {values[6]}; use -1 for the root",
                           source=source, line=line, sample=sample)
        rows.append((line, *values))
    if extra:
        notes.append((extra[0], f"columns after the 7th are ignored (on {len(extra)} line(s))"))
    if not rows:
        raise SWCError("no samples found", source=source)
    return rows, notes


def _check_tree(rows, source):
    """Check ids and parents; return ``{id: row}`` and the root id."""
    by_id, root = {}, None
    for row in rows:
        line, sample, parent = row[0], row[1], row[7]
        if sample in by_id:
            raise SWCError(f"duplicate sample id {sample} (first on line {by_id[sample][0]})",
                           source=source, line=line, sample=sample)
        if parent == sample:
            raise SWCError(f"sample {sample} is its own parent", source=source, line=line, sample=sample)
        by_id[sample] = row
    for row in rows:
        line, sample, parent = row[0], row[1], row[7]
        if parent == -1:
            if root is not None:
                raise SWCError(f"sample {sample} is a second root (parent -1; the first is sample {root}); "
                               "a morphology must be one tree", source=source, line=line, sample=sample)
            root = sample
        elif parent not in by_id:
            raise SWCError(f"sample {sample} refers to missing parent {parent}",
                           source=source, line=line, sample=sample)
    children = {}
    for row in rows:
        children.setdefault(row[7], []).append(row[1])
    reached = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        reached.add(node)
        stack.extend(children.get(node, ()))
    if len(reached) < len(rows):
        start = next(row[1] for row in rows if row[1] not in reached)
        seen = []
        while start not in seen:
            seen.append(start)
            start = by_id[start][7]
        cycle = seen[seen.index(start):]
        first = min(cycle, key=lambda s: by_id[s][0])
        loop = " -> ".join(str(s) for s in cycle + [cycle[0]])
        raise SWCError(f"sample {first} is on a cycle of parents ({loop})",
                       source=source, line=by_id[first][0], sample=first)
    return by_id, root


def parse_swc(text, source="<string>", scale=1.0, soma="auto", min_radius=MIN_RADIUS_UM):
    """Load a morphology from SWC text; parameters as :func:`read_swc`.

    Examples
    --------
    >>> m = parse_swc("1 1 0 0 0 5 -1\\n2 3 0 5 0 1 1\\n3 3 0 50 0 1 2\\n")
    >>> m.soma, [(s.name, s.parent_x) for s in m.sections]
    ('sphere', [('soma[0]', 1.0), ('dend[0]', 0.5)])
    """
    if soma not in SOMA_OPTIONS:
        raise InputError(f"unknown soma convention {soma!r}; use one of {SOMA_OPTIONS}", key="soma")
    validate.real(scale, "scale", validate.SCALE)
    validate.real(min_radius, "min_radius", validate.LENGTH_UM, positive=True)
    rows, notes = _parse_rows(text, source)
    by_id, root = _check_tree(rows, source)

    graph = nx.DiGraph()
    for line, sample, kind, x, y, z, r, parent in rows:
        graph.add_node(sample, x=x * scale, y=y * scale, z=z * scale, radius=r * scale, type=kind, line=line)
    graph.add_edges_from((row[7], row[1]) for row in rows if row[7] != -1)
    notes += _soft_problems(graph, rows, min_radius)

    if graph.number_of_nodes() < 2 and rows[0][2] != _SOMA:
        raise SWCError("a morphology needs at least two samples (or a one-point soma)",
                       source=source, line=rows[0][0], sample=root)
    try:
        morph = Morphology(graph, name=source, three_point_sphere=soma != "cylinders")
    except InputError as err:  # the checks above should leave nothing; keep the promise anyway
        raise SWCError(err.message, source=source) from None
    if soma == "sphere" and morph.soma not in ("sphere", "three-point"):
        soma_samples = morph.region("soma")
        raise SWCError(f"soma='sphere' needs a one- or three-point soma; this soma has {len(soma_samples)} "
                       "points that are not NeuroMorpho's three-point soma (use soma='auto')", source=source,
                       line=by_id[soma_samples[0]][0] if soma_samples else None)
    first = morph.sections[0]
    if not first.length > 0:
        end = first.samples[-1]
        raise SWCError(f"the root section ending at sample {end} has zero length (its points coincide), so "
                       "it has no membrane to simulate", source=source, line=by_id[end][0], sample=end)
    for end, why in morph.sectioning.removed:
        notes.append((by_id[end][0], f"the branch ending at sample {end} has {why} once joined to its parent, "
                                     "so no membrane: removed, as NEURON's Import3d removes it"))
    messages = [f"{source}:{line}: {message}" for line, message in sorted(notes)]
    for message in messages:
        warnings.warn(message, SWCWarning, stacklevel=3)
    morph.warnings = messages
    return morph


def _soft_problems(graph, rows, min_radius):
    """Floor zero radii and list ``(line, message)`` for soft problems."""
    notes = []
    zero = [row for row in rows if row[6] == 0]
    for row in zero:
        graph.nodes[row[1]]["radius"] = min_radius
    if zero:
        notes.append((zero[0][0], f"{len(zero)} sample(s) have radius 0 (first: sample {zero[0][1]}); "
                                  f"set to {min_radius} µm"))
    flat, jumps = [], []
    by_radius = {row[1]: row[6] for row in rows}
    for line, sample, kind, *_, parent in rows:
        if parent == -1:
            continue
        a, b = graph.nodes[parent], graph.nodes[sample]
        # A neurite that starts at a soma sample's position is joined to it only electrically.
        starts_at_soma = a["type"] == _SOMA and b["type"] != _SOMA
        if (a["x"], a["y"], a["z"]) == (b["x"], b["y"], b["z"]) and not starts_at_soma:
            flat.append((line, sample, parent))
        ratio = b["radius"] / a["radius"]
        floored = 0 in (by_radius[sample], by_radius[parent])
        in_range = 1 / RADIUS_JUMP_RATIO <= ratio <= RADIUS_JUMP_RATIO
        if not floored and _SOMA not in (a["type"], b["type"]) and not in_range:
            jumps.append((line, sample, parent, ratio))
    if flat:
        line, sample, parent = flat[0]
        notes.append((line, f"{len(flat)} zero-length segment(s) (first: sample {sample} sits on its parent "
                            f"{parent})"))
    if jumps:
        line, sample, parent, ratio = jumps[0]
        notes.append((line, f"{len(jumps)} radius jump(s) over {RADIUS_JUMP_RATIO:g}x (first: sample {sample} "
                            f"has {ratio:.3g} times the radius of its parent {parent})"))
    codes = {}
    for row in rows:
        if row[2] not in STANDARD_TYPES:
            codes.setdefault(row[2], []).append(row[0])
    for code, lines in sorted(codes.items()):
        notes.append((lines[0], f"type code {code} is not a standard SWC type (0-4); kept as a custom "
                                f"region ({len(lines)} sample(s))"))
    return notes


def write_swc(morphology, dest):
    """Write a morphology as SWC (µm), parents before children (depth-first).

    Loading the result with the same ``soma`` option gives back the same tree; NEURON's
    Import3d reads it as the same sections when the ids grow from parent to child (as they
    do in files written by the builders of :class:`~hhcable.Morphology`).

    Parameters
    ----------
    morphology : Morphology
    dest : str, os.PathLike or text stream
    """
    g = morphology.graph
    lines = [f"# written by hhcable from {morphology.name}",
             f"# units: µm; soma: {morphology.soma}",
             "# id type x y z radius parent"]
    for sample in nx.dfs_preorder_nodes(g, morphology.root):
        d = g.nodes[sample]
        parent = morphology.parent(sample)
        lines.append(f"{sample} {d['type']} {d['x']!r} {d['y']!r} {d['z']!r} {d['radius']!r} "
                     f"{-1 if parent is None else parent}")
    text = "\n".join(lines) + "\n"
    if hasattr(dest, "write"):
        dest.write(text)
    else:
        with open(dest, "w", encoding="utf-8") as f:
            f.write(text)


def type_name(code):
    """The name of an SWC type code (``"basal dendrite"`` for 3, ``"custom type 12"`` for 12)."""
    return TYPE_NAMES.get(code, f"custom type {code}")


def _neurite_sections(morphology):
    """Samples that start a neurite section as NeuroM counts them: a neurite's first sample
    and every child of a branch point (soma excluded)."""
    g = morphology.graph
    starts = []
    for s, d in g.nodes(data="type"):
        if d == _SOMA:
            continue
        p = morphology.parent(s)
        if p is None:
            if g.out_degree(s) == 1:
                starts.append(s)
        elif g.nodes[p]["type"] == _SOMA or g.out_degree(p) >= 2:
            starts.append(s)
    return starts


def units_hint(morphology):
    """A sentence saying the file looks like nanometres read as µm, or None.

    Neurites are a few µm thick and no neuron spans 5 cm: a median radius over
    :data:`NANOMETRE_MEDIAN_RADIUS_UM` or an extent over :data:`NANOMETRE_EXTENT_UM` means
    the coordinates are in smaller units (EM skeletons are usually in nm).
    """
    g = morphology.graph
    xyz = np.array([(d["x"], d["y"], d["z"]) for _, d in g.nodes(data=True)])
    radius = float(np.median([d for _, d in g.nodes(data="radius")]))
    extent = float(np.linalg.norm(xyz.max(axis=0) - xyz.min(axis=0)))
    if radius > NANOMETRE_MEDIAN_RADIUS_UM or extent > NANOMETRE_EXTENT_UM:
        return (f"sizes look like nanometres read as µm (median radius {radius:.3g} µm, extent "
                f"{extent / 1000:.3g} mm); load with scale={UM_PER_NM:g} (hhcable swc-info --scale {UM_PER_NM:g})")
    return None


def summary(morphology):
    """Counts and sizes of a morphology, as ``hhcable swc-info --json`` prints them.

    Counted as NeuroM counts them, the soma excluded: ``n_sections`` (neurite sections,
    from a neurite's first sample or a branch point to the next branch point or tip),
    ``n_branch_points`` (neurite samples with two or more children), ``n_tips`` and
    ``neurite_length_um`` (the sum of the segments between neurite samples: a neurite's
    length starts at its first sample, not at the soma), also per type in
    ``length_by_type_um``.  ``n_neuron_sections`` is the number of sections NEURON's
    Import3d makes (what is simulated, soma included); ``area_um2`` the membrane area of
    all of them.  ``units_hint`` is :func:`units_hint`'s sentence or None.

    Returns
    -------
    dict
    """
    g = morphology.graph
    types, lengths = {}, {}
    for s, code in g.nodes(data="type"):
        types[code] = types.get(code, 0) + 1
        p = morphology.parent(s)
        if code != _SOMA and p is not None and g.nodes[p]["type"] != _SOMA:
            lengths[code] = lengths.get(code, 0.0) + morphology.segment_length(s)
    hint = units_hint(morphology)
    warnings_ = list(morphology.warnings) + ([f"{morphology.name}: {hint}"] if hint else [])
    return {
        "source": morphology.name,
        "n_samples": g.number_of_nodes(),
        "n_sections": len(_neurite_sections(morphology)),
        "n_neuron_sections": len(morphology.sections),
        "n_branch_points": sum(1 for s, d in g.nodes(data="type") if d != _SOMA and g.out_degree(s) >= 2),
        "n_tips": len(morphology.tips()),
        "soma": morphology.soma,
        "types": {str(k): types[k] for k in sorted(types)},
        "type_names": {str(k): type_name(k) for k in sorted(types)},
        "neurite_length_um": float(sum(lengths.values())),
        "length_by_type_um": {str(k): float(lengths[k]) for k in sorted(lengths)},
        "area_um2": float(discretize(morphology, Ra=1.0, cm=1.0, max_segment=_WHOLE_SECTIONS).area.sum()),
        "units_hint": hint,
        "warnings": warnings_,
    }


def format_summary(info):
    """Human-readable lines for :func:`summary`'s dict."""
    names = info["type_names"]
    lines = [f"{info['source']}: {info['n_samples']} samples; soma: {info['soma']}",
             "types: " + ", ".join(f"{names[k]} ({k}): {v}" for k, v in info["types"].items()),
             f"neurites: {info['n_sections']} sections, {info['n_branch_points']} branch points, "
             f"{info['n_tips']} tips, length {info['neurite_length_um']:.1f} µm"
             + "".join(f"; {names[k]} {v:.1f} µm" for k, v in info["length_by_type_um"].items()),
             f"as NEURON's Import3d builds it: {info['n_neuron_sections']} sections, membrane area "
             f"{info['area_um2']:.1f} µm²"]
    lines += [f"warning: {w}" for w in info["warnings"]]
    return "\n".join(lines)
