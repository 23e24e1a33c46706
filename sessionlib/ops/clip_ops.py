"""Gradient clipping: ``tf.clip_by_norm``, ``tf.global_norm``, ``tf.clip_by_global_norm`` and
``tf.clip_by_average_norm``.

Built from existing ops, as TF builds them (``tf.clip_by_value`` is ``array_ops``'s). An
`IndexedSlices` is clipped through its values and stays sparse; None entries of a list pass
through as None.
"""

import collections.abc

from sessionlib.framework import graph as graph_lib
from sessionlib.framework.indexed_slices import IndexedSlices

__all__ = ["clip_by_norm", "global_norm", "clip_by_global_norm", "clip_by_average_norm"]


def _values_of(t, name):
    values = t.values if isinstance(t, IndexedSlices) else t
    if isinstance(values, graph_lib.Tensor):
        return values
    return graph_lib.convert_to_tensor(values, name=name)


def _graph_values(items):
    return [item.values if isinstance(item, IndexedSlices) else item for item in items
            if isinstance(item, (graph_lib.Tensor, IndexedSlices))]


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """Scales `t` so that its L2 norm (over `axes`) is at most `clip_norm`.

    ``t * clip_norm / max(l2norm(t), clip_norm)``, with the norm computed along `axes` (all
    axes by default), as TF computes it (a zero norm leaves `t` unchanged).

    Args:
      t: a Tensor or `IndexedSlices` (its values are clipped).
      clip_norm: a positive scalar.
      axes: the axes of the norm; default: all.
      name: the name scope (default 'clip_by_norm').

    Returns:
      A Tensor (or `IndexedSlices`) of `t`'s shape and dtype.
    """
    from sessionlib.ops import array_ops, math_ops

    with graph_lib.name_scope(name, "clip_by_norm", _graph_values([t])) as scope:
        values = _values_of(t, "t")
        l2sum = math_ops.reduce_sum(values * values, axes, keepdims=True)
        positive = l2sum > 0
        # The square root of a zero sum has an infinite gradient: take it of ones there.
        l2sum_safe = array_ops.where(positive, l2sum, array_ops.ones_like(l2sum))
        l2norm = array_ops.where(positive, math_ops.sqrt(l2sum_safe), l2sum)
        clip_norm = graph_lib.convert_to_tensor(clip_norm, dtype=values.dtype,
                                                name="clip_norm")
        intermediate = values * clip_norm
        clipped = array_ops.identity(intermediate / math_ops.maximum(l2norm, clip_norm),
                                     name=scope)
    if isinstance(t, IndexedSlices):
        return IndexedSlices(clipped, t.indices, t.dense_shape)
    return clipped


def _check_sequence(t_list, what):
    if not isinstance(t_list, collections.abc.Sequence) or isinstance(t_list, (str, bytes)):
        raise TypeError(f"`{what}` should be a sequence of tensors. Received {type(t_list)}.")
    return list(t_list)


def global_norm(t_list, name=None):
    """``sqrt(sum(l2norm(t) ** 2 for t in t_list))``, skipping None entries.

    Args:
      t_list: a sequence of Tensors, `IndexedSlices` (their values count) or None.
      name: the name scope (default 'global_norm').

    Returns:
      A scalar Tensor named ``<scope>/global_norm``.

    Raises:
      TypeError: if `t_list` is not a sequence.
    """
    from sessionlib.ops import array_ops, math_ops

    t_list = _check_sequence(t_list, "t_list")
    with graph_lib.name_scope(name, "global_norm", _graph_values(t_list)):
        values = [_values_of(t, f"t_{i}") if t is not None else None
                  for i, t in enumerate(t_list)]
        half_squared_norms = []
        for value in values:
            if value is not None:
                # TF sums nn.l2_loss terms: half the sum of squares, doubled once at the end.
                device = graph_lib.device(value.device) if value.device else _NoScope()
                with device:
                    half_squared_norms.append(
                        math_ops.reduce_sum(value * value) * 0.5)
        if not half_squared_norms:
            raise ValueError("global_norm needs at least one tensor that is not None")
        half_squared_norm = math_ops.reduce_sum(array_ops.stack(half_squared_norms))
        return math_ops.sqrt(half_squared_norm * 2.0, name="global_norm")


class _NoScope:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scales every tensor of `t_list` by ``clip_norm / max(global_norm, clip_norm)``.

    Args:
      t_list: a sequence of Tensors, `IndexedSlices` or None (kept as None).
      clip_norm: a positive scalar, the largest global norm.
      use_norm: the global norm to use (default: `global_norm(t_list)`).
      name: the name scope (default 'clip_by_global_norm').

    Returns:
      ``(list_clipped, global_norm)``: the clipped tensors (IndexedSlices stay IndexedSlices)
      and the global norm. A NaN or infinite norm makes every entry NaN, as in TF.

    Raises:
      TypeError: if `t_list` is not a sequence.
    """
    from sessionlib.ops import array_ops, math_ops

    t_list = _check_sequence(t_list, "t_list")
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    use_norm = graph_lib.convert_to_tensor(use_norm)
    with graph_lib.name_scope(name, "clip_by_global_norm",
                              _graph_values(t_list) + [use_norm]) as scope:
        clip_norm = graph_lib.convert_to_tensor(clip_norm, dtype=use_norm.dtype,
                                                name="clip_norm")
        one = graph_lib.convert_to_tensor(1.0, dtype=use_norm.dtype)
        scale_for_finite = clip_norm * math_ops.minimum(one / use_norm, one / clip_norm)
        # A finite norm adds zero here; an infinite or NaN one makes the scale NaN.
        scale = scale_for_finite + (use_norm - use_norm)
        clipped = []
        for i, t in enumerate(t_list):
            if t is None:
                clipped.append(None)
                continue
            value = _values_of(t, f"t_{i}")
            device = graph_lib.device(value.device) if value.device else _NoScope()
            with device:
                result = array_ops.identity(value * math_ops.cast(scale, value.dtype),
                                            name=f"{scope.rstrip('/')}_{i}")
            clipped.append(IndexedSlices(result, t.indices, t.dense_shape)
                           if isinstance(t, IndexedSlices) else result)
    return clipped, use_norm


def clip_by_average_norm(t, clip_norm, name=None):
    """Scales `t` so that its L2 norm divided by its number of elements is at most `clip_norm`.

    ``t * clip_norm * min(size(t) / l2norm(t), 1 / clip_norm)``, built as TF builds it (so
    an all-zero `t` gives NaN, as in TF).

    Args:
      t: a float32 Tensor.
      clip_norm: a positive scalar.
      name: the name scope (default 'clip_by_average_norm').

    Returns:
      A Tensor of `t`'s shape and dtype.
    """
    from sessionlib import dtypes
    from sessionlib.ops import array_ops, math_ops

    with graph_lib.name_scope(name, "clip_by_average_norm", _graph_values([t])) as scope:
        t = graph_lib.convert_to_tensor(t, name="t")
        n_element = math_ops.cast(array_ops.size(t), dtypes.float32)
        l2norm_inv = math_ops.rsqrt(math_ops.reduce_sum(t * t,
                                                        array_ops.range(array_ops.rank(t))))
        return array_ops.identity(
            t * clip_norm * math_ops.minimum(l2norm_inv * n_element,
                                             graph_lib.convert_to_tensor(1.0) / clip_norm),
            name=scope)
