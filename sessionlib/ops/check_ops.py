"""Assertions and printing: ``tf.Assert``, the ``tf.assert_*`` checks, ``tf.Print``,
``tf.print``, ``tf.strings.format`` and ``tf.identity_n``.

Design. The ops are TF's, with TF's inputs and attrs, so GraphDefs go both ways:

* ``Assert`` (inputs ``condition``, ``data...``; attrs ``T``, ``summarize``) has no outputs
  and fails the run with an `InvalidArgumentError` ``assertion failed: [..] [..]`` when the
  condition is false. It is stateful, as in TF, so it is never folded or merged away, and it
  runs when it is fetched or is a control input of something that runs
  (``with tf.control_dependencies([tf.assert_positive(x)])``).
* ``Print`` passes its first input on and writes ``message`` and its data to stderr;
  ``PrintV2`` writes one formatted string, made by ``StringFormat`` (``tf.print``).
* ``IdentityN`` passes a list of tensors on; its gradient is the list of incoming gradients.

`Assert` differs from TF 1 in one way: TF guards an assert whose data is not all int32 or
string with a ``tf.cond`` (so that the data is not copied to the host when the check holds);
here the data lives in host memory on every device, so the assert is always one ``Assert`` op
named ``<scope>/Assert``.

The ``assert_*`` functions build the graphs TF 1's ``check_ops`` builds: the comparison,
``reduce_all`` and an ``Assert`` with TF's default data (the condition's words, the tensors'
names and values). What is known while the graph is built is checked then, as in TF: a binary
assert of two constants that fails raises `InvalidArgumentError` at once, a failed static rank
check is a ValueError, a wrong dtype a TypeError; a rank or type check that holds statically
is a ``NoOp``. The kernels (and TF's text layout of tensor values) are in
``runtime/kernels/check_kernels.py``.
"""

import sys
import types

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Tensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, control_flow_ops, math_ops

__all__ = ["Assert", "Print", "print_v2", "string_format", "identity_n", "assert_equal",
           "assert_none_equal", "assert_less", "assert_less_equal", "assert_greater",
           "assert_greater_equal", "assert_positive", "assert_negative", "assert_non_negative",
           "assert_non_positive", "assert_near", "assert_rank", "assert_rank_at_least",
           "assert_rank_in", "assert_type", "assert_integer", "assert_scalar",
           "is_numeric_tensor", "is_non_decreasing", "is_strictly_increasing", "strings"]

_DEFAULT_SUMMARIZE = 3


# ---- registrations --------------------------------------------------------------------------

def _int_attr(attrs, name, default):
    value = attrs.get(name)
    attrs[name] = default if value is None else int(value)


def _str_attr(attrs, name, default):
    value = attrs.get(name)
    if value is None:
        value = default
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise TypeError(f"Expected string for argument '{name}' not {value!r}.")
    attrs[name] = value


def _assert_infer(inputs, attrs):
    if not inputs:
        raise ValueError("Assert needs a condition")
    condition = inputs[0]
    if condition.dtype is not dtypes.bool:
        raise TypeError(f"Input 'condition' of 'Assert' Op has type {condition.dtype.name} that "
                        "does not match expected type of bool.")
    attrs["T"] = [t.dtype for t in inputs[1:]]
    _int_attr(attrs, "summarize", _DEFAULT_SUMMARIZE)
    return []


