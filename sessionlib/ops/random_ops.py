"""Random ops with TF 1 semantics: ``random_uniform``, ``random_normal``, ``truncated_normal``.

Each random op is stateful and owns a generator that lives in the session's resource
container, keyed by the op's name: every run continues that op's sequence (different values
each run), and a new session starts it again. With a graph-level seed (`set_random_seed`) or an
op seed, a new session reproduces the same sequence; with neither, the generator is seeded
from the OS. The seeds follow TF's ``get_seed`` rules and are recorded as the ops' ``seed`` and
``seed2`` attrs, so an imported GraphDef draws the same numbers. The generators and the draws
are the kernels' business (``random_kernels.py``, bound by the kernel table to the op types
named here); this module only builds graphs.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Tensor
from sessionlib.ops import _infer

__all__ = ["random_uniform", "random_normal", "truncated_normal", "set_random_seed",
           "get_seed"]

# TF's seed for ops that set an op seed in a graph without a graph-level seed.
DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2 ** 31 - 1
_FLOATS = dtypes.FLOAT_DTYPES
_INT_OUTPUTS = (dtypes.int32, dtypes.int64)


def set_random_seed(seed):
    """Sets the graph-level random seed of the default graph (TF 1's ``set_random_seed``).

    Args:
      seed: an int, or None to clear it.
    """
    graph_lib.get_default_graph().seed = None if seed is None else int(seed)


def get_seed(op_seed):
    """The ``(seed, seed2)`` pair for a random op, by TF's rules.

    Args:
      op_seed: the op-level seed, or None.

    Returns:
      Two ints (or Nones): the graph seed and the op seed. With neither set, (None, None).
    """
    graph = graph_lib.get_default_graph()
    graph_seed = graph.seed
    if graph_seed is not None:
        if op_seed is None:
            # TF derives the op seed from the graph's op count, so that each op differs.
            op_seed = graph._id_counter
        return int(graph_seed), int(op_seed)
    if op_seed is not None:
        return DEFAULT_GRAPH_SEED, int(op_seed)
    return None, None


def _random_infer(op_type):
    def infer(inputs, attrs):
        _infer.check_index_dtype(op_type, inputs[0], "shape")
        attrs["T"] = inputs[0].dtype
        dtype = attrs["dtype"]
        if dtype not in _FLOATS:
            raise TypeError(f"Value passed to parameter 'dtype' has DataType {dtype.name} not "
                            f"in list of allowed values: float16, float32, float64 ({op_type})")
        attrs.setdefault("seed", 0)
        attrs.setdefault("seed2", 0)
        return [(dtype, _infer.shape_from_tensor(inputs[0]))]

    return infer


registry.register_op("RandomUniform", infer=_random_infer("RandomUniform"),
                     kernel="RandomUniform", num_inputs=1, stateful=True,
                     doc="Uniform floats in [0, 1).",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("RandomStandardNormal", infer=_random_infer("RandomStandardNormal"),
                     kernel="RandomStandardNormal", num_inputs=1, stateful=True,
                     doc="Standard normal floats.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("TruncatedNormal", infer=_random_infer("TruncatedNormal"),
                     kernel="TruncatedNormal", num_inputs=1, stateful=True,
                     doc="Standard normal floats within two standard deviations.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def _random_int_infer(inputs, attrs):
    shape_t, low, high = inputs
    _infer.check_index_dtype("RandomUniformInt", shape_t, "shape")
    dtype = _infer.same_dtype("RandomUniformInt", [low, high], names=("minval", "maxval"))
    _infer.check_dtype("RandomUniformInt", low, _INT_OUTPUTS, "minval")
    for bound in (low, high):
        if bound.shape.rank not in (0, None):
            raise ValueError(f"Shape must be rank 0 but is rank {bound.shape.rank} for "
                             "'RandomUniformInt'")
    attrs["T"] = shape_t.dtype
    attrs["Tout"] = dtype
    attrs.setdefault("seed", 0)
    attrs.setdefault("seed2", 0)
    return [(dtype, _infer.shape_from_tensor(shape_t))]


registry.register_op("RandomUniformInt", infer=_random_int_infer,
                     kernel="RandomUniformInt", num_inputs=3, stateful=True,
                     doc="Uniform integers in [minval, maxval).",
                     gradient=registry.NOT_DIFFERENTIABLE)


def _seed_attrs(seed):
    seed, seed2 = get_seed(seed)
    if seed is None:
        return {"seed": 0, "seed2": 0}
    if seed == 0 and seed2 == 0:
        seed2 = _MAXINT32  # TF: (0, 0) would mean "unseeded"
    return {"seed": seed, "seed2": seed2}


def _shape_tensor(shape, graph):
    from sessionlib.ops import array_ops

    return array_ops._index_tensor(shape, "shape", graph)


def _is_const(value, number):
    return not isinstance(value, Tensor) and np.all(np.asarray(value) == number)


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Uniform random values in ``[minval, maxval)`` (op ``RandomUniform``, or
    ``RandomUniformInt`` for integer dtypes).

    Args:
      shape: the output shape (list or 1-D int Tensor).
      minval: the lower bound (inclusive).
      maxval: the upper bound (exclusive); 1 for floats when None, required for integers.
      dtype: float16/32/64, int32 or int64.
      seed: the op-level seed (see `set_random_seed`).
      name: the op name.

    Returns:
      A Tensor of `dtype`; each run of a session gives new values.

    Raises:
      ValueError: if `maxval` is missing for an integer dtype.
    """
    dtype = dtypes.as_dtype(dtype)
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "random_uniform") as scope:
        shape_t = _shape_tensor(shape, graph)
        attrs = _seed_attrs(seed)
        if dtype.is_integer:
            if maxval is None:
                raise ValueError("Must specify maxval for integer dtype "
                                 f"{dtype.name}")
            low = graph_lib.convert_to_tensor(minval, dtype=dtype, name="min")
            high = graph_lib.convert_to_tensor(maxval, dtype=dtype, name="max")
            return graph.create_op("RandomUniformInt", [shape_t, low, high], attrs,
                                   name=scope).outputs[0]
        if maxval is None:
            maxval = 1
        attrs["dtype"] = dtype
        minval_is_zero = _is_const(minval, 0)
        maxval_is_one = _is_const(maxval, 1)
        if minval_is_zero and maxval_is_one:
            return graph.create_op("RandomUniform", [shape_t], attrs,
                                   name="RandomUniform").outputs[0]
        from sessionlib.ops import math_ops

        low = graph_lib.convert_to_tensor(minval, dtype=dtype, name="min")
        high = graph_lib.convert_to_tensor(maxval, dtype=dtype, name="max")
        draw = graph.create_op("RandomUniform", [shape_t], attrs, name="RandomUniform")
        span = math_ops.subtract(high, low, name="sub")
        scaled = math_ops.multiply(draw.outputs[0], span, name="mul")
        return graph.create_op("AddV2", [scaled, low], name=scope).outputs[0]


