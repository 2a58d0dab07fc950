"""Sweeps: thousands of models from one description, on every core or on a Dask cluster.

A sweep file (see :mod:`hhcable.sweepspec`) names a base model, the keys to vary and the
measures to keep.  :func:`sweep` packs the models into chunks of seconds of work, runs each
chunk as one :class:`~hhcable.Batch` on a ``dask.distributed`` worker (a local cluster of
processes, one per core, unless a scheduler or client is given), and writes each chunk's
rows to the table as it arrives (:mod:`hhcable.sweeptable`), so an interrupted sweep started
again with the same command runs only what is missing.  A model that cannot be built or
blows up is a row with its error; a chunk whose worker dies is run again elsewhere.

Needs the ``sweep`` extra: ``pip install "hhcable[sweep]"`` (dask[distributed], pyarrow).
Workers read the base model's SWC and channel files from the same paths: a local cluster
does; a remote cluster needs them on a shared file system.
"""

import dataclasses
import itertools
import math
import os
import pickle
import sys
import time
from contextlib import contextmanager

import numpy as np

from . import sweepspec, sweeptable
from .analysis import spike_times
from .batch import Batch
from .errors import HHCableError, InputError
from .modelfile import summarize

#: Work per chunk (s) the chunk size aims at: long against Dask's per-task overhead (~ms),
#: short enough that a lost worker costs little and the progress bar moves.
CHUNK_SECONDS = 2.0
#: Time per chunk (s) of the central processes: the scheduler's per task (~1 ms, Dask's docs)
#: and this process writing the chunk's file (1-4 ms, benchmarks/sweep.py).  On a large cluster
#: chunks are made long enough that these keep the central processes at most CENTRAL_BUSY busy.
CENTRAL_S_PER_CHUNK, CENTRAL_BUSY = 0.005, 0.5
#: Memory per chunk (bytes) it may not exceed.
CHUNK_BYTES = 1e9
#: Memory per node of a model in a batch (bytes): state, solver, cell arrays (generous).
BYTES_PER_NODE = 1000
#: Cost of one node-step (ns) by backend, from benchmarks/run.py (rounded up).
NS_PER_NODE_STEP = {"numba": 25.0, "numpy": 80.0}
NS_PER_S = 1e9
#: At least this many chunks where there are enough models, and this many per worker, so that
#: every worker gets work and the last round of chunks leaves few idle.
MIN_CHUNKS, CHUNKS_PER_WORKER = 16, 4
#: Chunks submitted to Dask ahead of the results, per worker.
IN_FLIGHT_PER_WORKER = 2
#: Seconds between two progress lines when stderr is not a terminal.
PROGRESS_EVERY_S = 5.0


def sweep(description, out, *, client=None, scheduler=None, workers=None, progress=True):
    """Run a sweep and write its table; the whole table (a ``pyarrow.Table``, by model).

    Parameters
    ----------
    description : str, Path or dict
        A sweep file (TOML), or its tables as a dict.
    out : str or Path
        The table: a Parquet folder (one file per chunk; ``pandas.read_parquet(out)`` reads it
        whole) or, for a name ending in ``.csv``, a CSV file (its chunks kept in ``out.parts``).
        Started again with the same description, the sweep runs only the missing chunks.
    client : distributed.Client, optional
        Run on this cluster.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://HOST:PORT``) to run on.
    workers : int, optional
        Worker processes of the local cluster made otherwise (default: one per core); ``0``
        runs the chunks here, one after another, without Dask.
    progress : bool
        Show chunks done and the time left on stderr.

    Raises
    ------
    InputError
        A bad description or output (naming the file and key).
    HHCableError
        Chunks that could not be run (their workers died again and again): rerun to retry.
    """
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise InputError(f"must be a number of processes >= 0, got {workers!r}", key="workers")
    spec = sweepspec.load(description)
    store = sweeptable.Store(out, spec)
    if store.size is not None and not store.missing():
        return store.finish()  # nothing left to run: no cluster started
    light = dataclasses.replace(spec, grids=[], draws={})  # what a worker needs besides its models
    failed = []
    with _runner(client, scheduler, workers) as (submit, threads):
        if store.size is None:
            store.create(chunk_size(spec, threads))
        chunks = store.missing()
        bar = Progress(store.n_chunks, store.n_chunks - len(chunks), sys.stderr) if progress else None
        for c, outcome in submit(run_chunk, ((light, c, store.models(c)) for c in chunks)):
            if isinstance(outcome, BaseException):
                failed.append(f"chunk {c}: {type(outcome).__name__}: {outcome}")
            else:
                store.write(c, outcome)
            if bar:
                bar.update(errors=0 if isinstance(outcome, BaseException) else sum(r["error"] is not None
                                                                                   for r in outcome))
        if bar:
            bar.close()
    if failed:
        raise HHCableError(f"{len(failed)} of {store.n_chunks} chunks could not be run ({failed[0]}); "
                           "the others are written: run the same sweep again to retry")
    return store.finish()


