"""Linear-algebra ops: ``qr`` (op ``Qr``).

``Qr`` exists for the orthogonal initializer, which orthonormalizes a normal draw. Its kernel
is numpy's LAPACK QR (``runtime/kernels/linalg_kernels.py``). TF gives ``Qr`` a gradient built
from triangular solves, ops sessionlib does not have yet; initializers never differentiate
through it, so it is registered as not differentiable (gradients stop there) for now.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer

__all__ = ["qr"]

_QR_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)


def _qr_infer(inputs, attrs):
    (value,) = inputs
    _infer.check_dtype("Qr", value, _QR_DTYPES, "input")
    attrs["T"] = value.dtype
    full = attrs["full_matrices"] = bool(attrs.get("full_matrices", False))
    shape = value.shape
    if shape.rank is None:
        unknown = TensorShape(None)
        return [(value.dtype, unknown), (value.dtype, unknown)]
    if shape.rank < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {shape.rank} for 'Qr'")
    dims = shape.as_list()
    batch, rows, cols = dims[:-2], dims[-2], dims[-1]
    if full:
        q_shape, r_shape = batch + [rows, rows], batch + [rows, cols]
    else:
        k = None if rows is None or cols is None else min(rows, cols)
        q_shape, r_shape = batch + [rows, k], batch + [k, cols]
    return [(value.dtype, TensorShape(q_shape)), (value.dtype, TensorShape(r_shape))]


registry.register_op("Qr", infer=_qr_infer, kernel="Qr", num_inputs=1,
                     doc="The QR decomposition of (a batch of) matrices: q, r.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def qr(input, full_matrices=False, name=None):  # noqa: A002 - TF's argument name
    """The QR decompositions of the inner-most matrices of `input` (op ``Qr``).

    Args:
      input: a float Tensor of rank >= 2, shape ``[..., M, N]``.
      full_matrices: if True, q is ``[..., M, M]`` and r ``[..., M, N]``; else q is
        ``[..., M, K]`` and r ``[..., K, N]`` with ``K = min(M, N)``.
      name: the op name.

    Returns:
      ``(q, r)``: q with orthonormal columns, r upper triangular, ``q @ r == input``.
    """
    graph = graph_lib.get_default_graph()
    value = graph_lib.convert_to_tensor(input)
    op = graph.create_op("Qr", [value], {"full_matrices": full_matrices}, name=name or "Qr")
    return op.outputs[0], op.outputs[1]
