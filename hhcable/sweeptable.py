"""The table of a sweep: one row per model, written chunk by chunk, never half-written.

A sweep's table is a folder of Parquet files, ``part-00000.parquet``, one per chunk, each
written to a hidden temporary file and moved into place whole, and ``_sweep.json`` saying
which sweep it holds (a fingerprint of the description, the chunk size).  Tools that read
Parquet folders (pyarrow, pandas, polars, DuckDB, Spark) read it as one table and skip both
the ``_`` and ``.`` files.  A sweep written as CSV keeps the same folder in ``FILE.csv.parts``
and writes ``FILE.csv`` (all rows, by model) once every chunk is in.
"""

import json
import os
import re
import tempfile
from pathlib import Path

from .errors import HHCableError, InputError

MANIFEST = "_sweep.json"
FORMAT = 1
#: Column suffixes of model-file keys and measures -> their unit (for axis labels).
UNIT_SUFFIXES = (("_m_s", "m/s"), ("_uF_cm2", "µF/cm²"), ("_ohm_cm", "Ω·cm"), ("_um", "µm"), ("_ms", "ms"),
                 ("_mV", "mV"), ("_nA", "nA"), ("_MB", "MB"), ("_s", "s"), ("celsius", "°C"))


def _arrow():
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise HHCableError("sweep tables need pyarrow: pip install \"hhcable[sweep]\"") from None
    return pyarrow


def schema(columns):
    """The Arrow schema of a sweep table from ``Sweep.columns()``."""
    pa = _arrow()
    types = {"float": pa.float64(), "int": pa.int64(), "str": pa.string(), "bool": pa.bool_(),
             "list": pa.list_(pa.float64())}
    return pa.schema([(name, types[kind]) for name, kind in columns.items()])


