"""Kernels of the assertion, printing and pass-through ops (``sessionlib/ops/check_ops.py``):
``Assert``, ``Print``, ``PrintV2``, ``StringFormat`` and ``IdentityN``.

Design. What these kernels say is part of TF's interface (tests and logs match on it), so
the text is TF's, built by `summarize_value`, the spelling of TF's ``Tensor::SummarizeValue``:

* the TF 1 layout (``Assert``, ``Print``): the first `max_entries` elements in row-major
  order, each row in brackets (``[[1 2][3...]...]``), ``...`` where elements were left out;
* the TF 2 layout (``StringFormat``, which ``tf.print`` uses): numpy-like, the first and last
  `max_entries` entries of every dimension, ``...`` between them, rows on new lines.

Elements print as TF's ``StrCat`` prints them: floats with the fewest of 6/9 (float32) or 15/17
(float64) significant digits that give the value back, bools as ``1``/``0``, strings C-escaped
(quoted and hex-escaped in the TF 2 layout). Only the printed elements are visited, so a
summary of a huge tensor costs what it prints.

The printing kernels write to the process's stderr (or stdout), as TF's do, and flush at once
so that the text is not lost when a worker process ends. ``Print``'s ``first_n`` counts runs
per session, in a small resource keyed by the node's name (TF counts per kernel instance,
which lives as long as the session).

Nothing here computes on numbers: the reference kernels are the fast ones.
"""

import sys
import threading

import numpy as np

from sessionlib import errors
from sessionlib.runtime.kernel_table import register_kernel

__all__ = ["summarize_value", "format_element"]


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


# ---- element and tensor text ---------------------------------------------------------------

def _shortest_float(value, digits, more_digits, np_type):
    # TF's FloatToBuffer / DoubleToBuffer: the short form when it reads back as the same value.
    text = "%.*g" % (digits, value)
    if np.isfinite(value) and np_type(text) != value:
        text = "%.*g" % (more_digits, value)
    return text


def _escape(data, print_v2):
    """absl's Utf8SafeCEscape (TF 1 layout) or Utf8SafeCHexEscape (TF 2): printable ASCII as
    is, bytes >= 0x80 untouched (UTF-8 stays readable), the rest escaped."""
    out = []
    for byte in data:
        if byte == 0x0A:
            out.append(b"\\n")
        elif byte == 0x0D:
            out.append(b"\\r")
        elif byte == 0x09:
            out.append(b"\\t")
        elif byte in (0x22, 0x27, 0x5C):
            out.append(b"\\" + bytes([byte]))
        elif byte < 0x20 or byte == 0x7F:
            out.append((b"\\x%02x" if print_v2 else b"\\%03o") % byte)
        else:
            out.append(bytes([byte]))
    return b"".join(out).decode("utf-8", "replace")


def format_element(value, print_v2=False):
    """One element as TF prints it in a tensor summary.

    Args:
      value: a numpy scalar (or a bytes/str object of a string tensor).
      print_v2: the TF 2 layout (strings quoted).

    Returns:
      A str.
    """
    if isinstance(value, (bytes, str)):
        data = value.encode("utf-8") if isinstance(value, str) else value
        text = _escape(data, print_v2)
        return f'"{text}"' if print_v2 else text
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (np.floating, float)):
        if isinstance(value, np.float64) or type(value) is float:
            return _shortest_float(float(value), 15, 17, np.float64)
        # float16 prints through float, as TF's Eigen::half does.
        return _shortest_float(np.float32(value), 6, 9, np.float32)
    return str(value)


def _v1_dims(shape, limit, flat, counter, out, dim):
    # TF's PrintOneDim: walks the rows in order until `limit` elements are out.
    if counter[0] >= limit:
        return
    count = shape[dim]
    if dim == len(shape) - 1:
        for i in range(count):
            if counter[0] >= limit:
                if dim != 0:
                    out.append("...")
                return
            if i > 0:
                out.append(" ")
            out.append(format_element(flat[counter[0]]))
            counter[0] += 1
        return
    for _ in range(count):
        opened = counter[0] < limit
        if opened:
            out.append("[")
        _v1_dims(shape, limit, flat, counter, out, dim + 1)
        if counter[0] < limit or opened:
            out.append("]")


def _v2_spacing(dim, ndims, out):
    if dim == ndims - 1:
        out.append(" ")
        return
    out.append("\n" * (ndims - dim - 1))
    out.append(" " * (dim + 1))