def chunk_size(spec, threads=1):
    """Models per chunk, from the size of a few of the models.

    ``CHUNK_SECONDS`` of work (longer on a cluster of many ``threads``, see
    ``CENTRAL_S_PER_CHUNK``) within ``CHUNK_BYTES``, and at least ``MIN_CHUNKS`` chunks and
    ``CHUNKS_PER_WORKER`` for each worker.
    """
    if spec.chunk_size:
        return spec.chunk_size
    n = spec.n_models
    backend = spec.backend if spec.backend != "auto" else ("numba" if _have_numba() else "numpy")
    runs = 1 + (_bisection_runs(spec.threshold) if spec.threshold else 0)
    cost, memory = [], []
    for i in np.unique(np.linspace(0, n - 1, min(n, 8)).astype(int)):
        try:
            model = sweepspec.build_model(spec, spec.point(int(i)))
        except Exception:  # noqa: BLE001 - a bad model is cheap: it becomes an error row
            continue
        nodes, steps = model.simulation.cell.compartments.n_nodes, int(round(model.tstop / model.simulation.dt))
        cost.append(nodes * steps * NS_PER_NODE_STEP[backend] / NS_PER_S * runs)
        memory.append(nodes * BYTES_PER_NODE + model.simulation.record_bytes(steps))
    spread = math.ceil(n / max(MIN_CHUNKS, CHUNKS_PER_WORKER * threads))
    if not cost:
        return max(1, spread)
    seconds = max(CHUNK_SECONDS, threads * CENTRAL_S_PER_CHUNK / CENTRAL_BUSY)
    return max(1, min(int(seconds / max(cost)), int(CHUNK_BYTES / max(memory)), spread))


def _have_numba():
    from . import kernels

    return kernels.AVAILABLE


def run_chunk(spec, chunk, models):
    """Run one chunk of a sweep: its rows (dicts), one per model, in order.

    The models are built from the description and stepped as one :class:`~hhcable.Batch` per
    time step, method and duration.  When a batch blows up, its models are run one by one, so
    only the bad ones become error rows.

    Parameters
    ----------
    spec : Sweep
    chunk : int
    models : list of (int, dict)
        Each model's index in the sweep and its values.
    """
    start = time.perf_counter()
    rows, built = [], []
    for index, point in models:
        row = {"model": index, "chunk": chunk, **point, "error": None}
        rows.append(row)
        try:
            built.append((row, point, sweepspec.build_model(spec, point)))
        except Exception as err:  # noqa: BLE001 - any failure of one model is its row's error
            row["error"] = describe(err)
    outcomes = run_models([model for _, _, model in built], spec.backend)
    ran = []
    for (row, point, model), result in zip(built, outcomes):
        if isinstance(result, Exception):
            row["error"] = describe(result)
            continue
        try:
            summary = summarize(result, model.velocity, spec.probes)
        except Exception as err:  # noqa: BLE001 - e.g. a velocity fit of absurd numbers
            row["error"] = describe(err)
            continue
        row.update(measures(spec, summary), n_compartments=summary["n_compartments"], backend=summary["backend"])
        ran.append((row, point, model))
    if spec.threshold:
        for (row, _, _), (value, error) in zip(ran, thresholds(spec, [point for _, point, _ in ran])):
            row["threshold_nA"] = value
            row["error"] = error
    # The chunk's time, shared by the models in proportion to their node-steps.
    work = [m.simulation.cell.compartments.n_nodes * m.tstop / m.simulation.dt for _, _, m in built]
    wall = time.perf_counter() - start
    for (row, _, _), w in zip(built, work):
        row["wall_s"] = wall * w / sum(work)
    return rows


def describe(err):
    """One line for an error row: ``"SimulationError: the voltage stopped..."``."""
    return " ".join(f"{type(err).__name__}: {err}".split())