def _normal(op_type, default_name, shape, mean, stddev, dtype, seed, name):
    dtype = dtypes.as_dtype(dtype)
    graph = graph_lib.get_default_graph()
    from sessionlib.ops import math_ops

    with graph.name_scope(name or default_name) as scope:
        shape_t = _shape_tensor(shape, graph)
        mean_t = graph_lib.convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev_t = graph_lib.convert_to_tensor(stddev, dtype=dtype, name="stddev")
        attrs = _seed_attrs(seed)
        attrs["dtype"] = dtype
        draw = graph.create_op(op_type, [shape_t], attrs, name=op_type).outputs[0]
        scaled = math_ops.multiply(draw, stddev_t, name="mul")
        return graph.create_op("AddV2", [scaled, mean_t], name=scope).outputs[0]


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normally distributed random values (op ``RandomStandardNormal``, scaled and shifted).

    Args:
      shape: the output shape (list or 1-D int Tensor).
      mean, stddev: the distribution's mean and standard deviation.
      dtype: float16, float32 or float64.
      seed: the op-level seed (see `set_random_seed`).
      name: the op name.

    Returns:
      A Tensor of `dtype`; each run of a session gives new values.
    """
    return _normal("RandomStandardNormal", "random_normal", shape, mean, stddev, dtype, seed,
                   name)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal random values redrawn when more than two standard deviations from the mean
    (op ``TruncatedNormal``); arguments as for `random_normal`."""
    return _normal("TruncatedNormal", "truncated_normal", shape, mean, stddev, dtype, seed,
                   name)