def _v2_dims(shape, ends, flat, start, out, dim):
    # TF's PrintOneDimV2: `ends` entries at each end of every dimension.
    ndims = len(shape)
    if dim == ndims:
        out.append(format_element(flat[start], True))
        return
    out.append("[")
    count = shape[dim]
    stride = int(np.prod(shape[dim + 1:], dtype=np.int64))
    for i in range(min(ends, count)):
        if i > 0:
            _v2_spacing(dim, ndims, out)
        _v2_dims(shape, ends, flat, start + stride * i, out, dim + 1)
    if count > 2 * ends:
        _v2_spacing(dim, ndims, out)
        out.append("...")
    for i in range(max(ends, count - ends), count):
        _v2_spacing(dim, ndims, out)
        _v2_dims(shape, ends, flat, start + stride * i, out, dim + 1)
    out.append("]")


def summarize_value(array, max_entries=3, print_v2=False):
    """TF's ``Tensor::SummarizeValue``: the text a tensor's value has in messages.

    Args:
      array: a numpy array (object arrays of bytes for strings).
      max_entries: how many elements to print (TF 1 layout) or how many entries at each end
        of every dimension (TF 2 layout); negative: all of them.
      print_v2: the TF 2 (``tf.print``) layout instead of TF 1's (``Assert``, ``Print``).

    Returns:
      A str.
    """
    array = np.asarray(array)
    size = array.size
    limit = size if max_entries < 0 else min(int(max_entries), size)
    flat = array.reshape(-1)
    if array.ndim == 0:
        text = format_element(flat[0], print_v2) if limit > 0 else ""
        return text + ("..." if size > limit else "")
    out = []
    if print_v2:
        _v2_dims(array.shape, limit, flat, 0, out, 0)
        return "".join(out)
    _v1_dims(array.shape, limit, flat, [0], out, 0)
    if size > limit:
        out.append("...")
    return "".join(out)


def _bracketed(values, summarize):
    return [f"[{summarize_value(value, summarize)}]" for value in values]


def _shape_text(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


# ---- Assert -------------------------------------------------------------------------------

def _assert_kernel(ctx, inputs, attrs):
    condition = inputs[0]
    if np.ndim(condition) != 0:
        raise _invalid(f"In[0] should be a scalar: {_shape_text(np.shape(condition))}")
    if bool(condition):
        return ()
    # TF's layout: each data tensor bracketed, separated by spaces.
    raise _invalid("assertion failed: " + " ".join(_bracketed(inputs[1:], attrs["summarize"])))


register_kernel("Assert", reference=_assert_kernel)


# ---- Print, PrintV2, StringFormat -----------------------------------------------------------

class _PrintCounter:
    """How many times one ``Print`` node printed in this session (its ``first_n``)."""

    container = ""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0

    def take(self, limit):
        with self.lock:
            if self.count >= limit:
                return False
            self.count += 1
            return True


def _write(stream, text):
    stream.write(text)
    stream.flush()


def _print_kernel(ctx, inputs, attrs):
    first_n = attrs["first_n"]
    if first_n >= 0:
        counter = ctx.resources.get_or_create(f"print_first_n:/{attrs['_name']}",
                                              _PrintCounter)
        if not counter.take(first_n):
            return (inputs[0],)
    message = attrs["message"]
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    _write(sys.stderr, message + "".join(_bracketed(inputs[1:], attrs["summarize"])) + "\n")
    return (inputs[0],)


register_kernel("Print", reference=_print_kernel)


def _text_attr(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _string_format_kernel(ctx, inputs, attrs):
    template = _text_attr(attrs["template"])
    pieces = template.split(_text_attr(attrs["placeholder"]))
    summarize = attrs["summarize"]
    out = [pieces[0]]
    for value, piece in zip(inputs, pieces[1:]):
        out.append(summarize_value(value, summarize, print_v2=True))
        out.append(piece)
    result = np.empty((), dtype=object)
    result[()] = "".join(out).encode("utf-8")
    return (result,)


register_kernel("StringFormat", reference=_string_format_kernel)


def _print_v2_kernel(ctx, inputs, attrs):
    value = np.asarray(inputs[0])
    if value.ndim != 0:
        raise _invalid(f"Input is expected to be scalar, but got shape {_shape_text(value.shape)}")
    text = value[()]
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    stream = sys.stdout if _text_attr(attrs["output_stream"]) == "stdout" else sys.stderr
    _write(stream, text + _text_attr(attrs["end"]))
    return ()


register_kernel("PrintV2", reference=_print_v2_kernel)


# ---- IdentityN ----------------------------------------------------------------------------

def _identity_n_kernel(ctx, inputs, attrs):
    return tuple(inputs)


register_kernel("IdentityN", reference=_identity_n_kernel)