registry.register_op("Assert", infer=_assert_infer, kernel="Assert", stateful=True,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Fails the run with the data's values when the condition is false.")


def _print_infer(inputs, attrs):
    attrs["T"] = inputs[0].dtype
    attrs["U"] = [t.dtype for t in inputs[1:]]
    _str_attr(attrs, "message", "")
    _int_attr(attrs, "first_n", -1)
    _int_attr(attrs, "summarize", _DEFAULT_SUMMARIZE)
    return [(inputs[0].dtype, inputs[0].shape)]


def _print_grad(op, grad):
    # TF's: the input's gradient passes through; the printed data gets none.
    return [grad] + [None] * (len(op.inputs) - 1)


registry.register_op("Print", infer=_print_infer, kernel="Print", stateful=True,
                     gradient=_print_grad,
                     doc="Its first input, printing the data to stderr when it runs.")


def _string_format_infer(inputs, attrs):
    attrs["T"] = [t.dtype for t in inputs]
    _str_attr(attrs, "template", "%s")
    _str_attr(attrs, "placeholder", "%s")
    _int_attr(attrs, "summarize", _DEFAULT_SUMMARIZE)
    expected = attrs["template"].count(attrs["placeholder"])
    if expected != len(inputs):
        raise ValueError(f"The template expects {expected} tensors, but the inputs only has "
                         f"{len(inputs)}. Please ensure the number of placeholders in template "
                         "matches inputs length.")
    return [(dtypes.string, TensorShape([]))]


registry.register_op("StringFormat", infer=_string_format_infer, kernel="StringFormat",
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A string made of a template and the tensors' values.")


def _print_v2_infer(inputs, attrs):
    _infer.check_dtype("PrintV2", inputs[0], (dtypes.string,), "input")
    _str_attr(attrs, "output_stream", "stderr")
    _str_attr(attrs, "end", "\n")
    return []


registry.register_op("PrintV2", infer=_print_v2_infer, kernel="PrintV2", num_inputs=1,
                     stateful=True, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Prints a string scalar to stderr or stdout.")


def _identity_n_infer(inputs, attrs):
    attrs["T"] = [t.dtype for t in inputs]
    return [(t.dtype, t.shape) for t in inputs]


def _identity_n_grad(op, *grads):
    return list(grads)


registry.register_op("IdentityN", infer=_identity_n_infer, kernel="IdentityN",
                     gradient=_identity_n_grad, doc="Its inputs, unchanged.")


# ---- Assert, Print, print, strings.format, identity_n -----------------------------------------

def _graph_values(*groups):
    return [v for group in groups for v in group if isinstance(v, (Tensor, graph_lib.Operation))]


def _convert_data(data, graph):
    # As TF's generated op wrappers: data that is not a tensor becomes `data_<i>` in the op's
    # own scope.
    return [item if isinstance(item, Tensor)
            else graph_lib.convert_to_tensor(item, name=f"data_{i}", graph=graph)
            for i, item in enumerate(data)]


def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TF's public name
    """Fails the run when `condition` is false, showing `data` (``tf.Assert``).

    Args:
      condition: a scalar bool tensor (or Python bool).
      data: the tensors (or Python values) whose values the error shows.
      summarize: how many elements of each to show (default 3; negative: all).
      name: the name scope (default 'Assert').

    Returns:
      The ``Assert`` op, to fetch or use as a control dependency.

    Raises:
      TypeError: for a condition that is not bool.
      InvalidArgumentError: at run time, when the condition is false (or not a scalar).
    """
    data = list(data)
    with graph_lib.name_scope(name, "Assert", _graph_values([condition], data)):
        graph = graph_lib.get_default_graph()
        with graph.name_scope("Assert") as scope:
            if not isinstance(condition, Tensor):
                condition = graph_lib.convert_to_tensor(condition, dtype=dtypes.bool,
                                                        name="condition")
            tensors = _convert_data(data, graph)
            return graph.create_op("Assert", [condition] + tensors, {"summarize": summarize},
                                   name=scope)


def Print(input_, data, message=None, first_n=None, summarize=None, name=None):  # noqa: N802
    """`input_`, printing `message` and `data` to stderr each time it runs (``tf.Print``).

    Args:
      input_: the tensor passed on.
      data: the tensors (or Python values) to print.
      message: printed before the data.
      first_n: print the first `first_n` runs only (per session); negative: always.
      summarize: how many elements of each tensor to print (default 3).
      name: the op name (default 'Print').

    Returns:
      A Tensor equal to `input_` (op ``Print``).
    """
    data = list(data or [])
    input_ = graph_lib.convert_to_tensor(input_)
    graph = input_.graph
    with graph.as_default(), graph.name_scope(name or "Print") as scope:
        tensors = _convert_data(data, graph)
        attrs = {"message": message, "first_n": first_n, "summarize": summarize}
        return graph.create_op("Print", [input_] + tensors, attrs, name=scope).outputs[0]


def string_format(template, inputs, placeholder="{}", summarize=3, name=None):
    """A string scalar: `template` with each `placeholder` replaced by a tensor's value
    (``tf.strings.format``), in TF 2's numpy-like layout.

    Args:
      template: the text, with one `placeholder` per input.
      inputs: a tensor or a list of tensors.
      placeholder: the marker in `template`.
      summarize: how many entries to show at each end of every dimension (negative: all).
      name: the op name (default 'StringFormat').

    Returns:
      A scalar string Tensor.

    Raises:
      ValueError: if the number of placeholders is not the number of inputs.
    """
    if isinstance(inputs, Tensor) or not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    with graph_lib.name_scope(name, "StringFormat", _graph_values(inputs)) as scope:
        graph = graph_lib.get_default_graph()
        tensors = [graph_lib.convert_to_tensor(t) for t in inputs]
        attrs = {"template": template, "placeholder": placeholder, "summarize": summarize}
        return graph.create_op("StringFormat", tensors, attrs, name=scope).outputs[0]


class _Marker:
    """Stands for a tensor while a nested structure is turned into a template."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def _template_piece(value, placeholder, tensors):
    if isinstance(value, Tensor):
        tensors.append(value)
        return placeholder
    if isinstance(value, str):
        return value

    def mark(item):
        if isinstance(item, Tensor):
            tensors.append(item)
            return _Marker(placeholder)
        if isinstance(item, dict):
            return {key: mark(val) for key, val in item.items()}
        if isinstance(item, list):
            return [mark(val) for val in item]
        if isinstance(item, tuple):
            marked = [mark(val) for val in item]
            # A namedtuple takes its fields as arguments, a plain tuple an iterable.
            return type(item)(*marked) if hasattr(item, "_fields") else tuple(marked)
        return item

    return str(mark(value))


_STREAMS = {"stderr": "stderr", "stdout": "stdout"}


def print_v2(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None):
    """Prints `inputs` when the returned op runs (``tf.print``).

    Tensors print in TF 2's numpy-like layout, Python values as ``str`` gives them (tensors
    inside lists and dicts too). A string scalar tensor given alone prints as it is.

    Args:
      *inputs: tensors, Python values, or nested lists/dicts of them.
      output_stream: ``sys.stderr`` (default) or ``sys.stdout`` (or their names).
      summarize: entries shown at each end of every dimension (negative: all).
      sep: put between the inputs.
      end: put after the text.
      name: the op name (default 'PrintV2').

    Returns:
      The ``PrintV2`` op: fetch it, or make it a control dependency.

    Raises:
      ValueError: for another output stream.
    """
    if output_stream is None or output_stream is sys.stderr:
        stream = "stderr"
    elif output_stream is sys.stdout:
        stream = "stdout"
    else:
        stream = _STREAMS.get(output_stream) if isinstance(output_stream, str) else None
        if stream is None:
            raise ValueError(f"Unsupported output stream or logging level: {output_stream!r}. "
                             "sessionlib prints to sys.stderr or sys.stdout.")
    if (len(inputs) == 1 and isinstance(inputs[0], Tensor) and inputs[0].dtype is dtypes.string
            and inputs[0].shape.rank == 0):
        graph = inputs[0].graph
        formatted = inputs[0]
    else:
        literals = [x for x in inputs if isinstance(x, str)]
        placeholder, count = "{}", 0
        while any(placeholder in text for text in literals + [sep]):
            placeholder, count = f"{{placeholder_{count}}}", count + 1
        tensors = []
        template = sep.join(_template_piece(x, placeholder, tensors) for x in inputs)
        graph = tensors[0].graph if tensors else graph_lib.get_default_graph()
        with graph.as_default():
            formatted = string_format(template, tensors, placeholder=placeholder,
                                      summarize=summarize)
    with graph.as_default():
        return graph.create_op("PrintV2", [formatted], {"output_stream": stream, "end": end},
                               name=name or "PrintV2")


def identity_n(input, name=None):  # noqa: A002 - TF's argument name
    """Tensors equal to `input`'s, made by one op (``tf.identity_n``).

    Args:
      input: a list of tensors (or values).
      name: the op name (default 'IdentityN').

    Returns:
      A list of Tensors, one per input.
    """
    tensors = [graph_lib.convert_to_tensor(t) for t in input]
    graph = tensors[0].graph if tensors else graph_lib.get_default_graph()
    return graph.create_op("IdentityN", tensors, name=name or "IdentityN").outputs


# ---- the assert_* checks ----------------------------------------------------------------------

def _message_prefix(message):
    return f"{message}.  " if message else ""


def _static_text(item):
    if isinstance(item, Tensor):
        value = _infer.folded_value(item)
        return str(item) if value is None else str(value)
    return str(item)


def _assert_static(condition, data):
    """TF's graph-time failure of a check whose inputs are constants."""
    if not condition:
        raise errors.InvalidArgumentError(None, None,
                                          "\n".join(_static_text(x) for x in data))


def _binary_assert(sym, default_name, op_func, static_func, x, y, data, summarize, message,
                   name):
    with graph_lib.name_scope(name, default_name, _graph_values([x, y], data or [])):
        x = graph_lib.convert_to_tensor(x, name="x")
        y = graph_lib.convert_to_tensor(y, name="y")
        if data is None:
            data = [f"Condition x {sym} y did not hold element-wise:",
                    f"x ({x.name}) = ", x, f"y ({y.name}) = ", y]
        if message is not None:
            data = [message] + list(data)
        condition = math_ops.reduce_all(op_func(x, y))
        x_static, y_static = _infer.folded_value(x), _infer.folded_value(y)
        if x_static is not None and y_static is not None:
            _assert_static(bool(np.all(static_func(x_static, y_static))), data)
        return Assert(condition, data, summarize=summarize)


_BINARY_DOC = """Asserts `x {sym} y` element-wise (``tf.{name}``, TF 1's form).

    Args:
      x: a numeric tensor.
      y: a numeric tensor of x's dtype, broadcastable with it.
      data: the values the error shows; default: the condition's words, x and y.
      summarize: how many elements of each tensor to show.
      message: a string put before the data.
      name: the name scope (default '{name}').

    Returns:
      The ``Assert`` op (a ``NoOp`` for `assert_equal` of a tensor with itself).

    Raises:
      InvalidArgumentError: while building, when x and y are constants and the check fails;
        at run time, when it fails.
    """


def _binary(sym, default_name, op_func, static_func):
    def check(x, y, data=None, summarize=None, message=None, name=None):
        if default_name == "assert_equal":
            # TF enters the scope once to short-cut `x is y`, then again to build the check:
            # the check's scope is the next unique one (``assert_equal_1``), as in TF.
            with graph_lib.name_scope(name, default_name, _graph_values([x, y])):
                if x is y:
                    return control_flow_ops.no_op()
        return _binary_assert(sym, default_name, op_func, static_func, x, y, data, summarize,
                              message, name)

    check.__name__ = check.__qualname__ = default_name
    check.__doc__ = _BINARY_DOC.format(sym=sym, name=default_name)
    return check


assert_equal = _binary("==", "assert_equal", math_ops.equal, np.equal)
assert_none_equal = _binary("!=", "assert_none_equal", math_ops.not_equal, np.not_equal)
assert_less = _binary("<", "assert_less", math_ops.less, np.less)
assert_less_equal = _binary("<=", "assert_less_equal", math_ops.less_equal, np.less_equal)
assert_greater = _binary(">", "assert_greater", math_ops.greater, np.greater)
assert_greater_equal = _binary(">=", "assert_greater_equal", math_ops.greater_equal,
                               np.greater_equal)


def _unary(sym, default_name, zero_on_left, binary_check):
    def check(x, data=None, summarize=None, message=None, name=None):
        message = _message_prefix(message)
        with graph_lib.name_scope(name, default_name, _graph_values([x], data or [])):
            x = graph_lib.convert_to_tensor(x, name="x")
            if data is None:
                data = [message, f"Condition x {sym} 0 did not hold element-wise:",
                        f"x ({x.name}) = ", x]
                if default_name == "assert_non_positive":
                    # TF 1's assert_non_positive joins these two (a missing comma in TF's
                    # list); kept, since messages are matched on.
                    data[1:3] = [data[1] + data[2]]
            zero = graph_lib.convert_to_tensor(np.zeros((), x.dtype.as_numpy_dtype),
                                               dtype=x.dtype)
            pair = (zero, x) if zero_on_left else (x, zero)
            return binary_check(*pair, data=data, summarize=summarize)

    check.__name__ = check.__qualname__ = default_name
    check.__doc__ = f"""Asserts `x {sym} 0` element-wise (``tf.{default_name}``).

    Args:
      x: a numeric tensor.
      data: the values the error shows; default: the condition's words and x.
      summarize: how many elements of each tensor to show.
      message: a string put before the data.
      name: the name scope (default '{default_name}').

    Returns:
      The ``Assert`` op.
    """
    return check


assert_positive = _unary(">", "assert_positive", True, assert_less)
assert_negative = _unary("<", "assert_negative", False, assert_less)
assert_non_negative = _unary(">=", "assert_non_negative", True, assert_less_equal)
assert_non_positive = _unary("<=", "assert_non_positive", False, assert_less_equal)


def assert_near(x, y, rtol=None, atol=None, data=None, summarize=None, message=None,
                name=None):
    """Asserts ``|x - y| < atol + rtol * |y|`` element-wise (``tf.assert_near``).

    Args:
      x: a float tensor.
      y: a tensor of x's dtype, broadcastable with it.
      rtol, atol: the tolerances; default 10 * the dtype's epsilon.
      data, summarize, message, name: as in `assert_equal` (default name 'assert_near').

    Returns:
      The ``Assert`` op.
    """
    message = _message_prefix(message)
    values = _graph_values([x, y, rtol, atol], data or [])
    with graph_lib.name_scope(name, "assert_near", values):
        x = graph_lib.convert_to_tensor(x, name="x")
        y = graph_lib.convert_to_tensor(y, name="y", dtype=x.dtype)
        eps = np.finfo(x.dtype.as_numpy_dtype).eps
        rtol = graph_lib.convert_to_tensor(10 * eps if rtol is None else rtol, name="rtol",
                                           dtype=x.dtype)
        atol = graph_lib.convert_to_tensor(10 * eps if atol is None else atol, name="atol",
                                           dtype=x.dtype)
        if data is None:
            data = [message, f"x and y not equal to tolerance rtol = {rtol}, atol = {atol}",
                    f"x ({x.name}) = ", x, f"y ({y.name}) = ", y]
        tolerance = math_ops.add(atol, math_ops.multiply(rtol, math_ops.abs(y)))
        difference = math_ops.abs(math_ops.subtract(x, y))
        condition = math_ops.reduce_all(math_ops.less(difference, tolerance))
        return Assert(condition, data, summarize=summarize)


def _static_rank_failure(message, x, rank, actual, words):
    return ValueError(f"{message}Tensor {x.name} must have rank{words} {int(rank)}.  Received "
                      f"rank {actual}, shape {x.shape}")


def _rank_check(x, rank, data, summarize, message, name, default_name, words, static_ok,
                dynamic_op):
    with graph_lib.name_scope(name, default_name, _graph_values([x, rank], data or [])):
        x = graph_lib.convert_to_tensor(x, name="x")
        rank = graph_lib.convert_to_tensor(rank, name="rank")
        message = _message_prefix(message)
        if data is None:
            data = [message, f"Tensor {x.name} must have rank{words}", rank,
                    "Received shape: ", array_ops.shape(x)]
        assert_type(rank, dtypes.int32)
        rank_static = _infer.folded_value(rank)
        if rank_static is not None:
            if np.ndim(rank_static) != 0:
                raise ValueError("Rank must be a scalar.")
            if x.shape.rank is not None:
                if not static_ok(x.shape.rank, int(rank_static)):
                    raise _static_rank_failure(message, x, rank_static, x.shape.rank, words)
                return control_flow_ops.no_op(name="static_checks_determined_all_ok")
        condition = dynamic_op(array_ops.rank(x), rank)
        if rank_static is None:
            # As TF: a fed rank must itself be a scalar (assert_rank(x, [2]) is a mistake).
            rank_check = assert_rank(rank, 0, data=["Rank must be a scalar. Received rank: ",
                                                    rank])
            with graph_lib.control_dependencies([rank_check]):
                condition = array_ops.identity(condition)
        return Assert(condition, data, summarize=summarize)


def assert_rank(x, rank, data=None, summarize=None, message=None, name=None):
    """Asserts that `x` has rank `rank` (``tf.assert_rank``).

    Args:
      x: a tensor.
      rank: a scalar int32 tensor (or int).
      data, summarize, message: as in `assert_equal`; default data: the words and x's shape.
      name: the name scope (default 'assert_rank').

    Returns:
      The ``Assert`` op, or a ``NoOp`` when the ranks are known to agree.

    Raises:
      ValueError: when the ranks are known and differ, or `rank` is not a scalar.
      TypeError: when `rank` is not int32.
    """
    return _rank_check(x, rank, data, summarize, message, name, "assert_rank", "",
                       lambda actual, wanted: actual == wanted, math_ops.equal)


def assert_rank_at_least(x, rank, data=None, summarize=None, message=None, name=None):
    """Asserts that `x` has rank `rank` or more (``tf.assert_rank_at_least``); as
    `assert_rank` otherwise."""
    return _rank_check(x, rank, data, summarize, message, name, "assert_rank_at_least",
                       " at least", lambda actual, wanted: actual >= wanted,
                       math_ops.greater_equal)


def assert_rank_in(x, ranks, data=None, summarize=None, message=None, name=None):
    """Asserts that `x`'s rank is one of `ranks` (``tf.assert_rank_in``).

    Args:
      x: a tensor.
      ranks: scalar int32 tensors (or ints).
      data, summarize, message, name: as in `assert_rank` (default name 'assert_rank_in').

    Returns:
      The ``Assert`` op, or a ``NoOp`` when the rank is known to be one of them.

    Raises:
      ValueError: when the ranks are known and none matches.
    """
    ranks = list(ranks)
    with graph_lib.name_scope(name, "assert_rank_in", _graph_values([x], ranks, data or [])):
        x = graph_lib.convert_to_tensor(x, name="x")
        ranks = [graph_lib.convert_to_tensor(r, name="ranks") for r in ranks]
        message = _message_prefix(message)
        for rank in ranks:
            assert_type(rank, dtypes.int32)
        if data is None:
            data = [message, f"Tensor {x.name} must have rank in"] + ranks + [
                "Received shape: ", array_ops.shape(x)]
        statics = [_infer.folded_value(r) for r in ranks]
        if all(v is not None for v in statics) and x.shape.rank is not None:
            if any(np.ndim(v) != 0 for v in statics):
                raise ValueError("Rank must be a scalar.")
            wanted = tuple(int(v) for v in statics)
            if x.shape.rank not in wanted:
                raise ValueError(f"{message}Tensor {x.name} must have rank in {wanted}.  "
                                 f"Received rank {x.shape.rank}, shape {x.shape}")
            return control_flow_ops.no_op(name="static_checks_determined_all_ok")
        actual = array_ops.rank(x)
        matches = [math_ops.equal(actual, r) for r in ranks]
        condition = math_ops.reduce_any(array_ops.stack(matches))
        return Assert(condition, data, summarize=summarize)


def assert_type(tensor, tf_type, message=None, name=None):
    """Checks while building that `tensor` has dtype `tf_type` (``tf.assert_type``).

    Returns:
      A ``NoOp`` named 'statically_determined_correct_type'.

    Raises:
      TypeError: for another dtype.
    """
    tf_type = dtypes.as_dtype(tf_type)
    with graph_lib.name_scope(name, "assert_type", _graph_values([tensor])):
        tensor = graph_lib.convert_to_tensor(tensor, name="tensor")
        if tensor.dtype is not tf_type:
            raise TypeError(f"{_message_prefix(message)}{tensor.name} must be of type "
                            f"{tf_type!r}; got {tensor.dtype!r}")
        return control_flow_ops.no_op(name="statically_determined_correct_type")


def assert_integer(x, message=None, name=None):
    """Checks while building that `x` has an integer dtype (``tf.assert_integer``).

    Returns:
      A ``NoOp`` named 'statically_determined_was_integer'.

    Raises:
      TypeError: for another dtype.
    """
    with graph_lib.name_scope(name, "assert_integer", _graph_values([x])):
        x = graph_lib.convert_to_tensor(x, name="x")
        if not x.dtype.is_integer:
            raise TypeError(f'{_message_prefix(message)}Expected "x" to be integer type.  '
                            f"Found: {x.name} of dtype {x.dtype}")
        return control_flow_ops.no_op(name="statically_determined_was_integer")


def assert_scalar(tensor, name=None, message=None):
    """Checks while building that `tensor` is a scalar (``tf.assert_scalar``).

    Returns:
      `tensor` (converted to a Tensor).

    Raises:
      ValueError: when its rank is not known to be 0.
    """
    with graph_lib.name_scope(name, "assert_scalar", _graph_values([tensor])) as scope:
        tensor = graph_lib.convert_to_tensor(tensor, name=scope)
        if tensor.shape.rank != 0:
            raise ValueError(f"{_message_prefix(message)}Expected scalar shape for "
                             f"{tensor.name}, saw shape: {tensor.shape}.")
        return tensor


def is_numeric_tensor(tensor):
    """Whether `tensor` is a Tensor of a numeric dtype (``tf.is_numeric_tensor``)."""
    return isinstance(tensor, Tensor) and tensor.dtype in dtypes.NUMERIC_DTYPES


def _monotonic(x, name, default_name, compare):
    with graph_lib.name_scope(name, default_name, _graph_values([x])):
        x = array_ops.reshape(x, [-1])
        if not is_numeric_tensor(x):
            raise TypeError(f"Expected x to be numeric, instead found: {x}")
        # x[1:] against x[:-1]: both empty for fewer than two elements, and all([]) holds.
        later = array_ops.strided_slice(x, [1], [0], end_mask=1)
        earlier = array_ops.strided_slice(x, [0], [-1])
        return math_ops.reduce_all(compare(later, earlier))


def is_non_decreasing(x, name=None):
    """A bool scalar: whether the elements of `x` (row-major) never decrease
    (``tf.is_non_decreasing``).

    Raises:
      TypeError: for a tensor that is not numeric.
    """
    return _monotonic(x, name, "is_non_decreasing", math_ops.greater_equal)


def is_strictly_increasing(x, name=None):
    """A bool scalar: whether the elements of `x` (row-major) increase
    (``tf.is_strictly_increasing``).

    Raises:
      TypeError: for a tensor that is not numeric.
    """
    return _monotonic(x, name, "is_strictly_increasing", math_ops.greater)


# ``tf.strings`` (only `format` lives here so far), a module object like ``tf.nn``.
strings = types.ModuleType("sessionlib.strings", "String ops (``tf.strings``).")
strings.format = string_format
