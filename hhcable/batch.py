"""Run many simulations as one system.

A :class:`Batch` joins the cells of several :class:`~hhcable.simulation.Simulation` objects
into one forest stepped by :mod:`hhcable.engine`, so a parameter sweep pays the overhead of
a step once, not once per cell.  Insertions of the same channel class at the same
temperature (and the same table setting and kinetic parameters) share one group, with
parameters that differ between cells held per node, so 64 HH axons cost the work of one.
"""

from .engine import Engine, check_backend, check_threads
from .errors import InputError
from .simulation import Simulation


class Batch:
    """Several simulations stepped together as one block-diagonal system.

    Every simulation keeps its own cell (morphology, passive properties, temperature,
    channels and their parameters), stimuli, probes, recordings and initial voltage; they
    must share the time step and the method.  The results equal those of each simulation
    run alone, to round-off.

    Parameters
    ----------
    simulations : list of Simulation
    backend : {"auto", "numpy", "numba"}
        Who steps (see :class:`~hhcable.simulation.Simulation`).
    threads : int, optional
        Threads stepping the compiled kernel (see :class:`~hhcable.simulation.Simulation`).

    Examples
    --------
    >>> import hhcable as hc
    >>> sims = []
    >>> for diam in (1.0, 2.0, 4.0):
    ...     cell = hc.Cell(hc.Morphology.cable(length=2000.0, diam=diam), max_segment=20.0)
    ...     _ = cell.insert(hc.HH())
    ...     sim = hc.Simulation(cell, dt=0.025)
    ...     sim.iclamp(at=0.0, delay=1.0, dur=0.5, amp=diam)
    ...     sim.probe("far", at=0.9)
    ...     sims.append(sim)
    >>> results = hc.Batch(sims).run(tstop=10.0)
    >>> [len(hc.spike_times(r.t, r["far"])) for r in results]
    [1, 1, 1]
    """

    def __init__(self, simulations, backend="auto", threads=None):
        sims = list(simulations) if not isinstance(simulations, Simulation) else [simulations]
        if not sims or not all(isinstance(s, Simulation) for s in sims):
            raise InputError("a batch needs a non-empty list of Simulation objects", key="simulations")
        for s in sims[1:]:
            if s.dt != sims[0].dt or s.method != sims[0].method:
                raise InputError(f"all simulations of a batch need the same dt and method; got dt {s.dt} "
                                 f"({s.method}) and {sims[0].dt} ({sims[0].method})", key="simulations")
        self.simulations = sims
        self.dt, self.method = sims[0].dt, sims[0].method
        self.backend = check_backend(backend)
        self.threads = check_threads(threads)

    def run(self, tstop, progress=None, workers=None, client=None):
        """Run every simulation from 0 to ``tstop`` (ms); a list of :class:`~hhcable.simulation.Result`.

        Each result's ``run_wall_s`` is the stepping time of the whole batch (of its part,
        when split).

        Parameters
        ----------
        tstop : float, ms
        progress : callable, optional
            As in :meth:`hhcable.simulation.Simulation.run` (not with ``workers``/``client``).
        workers : int, optional
            Split the batch over this many local worker processes (a Dask local cluster made
            for the run, ``pip install "hhcable[sweep]"``): for batches of many seconds.
        client : distributed.Client, optional
            Split it over the workers of this Dask cluster.
        """
        if workers is None and client is None:
            return Engine(self.simulations, backend=self.backend, threads=self.threads).run(tstop, progress)
        return run_split(self, tstop, workers, client)


def run_split(batch, tstop, workers=None, client=None):
    """Run a batch cut into parts on Dask workers (see :func:`hhcable.sweep.run_batch`)."""
    from .sweep import run_batch

    return run_batch(batch.simulations, tstop, backend=batch.backend, workers=workers, client=client)
