"""The action potential travelling, frame by frame, written to GIF (or MP4 where ffmpeg is).

Both animations need a run that recorded the whole cell (``Simulation.record_space``): one
frame per recorded time.  :func:`animate_cable` draws the voltage along a path against
distance; :func:`animate_morphology` colours the 2D projection of the cell by voltage.
:func:`animate` picks the first for an unbranched cell and the second for a tree.
Long renders report their progress on stderr.  Files are written whole or not at all, under
a unique temporary name first (:func:`hhcable.outfiles.replacing`), so two renders to the
same file never mix their frames.
"""

import sys
from pathlib import Path

import numpy as np

from . import validate
from .errors import InputError
from .outfiles import replacing
from .plotting import LABELS, _path_nodes, _pyplot, plot_morphology

#: Frames per second of the written animation.
DEFAULT_FPS = 20
#: Most frames an animation holds; longer recordings are thinned to this.
DEFAULT_MAX_FRAMES = 200
#: Renders with at least this many frames show a progress bar (when ``progress`` is None).
PROGRESS_MIN_FRAMES = 50
#: Width of the progress bar, characters.
BAR_WIDTH = 30
#: Resolution (dots per inch) of the written frames.
DPI = 120
#: Palette size of GIF frames.
GIF_COLOURS = 128
#: Most frames an animation may be asked for.
MAX_FRAMES = 10_000
#: Frame rates an animation may have.
FPS = validate.Limits(0.01, 1000.0, "frames per second", "players show 1 to 60")


def check_frames(max_frames, key="max_frames"):
    """``max_frames`` if it is a whole number from 2 to :data:`MAX_FRAMES`, else InputError."""
    return validate.integer(max_frames, key, low=2, high=MAX_FRAMES)


def check_fps(fps, key="fps"):
    """``fps`` as a float if it lies in :data:`FPS`, else InputError."""
    return validate.real(fps, key, FPS)


def _frames(result, max_frames):
    if result.space_v is None:
        raise InputError("the run did not record the whole cell; call Simulation.record_space()",
                         key="space")
    check_frames(max_frames)
    n = len(result.space_t)
    return np.unique(np.linspace(0, n - 1, min(n, max_frames)).round().astype(int))


def _draw_bar(stream, done, total, unit):
    filled = int(BAR_WIDTH * done / max(total, 1))
    stream.write(f"\r[{'#' * filled}{' ' * (BAR_WIDTH - filled)}] {done}/{total} {unit}")
    if done >= total:
        stream.write("\n")
    stream.flush()


def progress_bar(stream=None):
    """A callback ``(frame, total)`` that draws ``[#####     ] 12/40 frames`` on ``stream`` (stderr)."""
    stream = sys.stderr if stream is None else stream
    return lambda i, total: _draw_bar(stream, i + 1, total, "frames")


def steps_bar(stream=None):
    """A callback ``(done_steps, total_steps)`` for ``Simulation.run(progress=...)`` that draws
    ``[#####     ] 1200/6000 steps`` on ``stream`` (stderr)."""
    stream = sys.stderr if stream is None else stream
    return lambda done, total: _draw_bar(stream, done, total, "steps")


def write_frames(fig, update, frames, path, fps=DEFAULT_FPS, progress=None):
    """Render ``update(frame)`` for each of ``frames`` and write the result to ``path``; close ``fig``.

    ``update`` changes the figure's artists and returns those it changed.  GIFs are blitted:
    the figure is drawn once and only the changed artists are redrawn on each frame (a
    full redraw per frame is ten times slower); MP4s go through matplotlib's ffmpeg writer.

    Parameters
    ----------
    fig : matplotlib Figure
    update : callable
    frames : sequence
    path : str or Path
        ``.gif``, or ``.mp4`` where ffmpeg is installed.
    fps : float
        Frames per second.
    progress : bool, optional
        Show a progress bar on stderr (default: from :data:`PROGRESS_MIN_FRAMES` frames).

    Returns
    -------
    str
        ``path``.
    """
    plt = _pyplot()
    try:
        suffix = check_output(path)
        fps = check_fps(fps)
        show = progress_bar() if (len(frames) >= PROGRESS_MIN_FRAMES if progress is None else progress) else None
        with replacing(path) as tmp:  # same extension: the writers choose the format by it
            if suffix == ".mp4":
                _write_mp4(fig, update, frames, tmp, fps, show)
            else:
                _write_gif(fig, update, frames, tmp, fps, show)
    finally:
        plt.close(fig)
    return str(path)


