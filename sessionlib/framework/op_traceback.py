"""Where each operation was defined: the user's line that built it, recorded cheaply.

`Operation.traceback` (TF's attribute) and the "defined at" of an `OpError` point at the line of
the user's code that built an op. Every op records that line when it is created, so recording
sits on the graph-building hot path and is cut down to one search: from the op function up the
``f_back`` chain, past sessionlib's own frames, to the first frame of another file, whose code
object and ``f_lasti`` are kept (a plain int: ``f_lineno`` would decode the line table at every
op). The line number and the source text are worked out only when someone asks.

Only that innermost user frame is kept, where TF keeps the whole stack. Measured on
``tools/bench.py``'s build1000 (in-process CPU time, interleaved, best of 250 rounds): the search
and the one frame cost 8 to 11 % of graph-building time, three frames about 15 %, the whole
stack about 20 %, against a budget of 10 %. Most of the search's cost is that every frame it
touches must be materialized as a Python frame object (the op functions' frames are new for
every op); Python offers no cheaper way to look up the stack.

This module must never keep a frame object: a frame holds its locals (tensors, arrays, whole
graphs) alive for as long as the op lives. Code objects are safe to keep; the functions they
belong to usually outlive the graph anyway.
"""

import collections
import linecache
import os
import sys

__all__ = ["Frame", "capture", "frames", "defined_at"]

# Frames whose file lies under this directory are sessionlib's own, not the user's.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

# Source files known to be sessionlib's own, and known to be the user's: a set lookup per frame
# is cheaper than a prefix test.
_package_files = set()
_user_files = set()

_getframe = sys._getframe


class Frame(collections.namedtuple("Frame", ["filename", "lineno", "name", "line"])):
    """One frame of `Operation.traceback`: a ``(filename, lineno, name, line)`` tuple.

    `line` is the stripped source line, or None when the source cannot be read.
    """

    __slots__ = ()


def _is_package_file(filename):
    """Whether `filename` is sessionlib's own source; remembers the answer for the next op."""
    if filename.startswith(_PACKAGE_DIR):
        _package_files.add(filename)
        return True
    _user_files.add(filename)
    return False


def capture(depth):
    """Records where the user's code is creating an op.

    Args:
      depth: how many frames above the caller the search starts (the caller's own frame is
        0); frames skipped here are never looked at, so skip only sessionlib's own.

    Returns:
      An opaque record for `frames` and `defined_at`: the code object and ``f_lasti`` of the
      innermost frame outside sessionlib, or None when every frame is sessionlib's own.
    """
    frame = _getframe(depth + 1)
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        if filename not in _package_files and (filename in _user_files
                                               or not _is_package_file(filename)):
            return code, frame.f_lasti
        frame = frame.f_back
    return None


def _line_number(code, lasti):
    """The source line of the instruction at byte offset `lasti` in `code`."""
    if lasti >= 0:
        for start, end, line in code.co_lines():
            if start <= lasti < end:
                if line is not None:
                    return line
                break
    return code.co_firstlineno


def frames(record):
    """The frames of a `capture` record, in the shape of TF's ``Operation.traceback``.

    Args:
      record: what `capture` returned.

    Returns:
      A list of `Frame`s, outermost first: the user's frame that built the op (the only one
      kept), or an empty list when there was none.
    """
    if record is None:
        return []
    code, lasti = record
    lineno = _line_number(code, lasti)
    line = linecache.getline(code.co_filename, lineno).strip() or None
    return [Frame(code.co_filename, lineno, code.co_name, line)]


def defined_at(record):
    """Where the user's code created the op of a `capture` record.

    Args:
      record: what `capture` returned.

    Returns:
      ``"filename:lineno"`` of the user's frame that built the op, or None when there was
      none.
    """
    if record is None:
        return None
    code, lasti = record
    return f"{code.co_filename}:{_line_number(code, lasti)}"
