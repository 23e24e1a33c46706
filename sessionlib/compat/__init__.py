"""``tf.compat``: string and number conversions, and ``tf.compat.v1``, which is sessionlib.

sessionlib's public surface *is* TF 1's, so ``tf.compat.v1`` is the ``sessionlib`` module
itself: ``import sessionlib.compat.v1 as tf`` and ``tf.compat.v1.placeholder`` both work. The
module is registered under the name ``sessionlib.compat.v1`` in ``sys.modules``, which makes
the dotted import path real without a file that would import sessionlib again.
"""

import contextlib
import datetime
import numbers
import os
import sys

import numpy as np

from sessionlib.framework.dimension import dimension_at_index, dimension_value

__all__ = ["as_bytes", "as_text", "as_str", "as_str_any", "path_to_str", "bytes_or_text_types",
           "integral_types", "real_types", "complex_types", "forward_compatible",
           "forward_compatibility_horizon", "dimension_value", "dimension_at_index", "v1"]

# The parent package is in sys.modules (perhaps half imported) whenever this module runs, and
# its attributes are looked up at use, so aliasing it here creates no import cycle.
v1 = sys.modules[__name__.rpartition(".")[0]]
sys.modules[__name__ + ".v1"] = v1

bytes_or_text_types = (bytes, str)
integral_types = (numbers.Integral, np.integer)
real_types = (numbers.Real, np.integer, np.floating)
complex_types = (numbers.Complex, np.number)


def as_bytes(bytes_or_text, encoding="utf-8"):
    """`bytes_or_text` as bytes: text is encoded with `encoding`.

    Args:
      bytes_or_text: a `bytes`, `bytearray` or `str`.
      encoding: the encoding of text.

    Returns:
      A `bytes`.

    Raises:
      TypeError: for anything else.
    """
    if isinstance(bytes_or_text, bytearray):
        return bytes(bytes_or_text)
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


def as_text(bytes_or_text, encoding="utf-8"):
    """`bytes_or_text` as a `str`: bytes are decoded with `encoding`.

    Raises:
      TypeError: for anything but `bytes` or `str`.
      UnicodeDecodeError: for bytes that are not valid in `encoding`.
    """
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text.decode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


as_str = as_text


def as_str_any(value, encoding="utf-8"):
    """`value` as a `str`: bytes are decoded, anything else goes through ``str()``."""
    if isinstance(value, bytes):
        return as_text(value, encoding)
    return str(value)


def path_to_str(path):
    """A path-like object (such as a `pathlib.Path`) as its string; anything else unchanged."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    return path


# The date the kernels of this library are at least as new as: TF's forward-compatibility
# check asks whether graphs may use features that consumers older than a date lack. Every
# consumer of a sessionlib graph is this library, so the horizon only matters to code that
# branches on it; it is kept a little past TF 1's last release, as TF 2's compat.v1 reports.
_HORIZON = [datetime.date(2021, 1, 1)]


def forward_compatible(year, month, day):
    """Whether graphs built now may use ops and attributes introduced up to the given date."""
    return _HORIZON[0] > datetime.date(year, month, day)


@contextlib.contextmanager
def forward_compatibility_horizon(year, month, day):
    """Within the block, `forward_compatible` answers as if today were the given date
    (for tests of both sides of a compatibility switch)."""
    saved = _HORIZON[0]
    _HORIZON[0] = datetime.date(year, month, day)
    try:
        yield
    finally:
        _HORIZON[0] = saved
