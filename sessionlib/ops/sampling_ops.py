"""Sampling ops: ``random_shuffle`` (op ``RandomShuffle``), ``multinomial`` and
``random.categorical`` (op ``Multinomial``), and the small ``tf.random`` namespace.

Both ops are stateful random ops, seeded like those of ``random_ops.py`` (TF's ``get_seed``
rules, recorded as ``seed``/``seed2`` attrs; each op continues its own sequence run after run,
and a new session starts it again). Neither is differentiable, as in TF. The kernels are in
``runtime/kernels/sampling_kernels.py``.
"""

import types

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, random_ops

__all__ = ["random_shuffle", "multinomial", "categorical", "random"]


def _random_shuffle_infer(inputs, attrs):
    attrs["T"] = inputs[0].dtype
    attrs.setdefault("seed", 0)
    attrs.setdefault("seed2", 0)
    return [(inputs[0].dtype, inputs[0].shape)]


registry.register_op("RandomShuffle", infer=_random_shuffle_infer, kernel="RandomShuffle",
                     num_inputs=1, stateful=True,
                     doc="Shuffles a tensor along its first dimension.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def random_shuffle(value, seed=None, name=None):
    """`value` with its slices along the first dimension in a random order (op
    ``RandomShuffle``).

    Args:
      value: a Tensor (a scalar is returned as it is).
      seed: the op-level seed (see `set_random_seed`).
      name: the op name.

    Returns:
      A Tensor of `value`'s shape and dtype; each run of a session gives a new order.
    """
    graph = graph_lib.get_default_graph() if not hasattr(value, "graph") else value.graph
    with graph.as_default(), graph.name_scope(name or "RandomShuffle") as scope:
        value_t = array_ops._tensor(value, "value", graph)
        return graph.create_op("RandomShuffle", [value_t], random_ops._seed_attrs(seed),
                               name=scope).outputs[0]


def _multinomial_infer(inputs, attrs):
    logits, num_samples = inputs
    _infer.check_dtype("Multinomial", logits, dtypes.NUMERIC_DTYPES, "logits")
    _infer.check_dtype("Multinomial", num_samples, (dtypes.int32,), "num_samples")
    attrs["T"] = logits.dtype
    out_dtype = attrs.setdefault("output_dtype", dtypes.int64)
    if out_dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Value passed to parameter 'output_dtype' has DataType "
                        f"{out_dtype.name} not in list of allowed values: int32, int64")
    attrs.setdefault("seed", 0)
    attrs.setdefault("seed2", 0)
    if logits.shape.rank not in (None, 2):
        raise ValueError(f"Shape must be rank 2 but is rank {logits.shape.rank} for "
                         "'Multinomial'")
    if num_samples.shape.rank not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {num_samples.shape.rank} for "
                         "'Multinomial'")
    batch = logits.shape[0] if logits.shape.rank == 2 else None
    count = _infer.folded_value(num_samples)
    return [(out_dtype, TensorShape([batch, None if count is None else int(count)]))]


registry.register_op("Multinomial", infer=_multinomial_infer, kernel="Multinomial",
                     num_inputs=2, stateful=True,
                     doc="Draws class indices from categorical distributions given by "
                         "logits.", gradient=registry.NOT_DIFFERENTIABLE)


def _sample(default_name, logits, num_samples, seed, name, output_dtype):
    graph = logits.graph if hasattr(logits, "graph") else graph_lib.get_default_graph()
    with graph.as_default(), graph.name_scope(name or default_name):
        logits_t = array_ops._tensor(logits, "logits", graph)
        count = graph_lib.convert_to_tensor(num_samples, dtype=dtypes.int32,
                                            name="num_samples", graph=graph)
        attrs = random_ops._seed_attrs(seed)
        attrs["output_dtype"] = dtypes.as_dtype(output_dtype or dtypes.int64)
        return graph.create_op("Multinomial", [logits_t, count], attrs,
                               name="Multinomial").outputs[0]


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """Class indices drawn from the categorical distributions of `logits` (op
    ``Multinomial``; TF 1's name for `categorical`).

    Args:
      logits: a ``[batch_size, num_classes]`` Tensor of unnormalized log-probabilities.
      num_samples: a scalar, the number of draws per row.
      seed: the op-level seed (see `set_random_seed`).
      name: the name scope (default 'multinomial').
      output_dtype: int64 (default) or int32.

    Returns:
      A ``[batch_size, num_samples]`` Tensor of indices in ``[0, num_classes)``; each run of
      a session draws anew.
    """
    return _sample("multinomial", logits, num_samples, seed, name, output_dtype)


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """``tf.random.categorical``: like `multinomial`, with the output dtype named `dtype`
    and the name scope 'categorical'."""
    return _sample("categorical", logits, num_samples, seed, name, dtype)


# ``tf.random`` did not exist before this module; it holds the random functions of TF's
# namespace that sessionlib has, and no more.
random = types.ModuleType("sessionlib.random", "Random ops (``tf.random``).")
random.categorical = categorical
random.multinomial = multinomial
random.shuffle = random_shuffle
random.uniform = random_ops.random_uniform
random.normal = random_ops.random_normal
random.truncated_normal = random_ops.truncated_normal
random.set_random_seed = random_ops.set_random_seed
