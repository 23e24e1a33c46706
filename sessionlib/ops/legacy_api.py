"""TF 1's small top-level helpers and deprecated aliases that are not ops of their own:
``tf.is_tensor``, ``tf.get_static_value``, ``tf.convert_to_tensor_or_*``, the old variable
helpers (``tf.all_variables`` ...), ``tf.op_scope`` / ``tf.variable_op_scope``,
``tf.container``, and the enums ``tf.AggregationMethod`` / ``tf.UnconnectedGradients``."""

import contextlib
import enum

from sessionlib.framework import graph as graph_lib
from sessionlib.framework import tensor_util
from sessionlib.framework.indexed_slices import IndexedSlices
from sessionlib.framework.sparse_tensor import SparseTensor, SparseTensorValue
from sessionlib.ops import array_ops, check_ops, math_ops, variables
from sessionlib.ops import variable_scope as vs

__all__ = ["AggregationMethod", "UnconnectedGradients", "is_tensor", "get_static_value",
           "convert_to_tensor_or_indexed_slices", "convert_to_tensor_or_sparse_tensor",
           "all_variables", "initialize_variables", "initialize_local_variables",
           "assert_variables_initialized", "op_scope", "variable_op_scope", "container"]


class AggregationMethod:
    """How `tf.gradients` sums the gradients that reach one tensor. Every method gives the
    same sum here; the names exist for TF's signature."""

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


class UnconnectedGradients(enum.Enum):
    """What `tf.gradients` returns for an x that the ys do not depend on: None or zeros."""

    NONE = "none"
    ZERO = "zero"


def is_tensor(x):
    """Whether `x` is a graph tensor or tensor-like value (`Tensor`, `SparseTensor`,
    `IndexedSlices`, `Variable`), as opposed to a Python or numpy value."""
    return isinstance(x, (graph_lib.Tensor, SparseTensor, IndexedSlices, variables.Variable))


def get_static_value(tensor, partial=False):
    """The value of `tensor` when known while the graph is built (a numpy array), else None.

    Args:
      tensor: a `Tensor`; anything that is not a tensor is returned as it is.
      partial: accepted for TF's signature; only whole values are computed.

    Returns:
      A numpy array, None, or `tensor` itself when it is not a tensor.
    """
    del partial
    if isinstance(tensor, variables.Variable):
        return None
    if not isinstance(tensor, graph_lib.Tensor):
        return tensor
    return tensor_util.constant_value(tensor)


def _check_dtype(value, dtype, kind):
    from sessionlib import dtypes

    if dtype is not None and not dtypes.as_dtype(dtype).is_compatible_with(value.dtype):
        raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} "
                         f"for {kind} with dtype {value.dtype.name}: {value}")
    return value


def convert_to_tensor_or_indexed_slices(value, dtype=None, name=None):
    """`value` unchanged when it is `IndexedSlices`, else `tf.convert_to_tensor(value)`.

    Raises:
      ValueError: if `dtype` is given and does not match.
    """
    if isinstance(value, IndexedSlices):
        return _check_dtype(value, dtype, "IndexedSlices")
    return graph_lib.convert_to_tensor(value, dtype=dtype, name=name)


def convert_to_tensor_or_sparse_tensor(value, dtype=None, name=None):
    """`value` as a `SparseTensor` when it is sparse (a `SparseTensorValue` becomes one),
    else `tf.convert_to_tensor(value)`.

    Raises:
      ValueError: if `dtype` is given and does not match.
    """
    if isinstance(value, SparseTensorValue):
        value = SparseTensor.from_value(value)
    if isinstance(value, SparseTensor):
        return _check_dtype(value, dtype, "SparseTensor")
    return graph_lib.convert_to_tensor(value, dtype=dtype, name=name)


def all_variables():
    """Deprecated TF 1 spelling of `tf.global_variables`."""
    return variables.global_variables()


def initialize_variables(var_list, name="init"):
    """Deprecated TF 1 spelling of `tf.variables_initializer`."""
    return variables.variables_initializer(var_list, name=name)


def initialize_local_variables():
    """Deprecated TF 1 spelling of `tf.local_variables_initializer`."""
    return variables.local_variables_initializer()


def assert_variables_initialized(var_list=None):
    """An op that fails (InvalidArgumentError) when run while a variable is uninitialized.

    Args:
      var_list: the variables to check; default: the global and local variables.

    Returns:
      The assertion op, or None when there are no variables.
    """
    if var_list is None:
        var_list = variables.global_variables() + variables.local_variables()
    var_list = list(var_list)
    if not var_list:
        return None
    with graph_lib.name_scope(None, "assert_variables_initialized"):
        states = array_ops.stack([variables.is_variable_initialized(v) for v in var_list])
        return check_ops.Assert(math_ops.reduce_all(states),
                                ["Not all variables are initialized:",
                                 variables.report_uninitialized_variables(var_list)])


def op_scope(values, name, default_name=None):
    """Deprecated TF 1 spelling of ``tf.name_scope(name, default_name, values)``."""
    return graph_lib.name_scope(name, default_name=default_name, values=values)


def variable_op_scope(values, name_or_scope, default_name=None, initializer=None,
                      regularizer=None, caching_device=None, partitioner=None,
                      custom_getter=None, reuse=None, dtype=None, use_resource=None,
                      constraint=None):
    """Deprecated TF 1 spelling of ``tf.variable_scope(name_or_scope, default_name, values,
    ...)``."""
    return vs.variable_scope(name_or_scope, default_name=default_name, values=values,
                             initializer=initializer, regularizer=regularizer,
                             caching_device=caching_device, partitioner=partitioner,
                             custom_getter=custom_getter, reuse=reuse, dtype=dtype,
                             use_resource=use_resource, constraint=constraint)


@contextlib.contextmanager
def container(container_name):
    """TF's resource-container scope. sessionlib keeps every stateful resource of a session in
    one container (``Session.reset`` is not supported), so the name is checked and the scope
    changes nothing.

    Raises:
      TypeError: if `container_name` is not a string.
    """
    if not isinstance(container_name, str):
        raise TypeError(f"container_name must be a string, got {container_name!r}")
    yield container_name
