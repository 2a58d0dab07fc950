"""Output files written whole or not at all, and never through a link or onto a device.

Every output path is checked before any work is done (:func:`check_target`): its folder
exists and is writable, and the path names a regular file or nothing.  An existing symbolic
link, FIFO, device, socket or folder is refused and left alone, never replaced.

A file is written to a temporary file next to its target, under a unique name made with
``O_EXCL`` (``.NAME.hhcable-tmp-XXXXXXXX.SUFFIX``, so two runs never share one), and moved
onto the target by one atomic rename once complete: a reader sees the old file or the new
one, and two runs writing the same target leave one whole file, the last one's.
The temporary file is removed on every exit path Python sees: an error, Ctrl-C (SIGINT)
and, where the command line turns it into an exception, SIGTERM.  ``kill -9`` (SIGKILL)
cannot be caught: it leaves the temporary file behind, recognisable by
:data:`TEMP_MARK` in its name, and the target as it was.
"""

import os
import signal
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

from . import validate
from .errors import InputError

#: Part of the name of every temporary file hhcable writes (what ``kill -9`` can leave).
TEMP_MARK = ".hhcable-tmp-"
#: Length of the random part of a temporary name (``tempfile``'s).
_RANDOM_CHARS = 8
#: Longest file name where the folder does not say (POSIX's usual NAME_MAX).
_NAME_MAX = 255


def check_target(path, key="out"):
    """Check, before any work, that hhcable can write ``path`` safely; return it as a Path.

    Parameters
    ----------
    path : str or os.PathLike
    key : str
        The argument naming the path (``"--out"``), for messages.

    Returns
    -------
    Path

    Raises
    ------
    InputError
        If the folder is missing or not writable, or the path names a folder, a symbolic
        link, a FIFO, a device or a socket.
    """
    name = validate.path(path, key)
    target = Path(name)
    if name.endswith(("/", os.sep)) or target.name in ("", ".", ".."):
        raise InputError("names a folder; give a file name", key=key, source=name)
    folder = target.parent
    try:
        if not stat.S_ISDIR(folder.stat().st_mode):
            raise InputError(f"{folder} is not a folder", key=key, source=name)
    except FileNotFoundError:
        raise InputError(f"folder {folder} does not exist", key=key, source=name) from None
    except OSError as err:
        raise InputError(f"cannot use folder {folder}: {err.strerror}", key=key, source=name) from None
    if not os.access(folder, os.W_OK | os.X_OK):  # also false on a read-only file system
        raise InputError(f"folder {folder} is not writable", key=key, source=name)
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = _NAME_MAX
    longest = len(os.fsencode(f".{target.name}{TEMP_MARK}{'x' * _RANDOM_CHARS}{target.suffix}"))
    if longest > name_max:
        raise InputError("the file name is too long: hhcable needs room for a temporary name next to it",
                         key=key, source=name)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as err:
        raise InputError(f"cannot use it: {err.strerror}", key=key, source=name) from None
    if not stat.S_ISREG(mode):
        raise InputError(f"is {validate.file_kind(mode)}; hhcable replaces only regular files and leaves "
                         "it alone: choose another name", key=key, source=name)
    return target


class Outputs:
    """Output files written to temporaries and moved onto their targets together.

    Use as a context manager: :meth:`add` every target first (each is checked then), write
    them with :meth:`write` or :meth:`temp`, and :meth:`commit`; leaving the block without
    committing (an error, a signal) removes every temporary file and touches no target.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with Outputs() as out:
    ...     target = out.add(os.path.join(folder, "a.txt"), "--out")
    ...     out.write(target, lambda fh: fh.write(b"whole"))
    ...     out.commit()
    >>> sorted(os.listdir(folder))
    ['a.txt']
    """

    def __init__(self):
        self._targets = {}  # target Path -> key
        self._temps = {}  # target Path -> temporary file name

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.discard()
        return False

    @property
    def targets(self):
        """The added targets (Path) and the argument naming each."""
        return dict(self._targets)

    def add(self, path, key="out"):
        """Check ``path`` (:func:`check_target`) and add it; return it as a Path."""
        target = check_target(path, key)
        here = Path(os.path.realpath(target.parent)) / target.name
        for other, other_key in self._targets.items():
            if Path(os.path.realpath(other.parent)) / other.name == here:
                raise InputError(f"names the same file as {other_key}", key=key, source=str(target))
        self._targets[target] = key
        return target

    def temp(self, target):
        """A new, empty temporary file next to ``target`` (an added target); its name."""
        if target not in self._targets:
            raise KeyError(f"{target} was not added")
        with _signals_held():  # a signal between creating and recording the file would orphan it
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}{TEMP_MARK}",
                                        suffix=target.suffix)
            os.close(fd)
            old = self._temps.get(target)
            self._temps[target] = name
            if old is not None:
                _remove(old)
        return name

    def write(self, target, write):
        """Call ``write(binary_file)`` on a new temporary file for ``target``."""
        with open(self.temp(target), "wb") as fh:
            write(fh)

    def commit(self):
        """Move every written temporary file onto its target (checked again just before)."""
        with _signals_held():
            for target in self._temps:
                check_target(target, self._targets[target])
            for target, name in list(self._temps.items()):
                os.chmod(name, _mode(target))
                os.replace(name, target)
                del self._temps[target]

    def discard(self):
        """Remove every temporary file not yet committed."""
        with _signals_held():
            for name in self._temps.values():
                _remove(name)
            self._temps.clear()


@contextmanager
def replacing(path, key="out"):
    """Write one file safely: yields a temporary file's name, moved onto ``path`` at the end.

    The temporary name keeps ``path``'s extension, so writers that choose the format from
    the name (PIL, ffmpeg) choose the right one.
    """
    with Outputs() as out:
        target = out.add(path, key)
        yield out.temp(target)
        out.commit()


def _mode(target):
    """Permissions for a new file at ``target``: the old file's, or the usual ones for the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask  # mkstemp makes files private; give the usual mode


def _remove(name):
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass


@contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM back while files are moved or removed, so that the move or the
    clean-up is never cut in the middle; they are delivered right after."""
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
