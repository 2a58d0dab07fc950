"""Exceptions raised by hhcable.

Every error hhcable raises derives from :class:`HHCableError`.  Errors caused by the
caller's input also derive from :class:`ValueError`, so ``except ValueError`` keeps
working for code that does not know about hhcable.  A run that blows up raises
:class:`SimulationError` (exit status 3 on the command line; input errors exit with 2).
"""


class HHCableError(Exception):
    """Root of every exception raised by hhcable."""


class InputError(HHCableError, ValueError):
    """An argument, a model-file key or a value is invalid.

    Parameters
    ----------
    message : str
        What is wrong and, where possible, how to fix it.
    key : str, optional
        The argument or model-file key at fault (for example ``"simulation.dt_ms"``).
    source : str, optional
        The file the value came from, if any.
    """

    def __init__(self, message, key=None, source=None):
        super().__init__(message)
        self.message = message
        self.key = key
        self.source = source

    def __str__(self):
        where = ": ".join(p for p in (self.source, self.key) if p)
        return f"{where}: {self.message}" if where else self.message


class SWCError(InputError):
    """A malformed SWC file, reported like a compiler error: ``file:line: message``.

    Parameters
    ----------
    message : str
        What is wrong with the sample.
    source : str
        Name of the file (or ``"<string>"``/``"<stream>"``).
    line : int, optional
        1-based line number in the file.
    sample : int, optional
        The SWC sample id involved.
    """

    def __init__(self, message, source="<string>", line=None, sample=None):
        super().__init__(message, source=source)
        self.line = line
        self.sample = sample

    def __str__(self):
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.message}"


class MemoryLimitError(InputError):
    """A requested recording would need more memory than the caller allowed."""


class HHCableWarning(UserWarning):
    """A value hhcable accepts but that is likely to give a wrong answer (for example a time
    step too long to resolve a spike).  The command line prints each as one line."""


class SimulationError(HHCableError):
    """A run that cannot go on: the voltage left the finite numbers (a blow-up).

    Raised by the time loop with the time (ms) and the node where it happened, so that no
    result ever holds NaN silently.  Not an :class:`InputError`: the input was valid, the
    numerics failed (usually a time step too long for the currents involved).

    Parameters
    ----------
    message : str
        What happened, where and when, and what to try.
    t : float, ms, optional
        Time of the first non-finite voltage.
    node : int, optional
        A node where it happened.
    """

    def __init__(self, message, t=None, node=None):
        super().__init__(message)
        self.t = t
        self.node = node