class Store:
    """The folder of a sweep's table: which chunks are written, and writing one more.

    Parameters
    ----------
    out : str or Path
        A Parquet folder, or a ``.csv`` file (its chunks in ``out.parts``).
    spec : Sweep

    Attributes
    ----------
    size : int or None
        Models per chunk of the table being resumed; None for a new table (see :meth:`create`).

    Raises
    ------
    InputError
        The output's folder is missing, or ``out`` holds something else than this sweep.
    """

    def __init__(self, out, spec):
        self.out = Path(out)
        self.csv = self.out.suffix.lower() == ".csv"
        self.folder = self.out.with_name(self.out.name + ".parts") if self.csv else self.out
        parent = self.out.parent if str(self.out.parent) else Path(".")
        if not parent.is_dir():
            raise InputError(f"folder {parent} does not exist", source=str(out))
        self.spec, self.schema, self.size = spec, schema(spec.columns()), None
        self.fingerprint = spec.fingerprint()
        manifest = self.folder / MANIFEST
        if manifest.is_file():
            try:
                info = json.loads(manifest.read_text())
                same = info["format"] == FORMAT and info["fingerprint"] == self.fingerprint
                size = int(info["chunk_size"])
            except (OSError, ValueError, KeyError, TypeError):
                raise InputError(f"{manifest} is unreadable; remove {self.folder} to start again",
                                 source=str(out)) from None
            if not same:
                raise InputError(f"holds the table of a different sweep ({info.get('source')}, or one changed "
                                 "since); remove it or choose another output", source=str(self.folder))
            self._use(size)
            for stale in self.folder.glob(".*.tmp"):  # a write cut short by a crash
                stale.unlink()
        elif self.folder.exists() and (not self.folder.is_dir() or any(self.folder.iterdir())):
            raise InputError("exists and is not a sweep table; remove it or choose another output",
                             source=str(self.folder))

    def create(self, size):
        """Start a new table of ``size`` models per chunk: the folder and its manifest."""
        self.folder.mkdir(exist_ok=True)
        _atomic(self.folder / MANIFEST, json.dumps({
            "format": FORMAT, "fingerprint": self.fingerprint, "source": self.spec.source,
            "n_models": self.spec.n_models, "chunk_size": size, "columns": self.spec.columns()},
            indent=1).encode())
        self._use(size)

    def _use(self, size):
        self.size = size
        self.n_chunks = -(-self.spec.n_models // size)
        self.width = max(5, len(str(self.n_chunks - 1)))

    def missing(self):
        """The chunks not written yet, in order."""
        done = self.done()
        return [c for c in range(self.n_chunks) if c not in done]

    def models(self, chunk):
        """``(index, values)`` of the models of a chunk."""
        first = chunk * self.size
        return [(i, self.spec.point(i)) for i in range(first, min(first + self.size, self.spec.n_models))]

    def path(self, chunk):
        return self.folder / f"part-{chunk:0{self.width}d}.parquet"

    def done(self):
        """The chunks already written."""
        pattern = re.compile(rf"part-(\d{{{self.width}}})\.parquet$")
        return {int(m.group(1)) for p in self.folder.iterdir() if (m := pattern.match(p.name))}

    def write(self, chunk, rows):
        """Write a chunk's rows (dicts) whole, or not at all."""
        import pyarrow.parquet as pq

        table = _arrow().Table.from_pylist(sorted(rows, key=lambda r: r["model"]), schema=self.schema)
        _atomic(self.path(chunk), lambda fh: pq.write_table(table, fh))

    def finish(self):
        """The whole table (by model); for a CSV output, also written to the CSV file."""
        table = read(self.folder)
        if self.csv and len(self.done()) == self.n_chunks:
            write_csv(table, self.out)
        return table


def _atomic(path, content):
    """Write ``content`` (bytes, or a function of a binary file) to a hidden file, then move it to ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            content(fh) if callable(content) else fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def read(path):
    """A sweep's table (``pyarrow.Table``, rows by model) from its Parquet folder or CSV output.

    ``pandas.read_parquet(path)`` reads the same folder, when pandas is installed.
    """
    import pyarrow.parquet as pq

    _arrow()
    path = Path(path)
    folder = path.with_name(path.name + ".parts") if path.suffix.lower() == ".csv" else path
    if not (folder / MANIFEST).is_file():
        raise InputError("not a sweep table (no _sweep.json)", source=str(folder))
    return pq.read_table(folder).sort_by("model")


def write_csv(table, path):
    """Write a sweep table as CSV (lists of spike times as space-separated numbers), whole or not at all."""
    import pyarrow.csv

    pa = _arrow()
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type):
            text = [None if v is None else " ".join(repr(x) for x in v) for v in table.column(i).to_pylist()]
            table = table.set_column(i, field.name, pa.array(text, pa.string()))
    _atomic(path, lambda fh: pyarrow.csv.write_csv(table, fh))


def unit(column, units=None):
    """The unit of a column: from ``units`` (``Sweep.units``), else from its name's suffix; ``"1"`` if none."""
    if units and column in units:
        return units[column]
    return next((u for suffix, u in UNIT_SUFFIXES if column.endswith(suffix)), "1")


def label(column, units=None):
    """Axis label of a column with its unit: ``"morphology.cable.diam_um (µm)"``."""
    return f"{column} ({unit(column, units)})"


def plot(table, x, y, by=None, units=None, ax=None):
    """``y`` against ``x``, one line per value of ``by``: the summary figure of a sweep.

    Where other parameters vary as well, each model is a faint dot and the line joins the
    means at each ``x``.

    Parameters
    ----------
    table : pyarrow.Table
        A sweep's table (:func:`read`); error rows are left out.
    x, y : str
        Numeric columns.
    by : str, optional
        A column whose values get one line (and colour) each.
    units : dict, optional
        Units of columns whose name does not say it (``Sweep.units``).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib
    import numpy as np

    from .plotting import _axes

    rows = [r for r in table.to_pylist() if r["error"] is None and r[y] is not None]
    ax = _axes(ax, figsize=(6, 4))
    groups = sorted({r[by] for r in rows}) if by else [None]
    cmap = matplotlib.colormaps["viridis"]
    for k, value in enumerate(groups):
        xs, ys = np.array([(r[x], r[y]) for r in rows if by is None or r[by] == value], dtype=float).reshape(-1, 2).T
        color = None if len(groups) < 2 else cmap(k / (len(groups) - 1))
        name = None if by is None else f"{by} = {value:.3g} {unit(by, units)}" if isinstance(value, float) \
            else f"{by} = {value}"
        at = np.unique(xs)
        if len(at) < len(xs):  # other parameters vary too: every model as a dot, the mean as the line
            ax.plot(xs, ys, "o", color=color, ms=3, alpha=0.4)
        ax.plot(at, [ys[xs == a].mean() for a in at], "o-", color=color, ms=4, label=name)
    ax.set_xlabel(label(x, units))
    ax.set_ylabel(label(y, units))
    if by is not None:
        ax.legend(frameon=False, fontsize="small")
    return ax.figure  # laid out by its constrained layout (plotting's axes)
