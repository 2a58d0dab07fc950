"""The ``hhcable`` command: ``run`` or ``animate`` a model file, ``swc-info``, ``demo``, ``lab``.

Exit status
-----------
0
    Success.
1
    The system failed: out of memory, a disk full, an output that could not be written.
2
    Bad input: a missing or invalid file, key, value, location or output path.  Nothing
    was run, or nothing was written.
3
    The run blew up (:class:`~hhcable.errors.SimulationError`: the voltage left the finite
    numbers, at the time and place the message names); usually dt is too long.
128 + N
    Stopped by signal N: 130 for Ctrl-C (SIGINT), 143 for SIGTERM.

Every error is one line on stderr (``hhcable: error: ...``) naming the file and the key or
line; warnings are one line each (``hhcable: warning: ...``).  Every output path is checked
before the run; output files are written whole or not at all, all of them or none, and
temporary files are removed on every exit but ``kill -9`` (see :mod:`hhcable.outfiles`).
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
import warnings
from contextlib import contextmanager

import numpy as np

from . import __version__, validate
from .errors import HHCableError, InputError, SimulationError
from .outfiles import Outputs, check_target

EXIT_FAILURE = 1
EXIT_INPUT = 2
EXIT_SIMULATION = 3
#: Signals that stop a command cleanly (temporary files removed); Ctrl-C is KeyboardInterrupt.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
#: Figure format when ``--plot`` (or the demo's ``--out``) has no extension.
DEFAULT_FIGURE_FORMAT = "png"
#: How ``hhcable run`` says which backend stepped.
BACKEND_WORDS = {"numba": "compiled kernel, numba", "numpy": "numpy loop: numba is not installed"}
#: How many of an SWC file's warnings ``hhcable run`` prints (``swc-info`` lists them all).
SHOWN_WARNINGS = 3
#: Largest TCP port ``hhcable lab --port`` accepts.
MAX_PORT = 65535


class Stopped(BaseException):
    """A stop signal arrived (see :data:`STOP_SIGNALS`); unwinds like KeyboardInterrupt."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _figure_format(path, key):
    """The matplotlib format of a figure file, from its extension; InputError if unknown."""
    from matplotlib.backend_bases import FigureCanvasBase

    suffix = path.suffix.lstrip(".").lower()
    known = FigureCanvasBase.get_supported_filetypes()
    if suffix and suffix not in known:
        raise InputError(f"unknown figure format .{suffix}; use one of {sorted(known)}", key=key,
                         source=str(path))
    return suffix or DEFAULT_FIGURE_FORMAT


def _not_an_input(outputs, inputs):
    """Refuse an output that would replace one of the command's input files."""
    for target, key in outputs.targets.items():
        for name in inputs:
            if target.exists() and os.path.exists(name) and os.path.samefile(target, name):
                raise InputError(f"is the input file {name}; choose another name", key=key, source=str(target))


def _write_npz(result, fh):
    arrays = {"t_ms": result.t, "traces": result.traces, "probe_names": np.array(result.names),
              "probe_nodes": result.nodes, "distance_um": result.cell.compartments.distance}
    if result.crossings is not None:
        arrays["first_crossing_ms"] = result.crossings
    if result.space_v is not None:
        arrays["space_t_ms"], arrays["space_v_mV"] = result.space_t, result.space_v
    np.savez_compressed(fh, **arrays)


def _mv(value):
    return "undefined" if value is None else f"{value:.1f}"


