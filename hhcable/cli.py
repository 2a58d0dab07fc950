"""The ``hhcable`` command: ``run`` a model file, the ``demo``, or ``swc-info`` on an SWC file.

Bad input ends with exit status 2 and one line on stderr naming the file and the key or
line; nothing is written then.  Output files are written whole or not at all.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import __version__
from .errors import HHCableError

EXIT_INPUT = 2


def _atomic_write(path, write):
    """Call ``write(file_object)`` on a temporary file next to ``path``, then move it there."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise HHCableError(f"{path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes files private; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return str(path)


def _save_figure(fig, path):
    from .plotting import save

    fmt = Path(path).suffix.lstrip(".") or "png"
    return _atomic_write(path, lambda fh: save(fig, fh, format=fmt))


def _save_npz(result, path):
    arrays = {"t_ms": result.t, "traces": result.traces, "probe_names": np.array(result.names),
              "probe_nodes": result.nodes, "distance_um": result.cell.compartments.distance}
    if result.crossings is not None:
        arrays["first_crossing_ms"] = result.crossings
    if result.space_v is not None:
        arrays["space_t_ms"], arrays["space_v_mV"] = result.space_t, result.space_v
    return _atomic_write(path, lambda fh: np.savez_compressed(fh, **arrays))


def _check_outputs(args):
    """Refuse early, before running, an output whose folder does not exist."""
    for path in (getattr(args, "out", None), getattr(args, "plot", None)):
        if path and not (Path(path).parent if str(Path(path).parent) else Path(".")).is_dir():
            raise HHCableError(f"{path}: folder {Path(path).parent} does not exist")


def cmd_run(args):
    from .modelfile import load
    from .plotting import plot_result

    _check_outputs(args)
    model = load(args.model)
    result, summary = model.run()
    if args.out:
        _save_npz(result, args.out)
    if args.plot:
        # Only voltage probes share the figure's mV axis; the summary lists exactly those.
        _save_figure(plot_result(result, summary.get("velocity"), names=list(summary["probes"])), args.plot)
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"{args.model}: {summary['n_compartments']} compartments, {summary['tstop_ms']:g} ms "
          f"in {summary['run_wall_s']:.2f} s")
    for name, p in summary["probes"].items():
        spikes = ", ".join(f"{s:.3f}" for s in p["spike_times_ms"])
        spikes = f"spikes at {spikes} ms" if spikes else "no spikes"
        print(f"  {name}: {spikes}; v from {p['v_min_mV']:.1f} to {p['v_max_mV']:.1f} mV")
    if "velocity" in summary:
        vel = summary["velocity"]
        print(f"  conduction velocity: {vel['cv_m_s']:.3f} m/s over {vel['path_um']:.0f} µm"
              if vel["cv_m_s"] is not None else f"  conduction velocity: {vel['error']}")
    for path in (args.out, args.plot):
        if path:
            print(f"  wrote {path}")
    return 0


def cmd_demo(args):
    from .demo import run_demo
    from .plotting import plot_result

    _check_outputs(args)
    result, velocity = run_demo(max_segment=args.max_segment, dt=args.dt)
    print(f"Squid giant axon (Hodgkin & Huxley 1952): 476 µm, 35.4 Ω·cm, 18.5 °C, "
          f"{result.cell.n_compartments} compartments, dt {args.dt} ms")
    print(f"conduction velocity: {velocity['cv_m_s']:.2f} m/s (Hodgkin & Huxley computed 18.8 m/s)")
    path = _save_figure(plot_result(result, velocity), args.out)
    print(f"figure: {path}")
    return 0


def cmd_animate(args):
    from .animation import animate, check_output
    from .modelfile import load

    _check_outputs(args)
    check_output(args.out)
    if args.frames < 2 or not args.fps > 0:
        raise HHCableError("--frames must be >= 2 and --fps > 0")
    model = load(args.model)
    sim = model.simulation
    if sim.space_every is None:
        sim.record_space(every=max(1, int(round(model.tstop / sim.dt)) // args.frames))
    result, _ = model.run()
    out = Path(args.out)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")  # written whole, then moved into place
    try:
        animate(result, tmp, fps=args.fps, max_frames=args.frames)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"wrote {out}")
    return 0


def cmd_swc_info(args):
    import warnings

    from .swc import SWCWarning, format_summary, read_swc, summary

    with warnings.catch_warnings():  # they are listed in the summary instead
        warnings.simplefilter("ignore", SWCWarning)
        morph = read_swc(args.file, scale=args.scale, soma=args.soma)
    info = summary(morph)
    print(json.dumps(info) if args.json else format_summary(info))
    return 0


def cmd_sweep(args):
    import time

    from . import sweepspec, sweeptable
    from .sweep import sweep

    _check_outputs(args)
    if args.workers is not None and args.workers < 0:
        raise HHCableError("--workers must be >= 0 (0: run in this process)")
    spec = sweepspec.load(args.sweep) if args.plot else None
    if spec is not None and spec.plot["y"] is None:
        raise HHCableError(f"{args.sweep}: plot.y: no numeric measure to plot; name one in [plot]")
    start = time.perf_counter()
    try:
        table = sweep(args.sweep, args.out, scheduler=args.scheduler, workers=args.workers, progress=not args.quiet)
    except KeyboardInterrupt:
        print("\nhhcable: interrupted; the chunks written are kept: run the same command to go on", file=sys.stderr)
        return 130
    wall = time.perf_counter() - start
    errors = [e for e in table.column("error").to_pylist() if e is not None]
    print(f"{args.sweep}: {table.num_rows} models ({len(errors)} with errors) in {wall:.1f} s; table: {args.out}")
    if errors:
        print(f"  first error: {errors[0]}")
    if args.plot:
        fig = sweeptable.plot(table, spec.plot["x"], spec.plot["y"], spec.plot["by"], units=spec.units)
        print(f"  figure: {_save_figure(fig, args.plot)}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="hhcable", description=__doc__.splitlines()[0])
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

    demo = sub.add_parser("demo", help="simulate the Hodgkin-Huxley squid axon and draw it")
    demo.add_argument("--out", default="hhcable-demo.png", metavar="FIG.png", help="figure file")
    demo.add_argument("--max-segment", type=float, default=10.0, help="compartment length (µm)")
    demo.add_argument("--dt", type=float, default=0.0025, help="time step (ms)")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv=None):
    """Entry point of the ``hhcable`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except HHCableError as err:
        message = " ".join(str(err).split())
        print(f"hhcable: error: {message}", file=sys.stderr)
        return EXIT_INPUT