def check_output(path):
    """The animation format of ``path`` (``".gif"`` or ``".mp4"``); InputError if it cannot be written."""
    suffix = Path(validate.path(path, "out")).suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise InputError(f"{path}: an animation is written as .gif or .mp4, not "
                         f"{suffix or 'no extension'!r}", key="out")
    if suffix == ".mp4":
        from matplotlib.animation import FFMpegWriter

        if not FFMpegWriter.isAvailable():
            raise InputError(f"{path}: writing MP4 needs ffmpeg, which is not installed; write a .gif instead",
                             key="out")
    return suffix


def _write_gif(fig, update, frames, path, fps, show):
    from PIL import Image

    canvas = fig.canvas
    update(frames[0])
    for artist in update(frames[0]):
        artist.set_animated(True)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    images = []
    for i, k in enumerate(frames):
        canvas.restore_region(background)
        for artist in update(k):
            fig.draw_artist(artist)
        rgba = np.asarray(canvas.buffer_rgba())
        images.append(Image.fromarray(rgba[..., :3].copy()).quantize(colors=GIF_COLOURS))
        if show:
            show(i, len(frames))
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(round(1000 / fps)),
                   loop=0, optimize=False)


def _write_mp4(fig, update, frames, path, fps, show):
    from matplotlib.animation import FFMpegWriter

    writer = FFMpegWriter(fps=fps)
    with writer.saving(fig, str(path), dpi=fig.dpi):
        for i, k in enumerate(frames):
            update(k)
            writer.grab_frame()
            if show:
                show(i, len(frames))


def animate_cable(result, path, fps=DEFAULT_FPS, max_frames=DEFAULT_MAX_FRAMES, along=None, progress=None):
    """Voltage (mV) against distance (µm) along a path, one frame per recorded time.

    Parameters
    ----------
    result : Result
    path : str or Path
        Output file, ``.gif`` or ``.mp4``.
    fps : float
        Frames per second.
    max_frames : int
        Most frames to write (the recording is thinned evenly).
    along : (location, location), optional
        The path (default: root to the farthest tip).
    progress : bool, optional
        Show a progress bar on stderr (default: for long renders).

    Returns
    -------
    str
        ``path``.
    """
    frames = _frames(result, max_frames)
    nodes, dist = _path_nodes(result.cell, along)
    volts = result.space_v[:, nodes]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=DPI)
    low, high = np.percentile(volts, [0.1, 99.9])
    pad = 0.05 * (high - low)
    (line,) = ax.plot(dist, volts[frames[0]], "C0", lw=1.8)
    ax.set_ylim(low - pad, high + pad)
    ax.set_xlim(dist.min(), dist.max())
    ax.set_xlabel("distance along the path (µm)")
    ax.set_ylabel(LABELS["v"])
    title = ax.set_title(f"t = {result.space_t[frames[0]]:.2f} ms")
    fig.tight_layout()

    def draw(k):
        line.set_ydata(volts[k])
        title.set_text(f"t = {result.space_t[k]:.2f} ms")
        return line, title

    return write_frames(fig, draw, frames, path, fps, progress)


def animate_morphology(result, path, fps=DEFAULT_FPS, max_frames=DEFAULT_MAX_FRAMES, plane="xy",
                       stimuli=(), progress=None):
    """The cell in 2D projection coloured by voltage (mV), one frame per recorded time.

    Parameters are those of :func:`animate_cable`, with ``plane`` (two of ``x, y, z``) and
    ``stimuli`` (locations to mark) as in :func:`hhcable.plotting.plot_morphology`.
    """
    frames = _frames(result, max_frames)
    low, high = np.percentile(result.space_v, [0.1, 99.9])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5), dpi=DPI)
    plot_morphology(result.cell, result.space_v[frames[0]], ax, plane, label=LABELS["v"],
                    vmin=low, vmax=high, stimuli=stimuli)
    lines = ax.collections[0]
    nodes = np.flatnonzero(result.cell.compartments.parent >= 0)
    title = ax.set_title("")

    def draw(k):
        lines.set_array(result.space_v[k, nodes])
        title.set_text(f"t = {result.space_t[k]:.2f} ms")
        return lines, title

    return write_frames(fig, draw, frames, path, fps, progress)


def animate(result, path, **kwargs):
    """:func:`animate_cable` for an unbranched cell, :func:`animate_morphology` for a tree."""
    if result.cell.morphology.is_unbranched():
        return animate_cable(result, path, **kwargs)
    return animate_morphology(result, path, **kwargs)