def cmd_run(args):
    from .animation import steps_bar
    from .modelfile import load
    from .plotting import plot_result, save

    with Outputs() as outputs:
        out = outputs.add(args.out, "--out") if args.out else None
        plot = outputs.add(args.plot, "--plot") if args.plot else None
        fmt = _figure_format(plot, "--plot") if plot else None
        _not_an_input(outputs, [args.model])
        model = load(args.model)
        _print_swc_warnings(model.simulation.cell.morphology)
        # A bar on stderr while stepping, only for a person watching a terminal.
        bar = steps_bar() if not args.json and sys.stderr.isatty() else None
        result, summary = model.run(progress=bar) if bar else model.run()
        if out:
            outputs.write(out, lambda fh: _write_npz(result, fh))
        if plot:
            # Only voltage probes share the figure's mV axis; the summary lists exactly those.
            fig = plot_result(result, summary.get("velocity"), names=list(summary["probes"]),
                              stimuli=model.simulation.stimuli)
            outputs.write(plot, lambda fh: save(fig, fh, format=fmt))
        outputs.commit()
    if args.json:
        print(json.dumps(summary, allow_nan=False))
        return 0
    print(f"{args.model}: {summary['n_compartments']} compartments, {summary['tstop_ms']:g} ms "
          f"in {summary['run_wall_s']:.2f} s ({BACKEND_WORDS[summary['backend']]}; "
          f"set-up {summary['setup_s']:.2f} s, of which compiling {summary['compile_s']:.2f} s)")
    for name, p in summary["probes"].items():
        spikes = ", ".join(f"{s:.3f}" for s in p["spike_times_ms"])
        spikes = f"spikes at {spikes} ms" if spikes else "no spikes"
        print(f"  {name}: {spikes}; v from {_mv(p['v_min_mV'])} to {_mv(p['v_max_mV'])} mV")
    if "velocity" in summary:
        vel = summary["velocity"]
        print(f"  conduction velocity: {vel['cv_m_s']:.3f} m/s over {vel['path_um']:.0f} µm"
              if vel["cv_m_s"] is not None else f"  conduction velocity: {vel['error']}")
    for path in (out, plot):
        if path:
            print(f"  wrote {path}")
    return 0


def _print_swc_warnings(morph):
    """A count of the morphology file's soft problems and the first few, on stderr (once)."""
    if not morph.warnings:
        return
    n = len(morph.warnings)
    print(f"hhcable: {morph.name}: {n} warning{'s' if n > 1 else ''}"
          + (f" (all of them: hhcable swc-info {morph.name})" if n > SHOWN_WARNINGS else ""), file=sys.stderr)
    for warning in morph.warnings[:SHOWN_WARNINGS]:
        print(f"  {warning}", file=sys.stderr)


def cmd_demo(args):
    from .demo import run_demo
    from .plotting import plot_result, save

    validate.real(args.dt, "--dt", validate.DT_MS)
    validate.real(args.max_segment, "--max-segment", validate.LENGTH_UM, positive=True)
    with Outputs() as outputs:
        out = outputs.add(args.out, "--out")
        fmt = _figure_format(out, "--out")
        result, velocity, stimuli = run_demo(max_segment=args.max_segment, dt=args.dt)
        outputs.write(out, lambda fh: save(plot_result(result, velocity, stimuli=stimuli), fh, format=fmt))
        outputs.commit()
    print(f"Squid giant axon (Hodgkin & Huxley 1952): 476 µm, 35.4 Ω·cm, 18.5 °C, "
          f"{result.cell.n_compartments} compartments, dt {args.dt} ms")
    print(f"conduction velocity: {velocity['cv_m_s']:.2f} m/s (Hodgkin & Huxley computed 18.8 m/s)")
    print(f"figure: {out}")
    return 0


