"""Random ops with TF 1 semantics: ``random_uniform``, ``random_normal``, ``truncated_normal``,
``random_gamma`` and ``random_poisson``.

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
from sessionlib.framework.tensor_shape import broadcast_shapes
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


# ---- random_gamma, random_poisson --------------------------------------------------------------

def _sampled_infer(op_type, param_name, param_dtypes, out_dtype_attr):
    """Infer of a random op drawing `shape` samples per entry of a parameter tensor."""
    def infer(inputs, attrs):
        shape_t, param = inputs
        _infer.check_index_dtype(op_type, shape_t, "shape")
        if param.dtype not in param_dtypes:
            raise TypeError(f"Value passed to parameter '{param_name}' has DataType "
                            f"{param.dtype.name} not in list of allowed values: "
                            + ", ".join(d.name for d in param_dtypes))
        attrs["S"] = shape_t.dtype
        attrs.setdefault("seed", 0)
        attrs.setdefault("seed2", 0)
        if out_dtype_attr is None:
            attrs["T"] = dtype = param.dtype
        else:
            attrs["R"] = param.dtype
            dtype = attrs[out_dtype_attr] = dtypes.as_dtype(attrs[out_dtype_attr])
            if dtype not in _FLOATS + _INT_OUTPUTS:
                raise TypeError(f"Value passed to parameter 'dtype' has DataType {dtype.name} "
                                "not in list of allowed values: float16, float32, float64, "
                                "int32, int64")
        return [(dtype, _infer.shape_from_tensor(shape_t).concatenate(param.shape))]

    return infer


def _random_gamma_grad(op, grad):
    # The implicit reparameterization gradient of TF: d sample / d alpha at the drawn sample
    # (RandomGammaGrad), summed over the sample dimensions.
    from sessionlib.ops import array_ops, math_ops

    shape_t, alpha = op.inputs
    sample = op.outputs[0]
    with graph_lib.control_dependencies([grad]):
        num_sample_dims = array_ops.shape(shape_t)[0]
        leading_ones = array_ops.ones(array_ops.expand_dims(num_sample_dims, 0), dtypes.int32)
        alpha_shape = array_ops.concat([leading_ones, array_ops.shape(alpha)], 0)
        alpha_broadcastable = array_ops.reshape(alpha, alpha_shape)
        partial_alpha = graph_lib.get_default_graph().create_op(
            "RandomGammaGrad", [alpha_broadcastable, sample]).outputs[0]
        return [None, math_ops.reduce_sum(grad * partial_alpha,
                                          array_ops.range(num_sample_dims))]


def _random_gamma_grad_infer(inputs, attrs):
    alpha, sample = inputs
    dtype = _infer.same_dtype("RandomGammaGrad", inputs, ("alpha", "sample"))
    if dtype not in (dtypes.float32, dtypes.float64):
        raise TypeError(f"Value passed to parameter 'alpha' has DataType {dtype.name} not in "
                        "list of allowed values: float32, float64")
    attrs["T"] = dtype
    return [(dtype, broadcast_shapes(alpha.shape, sample.shape, "RandomGammaGrad"))]


registry.register_op("RandomGamma",
                     infer=_sampled_infer("RandomGamma", "alpha", _FLOATS, None),
                     kernel="RandomGamma", num_inputs=2, stateful=True,
                     doc="Gamma(alpha, 1) samples, `shape` per alpha.",
                     gradient=_random_gamma_grad)
registry.register_op("RandomGammaGrad", infer=_random_gamma_grad_infer,
                     kernel="RandomGammaGrad", num_inputs=2,
                     doc="d sample / d alpha of gamma samples.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("RandomPoissonV2",
                     infer=_sampled_infer("RandomPoissonV2", "rate",
                                          _FLOATS + _INT_OUTPUTS, "dtype"),
                     kernel="RandomPoissonV2", num_inputs=2, stateful=True,
                     doc="Poisson(rate) samples, `shape` per rate.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def random_gamma(shape, alpha, beta=None, dtype=dtypes.float32, seed=None, name=None):
    """Samples of Gamma(alpha, beta) (``tf.random_gamma``; op ``RandomGamma``).

    Args:
      shape: the sample shape drawn for each distribution (list or 1-D int tensor).
      alpha: the concentrations (broadcast with `beta`).
      beta: the inverse scales (rates); default 1.
      dtype: float16, float32 or float64.
      seed: the op-level seed (see `set_random_seed`).
      name: the name scope (default 'random_gamma').

    Returns:
      A tensor of shape ``shape + broadcast(alpha, beta).shape``, at least the smallest
      positive normal number of `dtype`. Differentiable in `alpha` and `beta`, as in TF.
    """
    from sessionlib.ops import array_extra_ops, array_ops, math_ops

    dtype = dtypes.as_dtype(dtype)
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "random_gamma"):
        shape_t = _shape_tensor(shape, graph)
        alpha = graph_lib.convert_to_tensor(alpha, dtype=dtype, name="alpha")
        beta = graph_lib.convert_to_tensor(1 if beta is None else beta, dtype=dtype,
                                           name="beta")
        broadcast_shape = array_extra_ops.broadcast_dynamic_shape(array_ops.shape(alpha),
                                                                  array_ops.shape(beta))
        alpha_broadcast = array_extra_ops.broadcast_to(alpha, broadcast_shape)
        draw = graph.create_op("RandomGamma", [shape_t, alpha_broadcast], _seed_attrs(seed),
                               name="RandomGamma").outputs[0]
        tiny = graph_lib.convert_to_tensor(np.finfo(dtype.as_numpy_dtype).tiny, dtype=dtype)
        return math_ops.maximum(tiny, math_ops.truediv(draw, beta), name="Maximum")


def random_poisson(lam, shape, dtype=dtypes.float32, seed=None, name=None):
    """Samples of Poisson(lam) (``tf.random_poisson``; op ``RandomPoissonV2``).

    Args:
      lam: the rates (float16/32/64, int32 or int64 tensor or value).
      shape: the sample shape drawn for each rate (list or 1-D int tensor).
      dtype: the output type: float16/32/64, int32 or int64.
      seed: the op-level seed (see `set_random_seed`).
      name: the name scope (default 'random_poisson').

    Returns:
      A tensor of `dtype` and shape ``shape + lam.shape``.
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "random_poisson"):
        shape_t = _shape_tensor(shape, graph)
        rate = graph_lib.convert_to_tensor(lam, name="rate")
        attrs = _seed_attrs(seed)
        attrs["dtype"] = dtypes.as_dtype(dtype)
        return graph.create_op("RandomPoissonV2", [shape_t, rate], attrs,
                               name="RandomPoissonV2").outputs[0]


__all__ += ["random_gamma", "random_poisson"]