def measures(spec, summary):
    """A model's measure columns from its run summary (:func:`hhcable.modelfile.summarize`)."""
    row = {}
    if "velocity" in spec.measures:
        row["cv_m_s"] = summary["velocity"]["cv_m_s"]
    for probe in spec.probes:
        for name in spec.measures:
            if name in sweepspec.PROBE_MEASURES:
                column, _, value = sweepspec.PROBE_MEASURES[name]
                row[f"{probe}.{column}"] = value(summary["probes"][probe])
    return row


def run_models(models, backend):
    """Run models (:class:`~hhcable.modelfile.Model`), batched by dt, method and tstop.

    Returns, per model, its :class:`~hhcable.Result` or the exception that stopped it.
    """
    out = [None] * len(models)
    groups = {}
    for i, m in enumerate(models):
        groups.setdefault((m.simulation.dt, m.simulation.method, m.tstop), []).append(i)
    for (_, _, tstop), members in groups.items():
        try:
            results = Batch([models[i].simulation for i in members], backend=backend).run(tstop)
        except Exception as err:  # noqa: BLE001 - find the model(s) at fault, one by one
            results = [err] if len(members) == 1 else [_run_alone(models[i], backend) for i in members]
        for i, result in zip(members, results):
            out[i] = result
    return out


def _run_alone(model, backend):
    try:
        return Batch([model.simulation], backend=backend).run(model.tstop)[0]
    except Exception as err:  # noqa: BLE001 - this model's own error
        return err


def _bisection_runs(threshold):
    """Runs of a threshold search: the bracket's two ends, then halvings down to the tolerance."""
    return 2 + max(0, math.ceil(math.log2((threshold["high_nA"] - threshold["low_nA"]) / threshold["tolerance_nA"])))


def thresholds(spec, points):
    """Threshold amplitudes (nA) by bisection, all models of a chunk searched together.

    Each step runs every model once (as batches) with its stimulus at the middle of its
    bracket and keeps the half where the spike appears at the probe.  Returns, per model,
    ``(threshold, error)``: the middle of the last bracket, within half the tolerance of
    the amplitude where a spike first appears; None where ``high_nA`` gives no spike or
    ``low_nA`` already gives one.
    """
    th = spec.threshold
    key, probe = f"stimulus[{th['stimulus']}].amp_nA", th["probe"]
    n = len(points)
    errors = [None] * n

    def fires(amps, which):
        models, fire = {}, {}
        for j, i in enumerate(which):
            try:
                models[j] = sweepspec.build_model(spec, {**points[i], key: float(amps[j])})
            except Exception as err:  # noqa: BLE001
                errors[i] = errors[i] or f"threshold search: {describe(err)}"
        results = run_models(list(models.values()), spec.backend)
        for j, result in zip(models, results):
            if isinstance(result, Exception):
                errors[which[j]] = errors[which[j]] or f"threshold search: {describe(result)}"
            else:
                fire[j] = len(spike_times(result.t, result[probe])) > 0
        return [fire.get(j, False) for j in range(len(which))]

    both = fires([th["high_nA"]] * n + [th["low_nA"]] * n, list(range(n)) * 2)
    search = [i for i in range(n) if both[i] and not both[n + i] and errors[i] is None]
    lo, hi = np.full(n, float(th["low_nA"])), np.full(n, float(th["high_nA"]))
    for _ in range(_bisection_runs(th) - 2):
        mid = (lo + hi) / 2
        for i, spiked in zip(search, fires(mid[search], search)):
            (hi if spiked else lo)[i] = mid[i]
    found = set(search)
    return [(float((lo[i] + hi[i]) / 2) if i in found and errors[i] is None else None, errors[i]) for i in range(n)]


class Progress:
    """Chunks done, models with errors and the time left, on one line of ``stream``."""

    def __init__(self, total, done, stream):
        self.total, self.done, self.first, self.errors = total, done, done, 0
        self.stream, self.start, self.shown, self.first_at = stream, time.monotonic(), 0.0, None
        self.tty = getattr(stream, "isatty", lambda: False)()
        self.update(errors=0, count=False)

    def update(self, errors, count=True):
        """One more chunk done (``count``), with ``errors`` error rows."""
        self.done += count
        self.errors += errors
        now = time.monotonic()
        if count and self.first_at is None:
            self.first_at = now  # the rate is measured from here: start-up is not work
        if not self.tty and count and self.done < self.total and now - self.shown < PROGRESS_EVERY_S:
            return
        self.shown = now
        elapsed, since = now - self.start, self.done - self.first - 1
        left = (now - self.first_at) / since * (self.total - self.done) if since > 0 else None
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        line = (f"sweep [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} chunks, "
                f"{self.errors} error rows, {_clock(elapsed)} elapsed, ETA {_clock(left)}")
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self):
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds):
    if seconds is None:
        return "--:--"
    minutes, s = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{s:02d}" if minutes >= 60 else f"{minutes:02d}:{s:02d}"