def cmd_animate(args):
    from .animation import animate, check_fps, check_frames, check_output
    from .modelfile import load

    out = check_target(args.out, "OUT")
    check_output(out)
    frames, fps = check_frames(args.frames, "--frames"), check_fps(args.fps, "--fps")
    if os.path.exists(args.model) and out.exists() and os.path.samefile(out, args.model):
        raise InputError(f"is the input file {args.model}; choose another name", key="OUT", source=str(out))
    model = load(args.model)
    sim = model.simulation
    if sim.space_every is None:
        sim.record_space(every=max(1, int(round(model.tstop / sim.dt)) // frames))
    result, _ = model.run()
    animate(result, out, fps=fps, max_frames=frames)  # written whole, then moved into place
    print(f"wrote {out}")
    return 0


def cmd_lab(args):
    port = validate.integer(args.port, "--port", low=1, high=MAX_PORT)
    try:
        from .lab.app import serve
    except ImportError as err:
        _error(f"the lab needs Panel ({err}); install it with: pip install 'hhcable[lab]'")
        return EXIT_FAILURE
    print(f"hhcable lab: http://127.0.0.1:{port}/ (Ctrl-C to stop)", flush=True)
    serve(port=port, show=not args.no_browser)
    return 0


def cmd_swc_info(args):
    from .swc import SWCWarning, format_summary, read_swc, summary

    with warnings.catch_warnings():  # they are listed in the summary instead
        warnings.simplefilter("ignore", SWCWarning)
        morph = read_swc(args.file, scale=args.scale, soma=args.soma)
    info = summary(morph)
    print(json.dumps(info, allow_nan=False) if args.json else format_summary(info))
    return 0


#: What ``hhcable --help`` says above and below the list of commands (plain text).
DESCRIPTION = ("Hodgkin-Huxley action potentials in axons and dendritic trees: run a model file,\n"
               "animate it, check an SWC file, sweep parameters over many models, run the squid-axon\n"
               "demo, or open the interactive lab.")
EXAMPLES = """examples:
  hhcable run examples/models/squid_axon.toml             run a model file, print a summary
  hhcable run model.toml --json --out run.npz --plot fig.png
  hhcable animate examples/models/squid_axon.toml spike.gif
  hhcable swc-info morphologies/nrn__c91662.swc
  hhcable demo --out squid.png                             the 1952 squid axon, drawn
  hhcable sweep examples/models/velocity_sweep.toml --out v.parquet --plot v.png
  hhcable lab                                              experiments in the browser

exit status: 0 success, 1 system failure, 2 bad input, 3 the run blew up, 130/143 stopped.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line like every other error (exit status 2)."""

    def error(self, message):
        self.exit(EXIT_INPUT, f"hhcable: error: {_one_line(message)} (see {self.prog} --help)\n")


def cmd_sweep(args):
    from . import sweepspec, sweeptable
    from .plotting import save
    from .sweep import sweep

    if args.workers is not None and args.workers < 0:
        raise InputError("must be >= 0 (0: run in this process)", key="--workers")
    spec = sweepspec.load(args.sweep) if args.plot else None
    if spec is not None and spec.plot["y"] is None:  # refused before the sweep, not after
        raise InputError("no numeric measure to plot; name one in [plot]", key="plot.y", source=args.sweep)
    with Outputs() as outputs:
        plot = outputs.add(args.plot, "--plot") if args.plot else None
        fmt = _figure_format(plot, "--plot") if plot else None
        _not_an_input(outputs, [args.sweep])
        start = time.perf_counter()
        try:
            table = sweep(args.sweep, args.out, scheduler=args.scheduler, workers=args.workers,
                          progress=not args.quiet)
        except KeyboardInterrupt:
            print("\nhhcable: interrupted; the chunks written are kept: run the same command to go on",
                  file=sys.stderr)
            return 128 + signal.SIGINT
        wall = time.perf_counter() - start
        errors = [e for e in table.column("error").to_pylist() if e is not None]
        print(f"{args.sweep}: {table.num_rows} models ({len(errors)} with errors) in {wall:.1f} s; "
              f"table: {args.out}")
        if errors:
            print(f"  first error: {errors[0]}")
        if plot:
            fig = sweeptable.plot(table, spec.plot["x"], spec.plot["y"], spec.plot["by"], units=spec.units)
            outputs.write(plot, lambda fh: save(fig, fh, format=fmt))
            outputs.commit()
            print(f"  figure: {plot}")
    return 0


def build_parser():
    parser = _Parser(prog="hhcable", description=DESCRIPTION, epilog=EXAMPLES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"hhcable {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a model file (TOML)")
    run.add_argument("model", help="model file")
    run.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    run.add_argument("--out", metavar="RESULTS.npz", help="write traces and recordings (numpy .npz)")
    run.add_argument("--plot", metavar="FIG.png", help="write the default figure")
    run.set_defaults(func=cmd_run)

    info = sub.add_parser("swc-info", help="validate an SWC file and summarise it")
    info.add_argument("file", help="SWC file")
    info.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    info.add_argument("--scale", type=float, default=1.0, help="µm per file unit (1e-3 for nanometres)")
    info.add_argument("--soma", choices=("auto", "sphere", "cylinders"), default="auto",
                      help="soma convention (see hhcable.swc)")
    info.set_defaults(func=cmd_swc_info)

    anim = sub.add_parser("animate", help="run a model file and animate the spike (GIF, or MP4 with ffmpeg)")
    anim.add_argument("model", help="model file")
    anim.add_argument("out", help="OUT.gif or OUT.mp4")
    anim.add_argument("--frames", type=int, default=100, help="most frames (default 100)")
    anim.add_argument("--fps", type=float, default=20.0, help="frames per second (default 20)")
    anim.set_defaults(func=cmd_animate)

    swp = sub.add_parser("sweep", help="run a parameter sweep (TOML) on every core or on a Dask cluster")
    swp.add_argument("sweep", help="sweep file")
    swp.add_argument("--out", required=True, metavar="RESULTS.parquet",
                     help="the table: a Parquet folder (one file per chunk), or FILE.csv; rerun to resume")
    swp.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask scheduler's cluster")
    swp.add_argument("--workers", type=int, help="local worker processes (default: one per core; 0: this process)")
    swp.add_argument("--plot", metavar="FIG.png", help="write the summary figure (see [plot] in the sweep file)")
    swp.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    swp.set_defaults(func=cmd_sweep)
    lab = sub.add_parser("lab", help="open the interactive teaching lab in the browser (needs hhcable[lab])")
    lab.add_argument("--port", type=int, default=5006, help="port on 127.0.0.1 (default 5006)")
    lab.add_argument("--no-browser", action="store_true", help="serve without opening a browser")
    lab.set_defaults(func=cmd_lab)

    demo = sub.add_parser("demo", help="simulate the Hodgkin-Huxley squid axon and draw it")
    demo.add_argument("--out", default="hhcable-demo.png", metavar="FIG.png", help="figure file")
    demo.add_argument("--max-segment", type=float, default=10.0, help="compartment length (µm)")
    demo.add_argument("--dt", type=float, default=0.0025, help="time step (ms)")
    demo.set_defaults(func=cmd_demo)
    return parser


def _one_line(message):
    """``message`` on one line, control characters (a NUL in a file name) escaped."""
    return validate.printable(" ".join(str(message).split()))


def _error(message):
    print(f"hhcable: error: {_one_line(message)}", file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line each on stderr (``warnings.showwarning``'s signature)."""
    from .errors import HHCableWarning

    kind = "" if issubclass(category, HHCableWarning) else f"{category.__name__}: "
    print(f"hhcable: warning: {kind}{_one_line(message)}", file=sys.stderr)


def _stop(signum, frame):
    raise Stopped(signum)


@contextmanager
def _stop_signals_raise():
    """While the command runs, a stop signal unwinds it like Ctrl-C (so temporary files go)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return
    previous = {s: signal.signal(s, _stop) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def main(argv=None):
    """Entry point of the ``hhcable`` command; returns the exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)
    try:
        with _stop_signals_raise(), warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.func(args)
    except SimulationError as err:
        _error(err)
        return EXIT_SIMULATION
    except HHCableError as err:
        _error(err)
        return EXIT_INPUT
    except BrokenPipeError:  # stdout closed early (| head): say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        _error(f"{where}{err.strerror or err}")
        return EXIT_FAILURE
    except MemoryError:
        _error("out of memory; make the model smaller (fewer compartments, steps or recordings)")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        _error("interrupted")
        return 128 + signal.SIGINT
    except Stopped as stop:
        _error(f"stopped by {signal.Signals(stop.signum).name}")
        return 128 + stop.signum