def _need_distributed():
    try:
        import distributed
    except ImportError:
        raise HHCableError("sweeps on several processes need Dask: pip install \"hhcable[sweep]\" (or use "
                           "workers=0 to run in this process)") from None
    return distributed


@contextmanager
def _runner(client=None, scheduler=None, workers=None):
    """``(submit, threads)``: ``submit(func, calls)`` yields ``(calls[i][1], outcome)`` as each call
    ends, on Dask or here; ``threads`` is how many calls run at once."""
    if workers == 0 and client is None and scheduler is None:
        def here(func, calls):
            for args in calls:
                yield args[1], func(*args)

        yield here, 1
        return
    with dask_client(client, scheduler, workers) as dask:
        distributed = _need_distributed()

        threads = max(1, sum(dask.nthreads().values()))

        def on_dask(func, calls):
            # Tasks are made as others finish, a round ahead of the workers: neither this
            # process nor the scheduler holds every chunk's models at once.
            calls, running = iter(calls), {}
            pending = distributed.as_completed()

            def submit(n):
                for args in itertools.islice(calls, n):
                    future = dask.submit(func, *args, pure=False)
                    running[future] = args[1]
                    pending.add(future)

            submit(IN_FLIGHT_PER_WORKER * threads)
            for future in pending:
                try:
                    outcome = future.result()
                except Exception as err:  # noqa: BLE001 - the task failed (a worker died too often)
                    outcome = err
                future.release()
                submit(1)
                yield running.pop(future), outcome

        yield on_dask, threads


@contextmanager
def dask_client(client=None, scheduler=None, workers=None):
    """A ``distributed.Client``: ``client`` itself, one to ``scheduler``, or one to a new local
    cluster of ``workers`` processes (default: one per core), closed on the way out."""
    if client is not None:
        yield client
        return
    distributed = _need_distributed()
    import logging

    if scheduler is not None:
        try:
            own = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as err:
            raise HHCableError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
        with own:
            yield own
        return
    import dask

    # Dask's nannies have glibc give freed memory back at once (MALLOC_TRIM_THRESHOLD_); a chunk
    # allocates and frees its batches' arrays run after run, which that slows by ~6-10 %.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = distributed.LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                           processes=True, dashboard_address=":0", silence_logs=logging.CRITICAL)
    with cluster, distributed.Client(cluster) as own:
        yield own


def run_batch(simulations, tstop, backend="auto", workers=None, client=None):
    """Run a list of simulations split over Dask workers; their results, in order.

    The simulations are cut into as many consecutive parts of about equal size (nodes) as
    there are worker threads, and each part runs as one :class:`~hhcable.Batch`: results
    equal those of one batch to round-off.  Used by ``Batch.run(tstop, workers=...)``.

    Parameters
    ----------
    simulations : list of Simulation
    tstop : float, ms
    backend : {"auto", "numpy", "numba"}
    workers : int, optional
        Processes of a local cluster made for this run (default: one per core).
    client : distributed.Client, optional
        Run on this cluster's workers instead.
    """
    # A user's channel classes pickle by their module's name, which the workers get by
    # loading the same file (load_channel_file names a file's module after its path).
    files = {type(m).__module__: sys.modules[type(m).__module__].__file__
             for s in simulations for m, _ in s.cell.mechanisms if type(m).__module__.startswith("hhcable_user_")}
    with dask_client(client, None, workers) as dask:
        parts = max(1, min(len(simulations), sum(dask.nthreads().values())))
        nodes = np.cumsum([s.cell.compartments.n_nodes for s in simulations])
        cuts = np.searchsorted(nodes, nodes[-1] * np.arange(1, parts) / parts, side="right")
        bounds = np.unique(np.concatenate([[0], cuts, [len(simulations)]]))
        futures = [dask.submit(_run_part, files, pickle.dumps(simulations[a:b]), tstop, backend, pure=False)
                   for a, b in zip(bounds[:-1], bounds[1:])]
        results = [r for future in futures for r in future.result()]
    for sim, result in zip(simulations, results):
        result.cell = sim.cell  # the caller's own cell, not a copy
    return results


def _run_part(files, payload, tstop, backend):
    from .channels import load_channel_file

    for name, path in files.items():
        if name not in sys.modules:
            load_channel_file(path)
    return Batch(pickle.loads(payload), backend=backend).run(tstop)
