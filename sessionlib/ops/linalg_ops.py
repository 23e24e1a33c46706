"""Linear-algebra ops over the inner-most two dimensions of ``[..., M, N]`` tensors.

Ops (one registration each): ``MatrixInverse``, ``MatrixDeterminant``, ``LogMatrixDeterminant``,
``Cholesky``, ``MatrixSolve``, ``MatrixTriangularSolve``, ``MatrixBandPart``, ``MatrixDiag``,
``MatrixDiagPart``, ``MatrixSetDiag``, ``Qr``, ``SelfAdjointEigV2`` and ``Svd``. Their kernels
are numpy's LAPACK routines (``runtime/kernels/linalg_kernels.py``).

Gradients follow TF's definitions (Giles 2008 for the inverse, solves and decompositions;
Murray 2016 for Cholesky; Roberts & Roberts 2020 for QR; Townsend 2016 for the thin
SVD): every one is built from these ops and matmuls, so second derivatives work too.

Composites (``trace``, ``eye``, ``norm``, ``logdet``, ``cholesky_solve``, ``lstsq``, ...) are built
from the ops, as in TF, and ``tf.linalg`` is the `linalg` module object defined at the bottom.
"""

import collections
import types

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer

__all__ = ["qr", "matrix_inverse", "matrix_determinant", "log_matrix_determinant", "slogdet",
           "cholesky", "matrix_solve", "matrix_triangular_solve", "matrix_band_part",
           "matrix_diag", "matrix_diag_part", "matrix_set_diag", "self_adjoint_eig",
           "self_adjoint_eigvals", "svd", "trace", "eye", "norm", "logdet", "cholesky_solve",
           "lstsq", "adjoint", "linalg"]

_QR_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)
# The LAPACK-backed ops take the real types of TF's CPU kernels (complex is not supported).
_LAPACK_DTYPES = (dtypes.float32, dtypes.float64)
# The structural ops (band, diagonals) move elements only, so take every numeric type.
_STRUCTURAL_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int8,
                      dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint8, dtypes.bool)
_INDEX_DTYPES = (dtypes.int32, dtypes.int64)


# The named results of TF's qr and slogdet.
QrResult = collections.namedtuple("Qr", ["q", "r"])
LogMatrixDeterminantResult = collections.namedtuple("LogMatrixDeterminant",
                                                    ["sign", "log_abs_determinant"])


# ---- shape helpers ---------------------------------------------------------------------------

def _at_least(op_type, shape, rank, shapes_text):
    if shape.rank is not None and shape.rank < rank:
        raise ValueError(f"Shape must be at least rank {rank} but is rank {shape.rank} for "
                         f"'{op_type}' with input shapes: {shapes_text}.")


def _shapes_text(*tensors):
    return ", ".join("?" if t.shape.rank is None else str(t.shape.as_list()).replace(" ", "")
                     for t in tensors)


def _check_equal(op_type, a, b, shapes_text):
    if a is not None and b is not None and a != b:
        raise ValueError(f"Dimensions must be equal, but are {a} and {b} for '{op_type}' "
                         f"with input shapes: {shapes_text}.")


def _square_input(op_type, value):
    """Checks a ``[..., M, M]`` input; returns its dims as a list, or None for unknown rank."""
    _infer.check_dtype(op_type, value, _LAPACK_DTYPES, "input")
    text = _shapes_text(value)
    _at_least(op_type, value.shape, 2, text)
    if value.shape.rank is None:
        return None
    dims = value.shape.as_list()
    _check_equal(op_type, dims[-2], dims[-1], text)
    side = dims[-1] if dims[-1] is not None else dims[-2]
    return dims[:-2] + [side, side]


def _merge_batch(op_type, first, second, shapes_text):
    """The batch dims two inputs must share exactly (no broadcasting)."""
    merged = []
    if len(first) != len(second):
        raise ValueError(f"Shape must be rank {len(first) + 2} but is rank {len(second) + 2} "
                         f"for '{op_type}' with input shapes: {shapes_text}.")
    for a, b in zip(first, second):
        _check_equal(op_type, a, b, shapes_text)
        merged.append(a if a is not None else b)
    return merged


def _create(op_type, inputs, attrs, name):
    graph = graph_lib.get_default_graph()
    for value in inputs:
        if isinstance(value, graph_lib.Tensor):
            graph = value.graph
            break
    with graph.as_default():
        tensors = [graph_lib.convert_to_tensor(value) for value in inputs]
        if len(tensors) == 2 and tensors[1].dtype is not tensors[0].dtype \
                and not isinstance(inputs[1], graph_lib.Tensor):
            # A Python or numpy right-hand side takes the matrix's dtype, as TF converts it.
            tensors[1] = graph_lib.convert_to_tensor(inputs[1], dtype=tensors[0].dtype)
        return graph.create_op(op_type, tensors, attrs, name=name or op_type).outputs


# ---- MatrixInverse, MatrixDeterminant, LogMatrixDeterminant ------------------------------------

def _square_to_square_infer(op_type, bool_attrs=()):
    """The infer function of an op from square matrices to matrices of the same shape."""

    def infer(inputs, attrs):
        (value,) = inputs
        dims = _square_input(op_type, value)
        attrs["T"] = value.dtype
        for attr in bool_attrs:
            attrs[attr] = bool(attrs.get(attr, False))
        return [(value.dtype, TensorShape(dims))]

    return infer


def _inverse_grad(op, grad):
    from sessionlib.ops import math_ops

    # With Y = inv(B): dL/dB = -Y^T G Y^T; for adjoint B = A^T, so dL/dA = -Y G^T Y.
    inverse = op.outputs[0]
    if op.get_attr("adjoint"):
        inner = math_ops.matmul(grad, inverse, adjoint_a=True)
        return [-math_ops.matmul(inverse, inner)]
    inner = math_ops.matmul(grad, inverse, adjoint_b=True)
    return [-math_ops.matmul(inverse, inner, adjoint_a=True)]


registry.register_op("MatrixInverse", infer=_square_to_square_infer("MatrixInverse", ["adjoint"]),
                     kernel="MatrixInverse", num_inputs=1,
                     doc="The inverses (or inverse adjoints) of square matrices.",
                     gradient=_inverse_grad)


def _batch_scalars_infer(op_type, outputs):
    def infer(inputs, attrs):
        (value,) = inputs
        dims = _square_input(op_type, value)
        attrs["T"] = value.dtype
        shape = TensorShape(None if dims is None else dims[:-2])
        return [(value.dtype, shape)] * outputs

    return infer


def _as_matrix_multiplier(values):
    """``values[..., None, None]``: per-matrix scalars that broadcast over their matrices."""
    from sessionlib.ops import array_ops

    return array_ops.expand_dims(array_ops.expand_dims(values, -1), -1)


def _determinant_grad(op, grad):
    # d det(A) / dA = det(A) inv(A)^T.
    inverse_t = matrix_inverse(op.inputs[0], adjoint=True)
    return [_as_matrix_multiplier(grad * op.outputs[0]) * inverse_t]


registry.register_op("MatrixDeterminant", infer=_batch_scalars_infer("MatrixDeterminant", 1),
                     kernel="MatrixDeterminant", num_inputs=1,
                     doc="The determinants of square matrices.", gradient=_determinant_grad)


def _log_determinant_grad(op, grad_sign, grad_log_abs):
    # The sign is piecewise constant; d log|det(A)| / dA = inv(A)^T.
    del grad_sign
    inverse_t = matrix_inverse(op.inputs[0], adjoint=True)
    return [_as_matrix_multiplier(grad_log_abs) * inverse_t]


registry.register_op("LogMatrixDeterminant",
                     infer=_batch_scalars_infer("LogMatrixDeterminant", 2),
                     kernel="LogMatrixDeterminant", num_inputs=1,
                     doc="The signs and log absolute determinants of square matrices.",
                     gradient=_log_determinant_grad)


# ---- Cholesky --------------------------------------------------------------------------------

def _cholesky_grad(op, grad):
    from sessionlib.ops import array_ops, math_ops

    # With A = L L^T: dL/dA = 1/2 sym(L^-T Phi(L^T G) L^-1), Phi keeping the lower triangle
    # with a halved diagonal (Murray 2016). The kernel reads only A's lower triangle; TF
    # returns the symmetric gradient all the same, and so does this.
    factor = op.outputs[0]
    factor_inverse = matrix_triangular_solve(
        factor, eye(array_ops.shape(factor)[-1], batch_shape=array_ops.shape(factor)[:-2],
                    dtype=factor.dtype))
    middle = math_ops.matmul(factor, grad, adjoint_a=True)
    middle = matrix_set_diag(middle, 0.5 * matrix_diag_part(middle))
    middle = matrix_band_part(middle, -1, 0)
    grad_a = math_ops.matmul(math_ops.matmul(factor_inverse, middle, adjoint_a=True),
                             factor_inverse)
    return [0.5 * (grad_a + adjoint(grad_a))]


registry.register_op("Cholesky", infer=_square_to_square_infer("Cholesky"), kernel="Cholesky",
                     num_inputs=1,
                     doc="The lower Cholesky factors of symmetric positive-definite matrices.",
                     gradient=_cholesky_grad)


# ---- MatrixSolve, MatrixTriangularSolve ------------------------------------------------------

def _solve_operands(op_type, matrix, rhs):
    _infer.check_dtype(op_type, matrix, _LAPACK_DTYPES, "matrix")
    _infer.same_dtype(op_type, [matrix, rhs], ("matrix", "rhs"))
    text = _shapes_text(matrix, rhs)
    _at_least(op_type, matrix.shape, 2, text)
    _at_least(op_type, rhs.shape, 2, text)
    if matrix.shape.rank is None or rhs.shape.rank is None:
        return None, None, text
    m_dims, r_dims = matrix.shape.as_list(), rhs.shape.as_list()
    _check_equal(op_type, m_dims[-2], m_dims[-1], text)
    side = m_dims[-1] if m_dims[-1] is not None else m_dims[-2]
    _check_equal(op_type, side, r_dims[-2], text)
    return m_dims, r_dims, text


def _solve_infer(inputs, attrs):
    matrix, rhs = inputs
    m_dims, r_dims, text = _solve_operands("MatrixSolve", matrix, rhs)
    attrs["T"] = matrix.dtype
    attrs["adjoint"] = bool(attrs.get("adjoint", False))
    if m_dims is None:
        return [(matrix.dtype, TensorShape(None))]
    batch = _merge_batch("MatrixSolve", m_dims[:-2], r_dims[:-2], text)
    rows = r_dims[-2] if r_dims[-2] is not None else m_dims[-1]
    return [(matrix.dtype, TensorShape(batch + [rows, r_dims[-1]]))]


def _solve_grads(op, grad, solve_again):
    from sessionlib.ops import math_ops

    # X = inv(op(A)) B: dL/dB = inv(op(A))^T G, and dL/dA = -dL/dB X^T (transposed if op(A)
    # is A^T).
    solution = op.outputs[0]
    adjoint_a = op.get_attr("adjoint")
    grad_b = solve_again(grad, not adjoint_a)
    if adjoint_a:
        grad_a = -math_ops.matmul(solution, grad_b, adjoint_b=True)
    else:
        grad_a = -math_ops.matmul(grad_b, solution, adjoint_b=True)
    return grad_a, grad_b


def _solve_grad(op, grad):
    matrix = op.inputs[0]
    return list(_solve_grads(
        op, grad, lambda g, adj: matrix_solve(matrix, g, adjoint=adj)))


registry.register_op("MatrixSolve", infer=_solve_infer, kernel="MatrixSolve", num_inputs=2,
                     doc="Solves square systems matrix @ x = rhs (or adjoint(matrix)).",
                     gradient=_solve_grad)


def _triangular_solve_infer(inputs, attrs):
    matrix, rhs = inputs
    m_dims, r_dims, text = _solve_operands("MatrixTriangularSolve", matrix, rhs)
    attrs["T"] = matrix.dtype
    attrs["lower"] = bool(attrs.get("lower", True))
    attrs["adjoint"] = bool(attrs.get("adjoint", False))
    if m_dims is None:
        return [(matrix.dtype, TensorShape(None))]
    # TF's triangular solve broadcasts the batch dimensions (and words a mismatch so).
    for a, b in zip(reversed(m_dims[:-2]), reversed(r_dims[:-2])):
        if a not in (None, 1) and b not in (None, 1):
            _check_equal("MatrixTriangularSolve", a, b, text)
    batch = _infer.broadcast_shapes(TensorShape(m_dims[:-2]), TensorShape(r_dims[:-2]),
                                    "MatrixTriangularSolve")
    rows = r_dims[-2] if r_dims[-2] is not None else m_dims[-1]
    return [(matrix.dtype, batch.concatenate([rows, r_dims[-1]]))]


def _triangular_solve_grad(op, grad):
    from sessionlib.ops import _grad_util

    matrix, rhs = op.inputs
    lower = op.get_attr("lower")
    grad_a, grad_b = _solve_grads(op, grad, lambda g, adj: matrix_triangular_solve(
        matrix, g, lower=lower, adjoint=adj))
    # The kernel reads one triangle only, so the other gets no gradient.
    grad_a = matrix_band_part(grad_a, -1, 0) if lower else matrix_band_part(grad_a, 0, -1)
    return [_grad_util.sum_to_batch(grad_a, matrix, rhs),
            _grad_util.sum_to_batch(grad_b, rhs, matrix)]


registry.register_op("MatrixTriangularSolve", infer=_triangular_solve_infer,
                     kernel="MatrixTriangularSolve", num_inputs=2,
                     doc="Solves triangular systems by substitution (batch dims broadcast).",
                     gradient=_triangular_solve_grad)


# ---- MatrixBandPart, MatrixDiag, MatrixDiagPart, MatrixSetDiag -------------------------------

def _band_part_infer(inputs, attrs):
    value, num_lower, num_upper = inputs
    _infer.check_dtype("MatrixBandPart", value, _STRUCTURAL_DTYPES, "input")
    _infer.check_dtype("MatrixBandPart", num_lower, _INDEX_DTYPES, "num_lower")
    _infer.same_dtype("MatrixBandPart", [num_lower, num_upper], ("num_lower", "num_upper"))
    # Like TF's, the shape function leaves the bounds' shapes to the kernel.
    _at_least("MatrixBandPart", value.shape, 2, _shapes_text(value, num_lower, num_upper))
    attrs["T"] = value.dtype
    attrs["Tindex"] = num_lower.dtype
    return [(value.dtype, value.shape)]


def _band_part_grad(op, grad):
    _, num_lower, num_upper = op.inputs
    return [matrix_band_part(grad, num_lower, num_upper), None, None]


registry.register_op("MatrixBandPart", infer=_band_part_infer, kernel="MatrixBandPart",
                     num_inputs=3, doc="Zeroes each matrix outside a band around its diagonal.",
                     gradient=_band_part_grad)


def _diag_infer(inputs, attrs):
    (diagonal,) = inputs
    _infer.check_dtype("MatrixDiag", diagonal, _STRUCTURAL_DTYPES, "diagonal")
    _at_least("MatrixDiag", diagonal.shape, 1, _shapes_text(diagonal))
    attrs["T"] = diagonal.dtype
    if diagonal.shape.rank is None:
        return [(diagonal.dtype, TensorShape(None))]
    dims = diagonal.shape.as_list()
    return [(diagonal.dtype, TensorShape(dims + [dims[-1]]))]


registry.register_op("MatrixDiag", infer=_diag_infer, kernel="MatrixDiag", num_inputs=1,
                     doc="Square matrices with the given diagonals, zero elsewhere.",
                     gradient=lambda op, grad: [matrix_diag_part(grad)])


def _diag_length(dims):
    rows, cols = dims[-2], dims[-1]
    return None if rows is None or cols is None else min(rows, cols)


def _diag_part_infer(inputs, attrs):
    (value,) = inputs
    _infer.check_dtype("MatrixDiagPart", value, _STRUCTURAL_DTYPES, "input")
    _at_least("MatrixDiagPart", value.shape, 2, _shapes_text(value))
    attrs["T"] = value.dtype
    if value.shape.rank is None:
        return [(value.dtype, TensorShape(None))]
    dims = value.shape.as_list()
    return [(value.dtype, TensorShape(dims[:-2] + [_diag_length(dims)]))]


def _diag_part_grad(op, grad):
    from sessionlib.ops import array_ops

    value = op.inputs[0]
    dims = value.shape.as_list() if value.shape.rank is not None else None
    if dims is not None and dims[-2] is not None and dims[-2] == dims[-1]:
        return [matrix_diag(grad)]
    return [matrix_set_diag(array_ops.zeros_like(value), grad)]


registry.register_op("MatrixDiagPart", infer=_diag_part_infer, kernel="MatrixDiagPart",
                     num_inputs=1, doc="The main diagonals of matrices.",
                     gradient=_diag_part_grad)


def _set_diag_infer(inputs, attrs):
    value, diagonal = inputs
    _infer.check_dtype("MatrixSetDiag", value, _STRUCTURAL_DTYPES, "input")
    _infer.same_dtype("MatrixSetDiag", inputs, ("input", "diagonal"))
    text = _shapes_text(value, diagonal)
    _at_least("MatrixSetDiag", value.shape, 2, text)
    _at_least("MatrixSetDiag", diagonal.shape, 1, text)
    attrs["T"] = value.dtype
    if value.shape.rank is None or diagonal.shape.rank is None:
        return [(value.dtype, value.shape)]
    dims, diag_dims = value.shape.as_list(), diagonal.shape.as_list()
    _check_equal("MatrixSetDiag", _diag_length(dims), diag_dims[-1], text)
    batch = _merge_batch("MatrixSetDiag", dims[:-2], diag_dims[:-1], text)
    return [(value.dtype, TensorShape(batch + dims[-2:]))]


def _set_diag_grad(op, grad):
    from sessionlib.ops import array_ops

    return [matrix_set_diag(grad, array_ops.zeros_like(op.inputs[1])),
            matrix_diag_part(grad)]


registry.register_op("MatrixSetDiag", infer=_set_diag_infer, kernel="MatrixSetDiag",
                     num_inputs=2, doc="Matrices with their main diagonals replaced.",
                     gradient=_set_diag_grad)


# ---- Qr --------------------------------------------------------------------------------------

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


def _times_inverse_r_t(x, r):
    """``x @ inv(r)^T`` for upper-triangular `r`, by one triangular solve."""
    return adjoint(matrix_triangular_solve(r, adjoint(x), lower=False))


def _qr_grad_tall(q, r, grad_q, grad_r):
    """The QR gradient for M >= N with the reduced factors (Roberts & Roberts 2020)."""
    from sessionlib.ops import math_ops

    q_dq = math_ops.matmul(q, grad_q, adjoint_a=True)
    r_dr = math_ops.matmul(r, grad_r, adjoint_b=True)
    lower = matrix_band_part(q_dq - adjoint(q_dq) + r_dr - adjoint(r_dr), -1, 0)
    through_r = math_ops.matmul(q, grad_r + _times_inverse_r_t(lower, r))
    through_q = _times_inverse_r_t(grad_q - math_ops.matmul(q, q_dq), r)
    return through_r + through_q


def _qr_grad(op, grad_q, grad_r):
    from sessionlib.ops import array_ops, math_ops

    q, r = op.outputs
    r_dims = r.shape.as_list() if r.shape.rank is not None else [None, None]
    if r_dims[-2] is None or r_dims[-1] is None:
        raise NotImplementedError("QrGrad not implemented with dynamic shapes. "
                                  f"Received r.shape: {r.shape}")
    q_dims = q.shape.as_list()
    rows, cols = q_dims[-2], r_dims[-1]
    if r_dims[-2] > cols and q_dims[-2] == q_dims[-1]:
        raise NotImplementedError("QrGrad not implemented when nrows > ncols and "
                                  f"full_matrices is true. Received r.shape={r.shape} with "
                                  f"nrows={r_dims[-2]}and ncols={cols}.")
    if rows >= cols:
        return [_qr_grad_tall(q, r, grad_q, grad_r)]
    # A wide A = [X, Y] with R = [U, V]: X = Q U is a square QR, and Y = Q V is linear in Q.
    y = op.inputs[0][..., :, rows:]
    u = r[..., :, :rows]
    grad_u, grad_v = grad_r[..., :, :rows], grad_r[..., :, rows:]
    grad_x = _qr_grad_tall(q, u, grad_q + math_ops.matmul(y, grad_v, adjoint_b=True), grad_u)
    return [array_ops.concat([grad_x, math_ops.matmul(q, grad_v)], -1)]


registry.register_op("Qr", infer=_qr_infer, kernel="Qr", num_inputs=1,
                     doc="The QR decomposition of (a batch of) matrices: q, r.",
                     gradient=_qr_grad)


# ---- SelfAdjointEigV2, Svd -------------------------------------------------------------------

def _eig_infer(inputs, attrs):
    (value,) = inputs
    dims = _square_input("SelfAdjointEigV2", value)
    attrs["T"] = value.dtype
    compute_v = attrs["compute_v"] = bool(attrs.get("compute_v", True))
    if dims is None:
        e_shape = v_shape = TensorShape(None)
    else:
        e_shape, v_shape = TensorShape(dims[:-1]), TensorShape(dims)
    # Without vectors, TF's second output is an empty placeholder of shape [0].
    return [(value.dtype, e_shape), (value.dtype, v_shape if compute_v else TensorShape([0]))]


def _safe_reciprocal(x, epsilon=1e-20):
    """``1 / x``, but ~0 rather than inf where x is 0: a Lorentz broadening, so that repeated
    eigen- or singular values give finite (if meaningless) gradients, as in TF."""
    from sessionlib.ops import math_ops

    return x * math_ops.reciprocal(x * x + epsilon)


def _eig_grad(op, grad_e, grad_v):
    from sessionlib.ops import array_ops, math_ops

    e = op.outputs[0]
    if op.get_attr("compute_v"):
        v = op.outputs[1]
        # f[i, j] = 1 / (e_j - e_i) off the diagonal.
        f = matrix_set_diag(_safe_reciprocal(array_ops.expand_dims(e, -2)
                                             - array_ops.expand_dims(e, -1)),
                            array_ops.zeros_like(e))
        middle = matrix_diag(grad_e) + f * math_ops.matmul(v, grad_v, adjoint_a=True)
    else:
        _, v = self_adjoint_eig(op.inputs[0])
        middle = matrix_diag(grad_e)
    grad_a = math_ops.matmul(v, math_ops.matmul(middle, v, adjoint_b=True))
    # The kernel reads the lower triangle only: fold the symmetric gradient onto it.
    grad_a = matrix_band_part(grad_a + adjoint(grad_a), -1, 0)
    return [matrix_set_diag(grad_a, 0.5 * matrix_diag_part(grad_a))]


registry.register_op("SelfAdjointEigV2", infer=_eig_infer, kernel="SelfAdjointEigV2",
                     num_inputs=1, doc="Eigenvalues (ascending) and eigenvectors of symmetric "
                     "matrices, from their lower triangles.", gradient=_eig_grad)


def _svd_infer(inputs, attrs):
    (value,) = inputs
    _infer.check_dtype("Svd", value, _LAPACK_DTYPES, "input")
    _at_least("Svd", value.shape, 2, _shapes_text(value))
    attrs["T"] = value.dtype
    compute_uv = attrs["compute_uv"] = bool(attrs.get("compute_uv", True))
    full = attrs["full_matrices"] = bool(attrs.get("full_matrices", False))
    if value.shape.rank is None:
        unknown = TensorShape(None)
        return [(value.dtype, unknown)] * 3
    dims = value.shape.as_list()
    batch, rows, cols = dims[:-2], dims[-2], dims[-1]
    k = _diag_length(dims)
    if not compute_uv:
        u_shape = v_shape = [0]
    elif full:
        u_shape, v_shape = batch + [rows, rows], batch + [cols, cols]
    else:
        u_shape, v_shape = batch + [rows, k], batch + [cols, k]
    return [(value.dtype, TensorShape(batch + [k])), (value.dtype, TensorShape(u_shape)),
            (value.dtype, TensorShape(v_shape))]


def _svd_grad(op, grad_s, grad_u, grad_v):
    from sessionlib.ops import math_ops

    a = op.inputs[0]
    if not op.get_attr("compute_uv"):
        # d s_i = u_i^T dA v_i.
        _, u, v = svd(a, compute_uv=True)
        return [math_ops.matmul(u, math_ops.matmul(matrix_diag(grad_s), v, adjoint_b=True))]
    dims = a.shape.as_list() if a.shape.rank is not None else [None, None]
    rows, cols = dims[-2], dims[-1]
    if rows is None or cols is None:
        raise NotImplementedError("SVD gradient has not been implemented for input with "
                                  "unknown inner matrix shape.")
    s, u, v = op.outputs
    full = op.get_attr("full_matrices")
    transposed = rows > cols
    if transposed:
        # Differentiate A^T = V S U^T (wide) and transpose the result.
        rows, cols, u, v, grad_u, grad_v = cols, rows, v, u, grad_v, grad_u
    if full and cols - rows > 1:
        raise NotImplementedError(
            "svd gradient is not implemented for abs(m - n) > 1 when full_matrices is True. "
            f"Received: m={rows} and n={cols} from op input={a} with shape={a.shape}.")
    return [_svd_grad_wide(s, u, v, grad_s, grad_u, grad_v, rows, cols, full, transposed)]


def _svd_grad_wide(s, u, v, grad_s, grad_u, grad_v, rows, cols, full, transposed):
    """The SVD gradient of an M x N matrix with M <= N (Giles 2008; Townsend's thin case)."""
    from sessionlib.ops import array_ops, math_ops

    s_mat = matrix_diag(s)
    s2 = math_ops.square(s)
    f = matrix_set_diag(_safe_reciprocal(array_ops.expand_dims(s2, -2)
                                         - array_ops.expand_dims(s2, -1)),
                        array_ops.zeros_like(s))
    v1, grad_v1 = v[..., :, :rows], grad_v[..., :, :rows]
    f_u = f * math_ops.matmul(u, grad_u, adjoint_a=True)
    f_v = f * math_ops.matmul(v1, grad_v1, adjoint_a=True)
    core = (matrix_diag(grad_s) + math_ops.matmul(f_u + adjoint(f_u), s_mat)
            + math_ops.matmul(s_mat, f_v + adjoint(f_v)))
    grad_a = math_ops.matmul(u, math_ops.matmul(core, v1, adjoint_b=True))
    if rows != cols:
        # The part of grad_v1 outside V1's span reaches A through S^-1 U^T.
        gv1_t = adjoint(grad_v1)
        off_span = gv1_t - math_ops.matmul(math_ops.matmul(gv1_t, v1), v1, adjoint_b=True)
        if full:
            v2, grad_v2 = v[..., :, rows:cols], grad_v[..., :, rows:cols]
            off_span -= math_ops.matmul(math_ops.matmul(v1, grad_v2, adjoint_a=True), v2,
                                        adjoint_b=True)
        u_s_inv = math_ops.matmul(u, matrix_diag(_safe_reciprocal(s)))
        grad_a += math_ops.matmul(u_s_inv, off_span)
    return adjoint(grad_a) if transposed else grad_a


registry.register_op("Svd", infer=_svd_infer, kernel="Svd", num_inputs=1,
                     doc="Singular values (descending) and vectors: a = u diag(s) v^T.",
                     gradient=_svd_grad)


# ---- the op functions ------------------------------------------------------------------------

def qr(input, full_matrices=False, name=None):  # noqa: A002 - TF's argument name
    """The QR decompositions of the inner-most matrices of `input` (op ``Qr``).

    Args:
      input: a float Tensor of rank >= 2, shape ``[..., M, N]``.
      full_matrices: if True, q is ``[..., M, M]`` and r ``[..., M, N]``; else q is
        ``[..., M, K]`` and r ``[..., K, N]`` with ``K = min(M, N)``.
      name: the op name.

    Returns:
      A namedtuple ``(q, r)``: q with orthonormal columns, r upper triangular, ``q @ r == input``.
    """
    q, r = _create("Qr", [input], {"full_matrices": full_matrices}, name)
    return QrResult(q, r)


def matrix_inverse(input, adjoint=False, name=None):  # noqa: A002 - TF's argument names
    """The inverses of square matrices (op ``MatrixInverse``): ``tf.linalg.inv``.

    Args:
      input: a float32/float64 Tensor of shape ``[..., M, M]``.
      adjoint: invert the adjoints (transposes) instead.
      name: the op name.

    Returns:
      A Tensor like `input`.

    Raises:
      ValueError: if `input` is statically not a batch of square matrices.
      errors.InvalidArgumentError: at run time, if a matrix is not invertible.
    """
    return _create("MatrixInverse", [input], {"adjoint": adjoint}, name)[0]


def matrix_determinant(input, name=None):  # noqa: A002 - TF's argument name
    """The determinants of square matrices ``[..., M, M]`` (op ``MatrixDeterminant``).

    Args:
      input: a float32/float64 Tensor of shape ``[..., M, M]``.
      name: the op name.

    Returns:
      A Tensor of shape ``[...]``.

    Raises:
      ValueError: if `input` is statically not a batch of square matrices.
    """
    return _create("MatrixDeterminant", [input], {}, name)[0]


def log_matrix_determinant(input, name=None):  # noqa: A002 - TF's argument name
    """Signs and log absolute determinants of square matrices (op ``LogMatrixDeterminant``).

    Args:
      input: a float32/float64 Tensor of shape ``[..., M, M]``.
      name: the op name.

    Returns:
      A namedtuple ``(sign, log_abs_determinant)``, each of shape ``[...]``; a singular
      matrix gives sign 0 and ``-inf``.

    Raises:
      ValueError: if `input` is statically not a batch of square matrices.
    """
    sign, log_abs = _create("LogMatrixDeterminant", [input], {}, name)
    return LogMatrixDeterminantResult(sign, log_abs)


slogdet = log_matrix_determinant


def cholesky(input, name=None):  # noqa: A002 - TF's argument name
    """The lower Cholesky factors L (``A = L L^T``) of matrices (op ``Cholesky``).

    Only the lower triangle of each input matrix is read.

    Args:
      input: a float32/float64 Tensor of shape ``[..., M, M]``, symmetric positive definite.
      name: the op name.

    Returns:
      A Tensor like `input`, lower triangular.

    Raises:
      ValueError: if `input` is statically not a batch of square matrices.
      errors.InvalidArgumentError: at run time, if a matrix is not positive definite.
    """
    return _create("Cholesky", [input], {}, name)[0]


def matrix_solve(matrix, rhs, adjoint=False, name=None):
    """Solves ``matrix @ x = rhs`` (or ``adjoint(matrix) @ x = rhs``): op ``MatrixSolve``.

    Args:
      matrix: a float32/float64 Tensor of shape ``[..., M, M]``.
      rhs: a Tensor of shape ``[..., M, K]`` with the same batch dims and dtype.
      adjoint: solve with the adjoint (transpose) of `matrix`.
      name: the op name.

    Returns:
      x, of shape ``[..., M, K]``.

    Raises:
      ValueError: if the static shapes do not match.
      errors.InvalidArgumentError: at run time, if a matrix is not invertible.
    """
    return _create("MatrixSolve", [matrix, rhs], {"adjoint": adjoint}, name)[0]


def matrix_triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """Solves triangular systems ``matrix @ x = rhs`` (op ``MatrixTriangularSolve``).

    Only the `lower` (else upper) triangle of `matrix` is read. A zero on the diagonal gives
    infs and NaNs, as in TF, not an error.

    Args:
      matrix: a float32/float64 Tensor of shape ``[..., M, M]``.
      rhs: a Tensor of shape ``[..., M, K]``; the batch dims broadcast against `matrix`'s.
      lower: whether `matrix` is lower (else upper) triangular.
      adjoint: solve with the adjoint (transpose) of `matrix`.
      name: the op name.

    Returns:
      x, of shape ``[..., M, K]``.

    Raises:
      ValueError: if the static shapes do not match.
    """
    return _create("MatrixTriangularSolve", [matrix, rhs],
                   {"lower": lower, "adjoint": adjoint}, name)[0]


def matrix_band_part(input, num_lower, num_upper, name=None):  # noqa: A002 - TF's name
    """Zeroes each matrix outside its band (op ``MatrixBandPart``).

    Args:
      input: a Tensor of shape ``[..., M, N]``.
      num_lower: int scalar, the subdiagonals to keep; negative keeps the whole lower triangle.
      num_upper: int scalar, the superdiagonals to keep; negative keeps the upper triangle.
      name: the op name.

    Returns:
      A Tensor like `input`.

    Raises:
      errors.InvalidArgumentError: at run time, if a bound exceeds the matrix's size.
    """
    graph = graph_lib.get_default_graph()
    if isinstance(input, graph_lib.Tensor):
        graph = input.graph
    with graph.as_default():
        bounds = [b if isinstance(b, graph_lib.Tensor)
                  else graph_lib.convert_to_tensor(b, dtype=dtypes.int64)
                  for b in (num_lower, num_upper)]
        if bounds[0].dtype is not bounds[1].dtype:
            # One Python bound and one tensor bound: the Python one takes the tensor's type.
            python_index = 0 if not isinstance(num_lower, graph_lib.Tensor) else 1
            bounds[python_index] = graph_lib.convert_to_tensor(
                (num_lower, num_upper)[python_index], dtype=bounds[1 - python_index].dtype)
        return _create("MatrixBandPart", [input] + bounds, {}, name)[0]


def _only_main_diagonal(k, extra):
    if k != 0 or any(value != default for value, default in extra):
        raise NotImplementedError("only the main diagonal (k=0, default num_rows, num_cols, "
                                  "padding_value and align) is supported")


def matrix_diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0,
                align="RIGHT_LEFT"):
    """Square matrices with `diagonal` on the main diagonal (op ``MatrixDiag``).

    Args:
      diagonal: a Tensor of shape ``[..., N]``.
      name: the op name.
      k, num_rows, num_cols, padding_value, align: TF's off-diagonal options; only their
        defaults (the main diagonal) are supported.

    Returns:
      A Tensor of shape ``[..., N, N]``.

    Raises:
      NotImplementedError: for any other diagonal than the main one.
    """
    _only_main_diagonal(k, [(num_rows, -1), (num_cols, -1), (padding_value, 0),
                            (align, "RIGHT_LEFT")])
    return _create("MatrixDiag", [diagonal], {}, name)[0]


def matrix_diag_part(input, name="diag_part", k=0, padding_value=0,  # noqa: A002
                     align="RIGHT_LEFT"):
    """The main diagonals of matrices ``[..., M, N]`` (op ``MatrixDiagPart``).

    Args:
      input: a Tensor of rank >= 2.
      name: the op name.
      k, padding_value, align: only their defaults (the main diagonal) are supported.

    Returns:
      A Tensor of shape ``[..., min(M, N)]``.

    Raises:
      NotImplementedError: for any other diagonal than the main one.
    """
    _only_main_diagonal(k, [(padding_value, 0), (align, "RIGHT_LEFT")])
    return _create("MatrixDiagPart", [input], {}, name)[0]


def matrix_set_diag(input, diagonal, name="set_diag", k=0,  # noqa: A002 - TF's names
                    align="RIGHT_LEFT"):
    """Matrices with their main diagonals replaced by `diagonal` (op ``MatrixSetDiag``).

    Args:
      input: a Tensor of shape ``[..., M, N]``.
      diagonal: a Tensor of shape ``[..., min(M, N)]``.
      name: the op name.
      k, align: only their defaults (the main diagonal) are supported.

    Returns:
      A Tensor like `input`.

    Raises:
      ValueError: if the static shapes do not match.
      NotImplementedError: for any other diagonal than the main one.
    """
    _only_main_diagonal(k, [(align, "RIGHT_LEFT")])
    return _create("MatrixSetDiag", [input, diagonal], {}, name)[0]


def self_adjoint_eig(tensor, name=None):
    """Eigenvalues and eigenvectors of symmetric matrices (op ``SelfAdjointEigV2``).

    Only the lower triangle of each matrix is read.

    Args:
      tensor: a float32/float64 Tensor of shape ``[..., N, N]``.
      name: the op name.

    Returns:
      ``(e, v)``: eigenvalues ``[..., N]`` in ascending order, and eigenvectors
      ``[..., N, N]`` as columns.
    """
    e, v = _create("SelfAdjointEigV2", [tensor], {"compute_v": True}, name)
    return e, v


def self_adjoint_eigvals(tensor, name=None):
    """The eigenvalues ``[..., N]`` (ascending) of symmetric matrices ``[..., N, N]``.

    Args:
      tensor: a float32/float64 Tensor of shape ``[..., N, N]``.
      name: the op name.

    Returns:
      The eigenvalues.
    """
    return _create("SelfAdjointEigV2", [tensor], {"compute_v": False}, name)[0]


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """Singular value decompositions ``tensor = u diag(s) v^T`` (op ``Svd``).

    Args:
      tensor: a float32/float64 Tensor of shape ``[..., M, N]``.
      full_matrices: if True, u is ``[..., M, M]`` and v ``[..., N, N]``; else
        ``[..., M, P]`` and ``[..., N, P]`` with ``P = min(M, N)``.
      compute_uv: if False, return s only.
      name: the op name.

    Returns:
      ``(s, u, v)`` with s ``[..., P]`` descending; s alone when not `compute_uv`.
    """
    s, u, v = _create("Svd", [tensor], {"compute_uv": compute_uv,
                                        "full_matrices": full_matrices}, name)
    return (s, u, v) if compute_uv else s


# ---- composites ------------------------------------------------------------------------------

def adjoint(matrix, name=None):
    """The conjugate transposes of the inner-most matrices (the transposes for real types).

    Args:
      matrix: a Tensor of rank >= 2.
      name: the op name scope.

    Returns:
      A Tensor of shape ``[..., N, M]``.
    """
    from sessionlib.ops import manipulation_ops

    return manipulation_ops.matrix_transpose(matrix, name=name or "adjoint", conjugate=True)


def trace(x, name=None):
    """The sums of the main diagonals of matrices ``[..., M, N]``.

    Args:
      x: a Tensor of rank >= 2.
      name: the op name scope.

    Returns:
      A Tensor of shape ``[...]``.
    """
    from sessionlib.ops import math_ops

    graph = x.graph if isinstance(x, graph_lib.Tensor) else graph_lib.get_default_graph()
    with graph.as_default(), graph.name_scope(name or "Trace"):
        return math_ops.reduce_sum(matrix_diag_part(x), axis=-1)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None):
    """Identity matrices ``batch_shape + [num_rows, num_columns]``.

    Args:
      num_rows: an int (or int scalar Tensor).
      num_columns: an int (or scalar Tensor); default `num_rows`.
      batch_shape: ints (or a 1-D int Tensor) for leading batch dimensions.
      dtype: the element type.
      name: the op name scope.

    Returns:
      A Tensor of `dtype`: ones on the main diagonal, zeros elsewhere.
    """
    from sessionlib.ops import array_ops, math_ops

    dtype = dtypes.as_dtype(dtype)
    columns = num_rows if num_columns is None else num_columns
    batch = [] if batch_shape is None else batch_shape
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "eye"):
        parts = [num_rows, columns] + (list(batch) if isinstance(batch, (list, tuple)) else [])
        if all(isinstance(p, (int, np.integer)) for p in parts) and \
                isinstance(batch, (list, tuple)):
            identity = np.eye(int(num_rows), int(columns), dtype=dtype.as_numpy_dtype)
            return array_ops.constant(np.broadcast_to(identity, list(batch) + list(
                identity.shape)).copy(), dtype=dtype)
        # Sizes only known at run time: ones set as the diagonal of zeros.
        rows_t = math_ops.cast(num_rows, dtypes.int32)
        cols_t = math_ops.cast(columns, dtypes.int32)
        batch_t = math_ops.cast(graph_lib.convert_to_tensor(batch, dtype=dtypes.int32)
                                if isinstance(batch, (list, tuple)) else batch, dtypes.int32)
        diag_shape = array_ops.concat(
            [batch_t, array_ops.reshape(math_ops.minimum(rows_t, cols_t), [1])], 0)
        matrix_shape = array_ops.concat([batch_t, array_ops.stack([rows_t, cols_t])], 0)
        return matrix_set_diag(array_ops.zeros(matrix_shape, dtype),
                               array_ops.ones(diag_shape, dtype))


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None,  # noqa: A002
         keep_dims=None):
    """Vector or matrix norms (``tf.norm``, ``tf.linalg.norm``).

    Args:
      tensor: a float Tensor.
      ord: ``'euclidean'``, ``'fro'``, 1, 2, ``np.inf`` or any p > 0 for vectors;
        ``'euclidean'``/``'fro'``, 1 or ``np.inf`` for matrices.
      axis: None (the whole tensor as a vector), an int (vectors along it) or a pair of ints
        (matrices over them).
      keepdims: keep the reduced dimensions with size 1.
      name: the op name scope.
      keep_dims: the deprecated spelling of `keepdims`.

    Returns:
      The norms.

    Raises:
      ValueError: for an unsupported `ord` or a malformed `axis`.
    """
    from sessionlib.ops import array_ops, math_ops

    keep = bool(keepdims if keepdims is not None else keep_dims)
    is_matrix = isinstance(axis, (list, tuple)) and len(axis) == 2
    if is_matrix:
        if axis[0] == axis[1]:
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique "
                             f"integers, got {axis}")
        if ord not in ("euclidean", "fro", 1, np.inf):
            raise ValueError(f"'ord' must be a supported matrix norm in ['euclidean', 'fro', "
                             f"1, inf], got {ord}")
    else:
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique "
                                 f"integers, got {axis}")
            axis = axis[0]
        if ord == "fro" or not (ord == "euclidean" or ord == np.inf or (
                isinstance(ord, (int, float)) and ord > 0)):
            raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
    graph = tensor.graph if isinstance(tensor, graph_lib.Tensor) \
        else graph_lib.get_default_graph()
    with graph.as_default(), graph.name_scope(name or "norm"):
        value = graph_lib.convert_to_tensor(tensor)
        if ord in ("euclidean", "fro") or (not is_matrix and ord == 2):
            axes = list(axis) if is_matrix else axis
            return math_ops.sqrt(math_ops.reduce_sum(value * value, axes, keepdims=True)
                                 if keep else math_ops.reduce_sum(value * value, axes))
        magnitude = math_ops.abs(value)
        if is_matrix:
            rank = value.shape.rank
            rows, cols = (a % rank if rank is not None else a for a in axis)
            # ord=1: the largest column sum; inf: the largest row sum.
            sum_axis, max_axis = (rows, cols) if ord == 1 else (cols, rows)
            sums = math_ops.reduce_sum(magnitude, sum_axis, keepdims=True)
            result = math_ops.reduce_max(sums, max_axis, keepdims=True)
            return result if keep else array_ops.squeeze(result, sorted([rows, cols]))
        if ord == np.inf:
            return math_ops.reduce_max(magnitude, axis, keepdims=keep)
        if ord == 1:
            return math_ops.reduce_sum(magnitude, axis, keepdims=keep)
        power = math_ops.pow(magnitude, array_ops.constant(float(ord), value.dtype))
        summed = math_ops.reduce_sum(power, axis, keepdims=keep)
        return math_ops.pow(summed, array_ops.constant(1.0 / ord, value.dtype))


def logdet(matrix, name=None):
    """The log determinants of Hermitian positive-definite matrices, via Cholesky.

    Args:
      matrix: a float32/float64 Tensor of shape ``[..., M, M]``.
      name: the op name scope.

    Returns:
      A Tensor of shape ``[...]``: ``2 * sum(log(diag(cholesky(matrix))))``.
    """
    from sessionlib.ops import math_ops

    graph = matrix.graph if isinstance(matrix, graph_lib.Tensor) \
        else graph_lib.get_default_graph()
    with graph.as_default(), graph.name_scope(name or "logdet"):
        factor = cholesky(matrix)
        return 2.0 * math_ops.reduce_sum(math_ops.log(matrix_diag_part(factor)), axis=-1)


def cholesky_solve(chol, rhs, name=None):
    """Solves ``A x = rhs`` given the Cholesky factor `chol` of A, by two triangular solves.

    Args:
      chol: a Tensor ``[..., M, M]``, the lower factor from `cholesky`.
      rhs: a Tensor ``[..., M, K]``.
      name: the op name scope.

    Returns:
      x, of shape ``[..., M, K]``.
    """
    graph = chol.graph if isinstance(chol, graph_lib.Tensor) else graph_lib.get_default_graph()
    with graph.as_default(), graph.name_scope(name or "cholesky_solve"):
        half = matrix_triangular_solve(chol, rhs, lower=True, adjoint=False)
        return matrix_triangular_solve(chol, half, lower=True, adjoint=True)


def _regularized_normal_solve(matrix, rhs, l2_regularizer):
    """TF's fast least squares: the regularized normal equations, solved by Cholesky."""
    from sessionlib.ops import math_ops

    dims = matrix.shape.as_list() if matrix.shape.rank is not None else [None, None]
    rows, cols = dims[-2], dims[-1]
    if rows is None or cols is None:
        raise NotImplementedError("the fast least-squares composite needs static dimensions")
    if isinstance(l2_regularizer, graph_lib.Tensor):
        l2_regularizer = math_ops.cast(l2_regularizer, matrix.dtype)
    if rows >= cols:
        # Overdetermined: x = inv(A^T A + l2 I) A^T b.
        gram = math_ops.matmul(matrix, matrix, adjoint_a=True)
        regularized = gram + l2_regularizer * eye(cols, dtype=matrix.dtype)
        return cholesky_solve(cholesky(regularized),
                              math_ops.matmul(matrix, rhs, adjoint_a=True))
    # Underdetermined: the minimum-norm x = A^T inv(A A^T + l2 I) b.
    gram = math_ops.matmul(matrix, matrix, adjoint_b=True)
    regularized = gram + l2_regularizer * eye(rows, dtype=matrix.dtype)
    return math_ops.matmul(matrix, cholesky_solve(cholesky(regularized), rhs),
                           adjoint_a=True)


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """Least-squares solutions of ``matrix @ x = rhs`` (``tf.linalg.lstsq``).

    With `fast` and static matrix dimensions this is TF's composite (regularized normal
    equations by Cholesky, differentiable); otherwise the ``MatrixSolveLs`` op.

    Args:
      matrix: a float32/float64 Tensor ``[..., M, N]``.
      rhs: a Tensor ``[..., M, K]``.
      l2_regularizer: a scalar added to the normal matrix's diagonal (ignored by fast=False).
      fast: False: an orthogonal factorization (no gradient, as in TF).
      name: the op name scope.

    Returns:
      x, of shape ``[..., N, K]``.
    """
    graph = matrix.graph if isinstance(matrix, graph_lib.Tensor) \
        else graph_lib.get_default_graph()
    with graph.as_default(), graph.name_scope(name or "matrix_solve_ls") as scope:
        matrix = graph_lib.convert_to_tensor(matrix, name="matrix")
        rhs = graph_lib.convert_to_tensor(rhs, dtype=matrix.dtype, name="rhs")
        dims = matrix.shape.as_list() if matrix.shape.rank is not None else [None, None]
        if fast and dims[-2] is not None and dims[-1] is not None:
            return _regularized_normal_solve(matrix, rhs, l2_regularizer)
        regularizer = graph_lib.convert_to_tensor(l2_regularizer, dtype=dtypes.float64,
                                                  name="l2_regularizer")
        return graph.create_op("MatrixSolveLs", [matrix, rhs, regularizer],
                               {"fast": bool(fast)}, name=scope).outputs[0]


def _transpose(a, name="matrix_transpose", conjugate=False):
    from sessionlib.ops import manipulation_ops

    return manipulation_ops.matrix_transpose(a, name=name, conjugate=conjugate)


def _matmul(*args, **kwargs):
    from sessionlib.ops import math_ops

    return math_ops.matmul(*args, **kwargs)


# The ``tf.linalg`` namespace, as a module object like ``tf.nn``.
linalg = types.ModuleType("sessionlib.linalg", "Linear algebra (``tf.linalg``).")
for _public, _function in {
        "inv": matrix_inverse, "det": matrix_determinant, "slogdet": log_matrix_determinant,
        "logdet": logdet, "cholesky": cholesky, "solve": matrix_solve,
        "triangular_solve": matrix_triangular_solve, "band_part": matrix_band_part,
        "qr": qr, "eigh": self_adjoint_eig, "eigvalsh": self_adjoint_eigvals, "svd": svd,
        "diag": matrix_diag, "diag_part": matrix_diag_part, "set_diag": matrix_set_diag,
        "trace": trace, "matmul": _matmul, "transpose": _transpose, "adjoint": adjoint,
        "eye": eye, "norm": norm, "cholesky_solve": cholesky_solve, "lstsq": lstsq}.items():
    setattr(linalg, _public, _function)


# ---- MatrixSquareRoot, MatrixSolveLs -----------------------------------------------------------

def _kronecker(a, b):
    """Batched Kronecker products of square matrices: ``[..., n, n]`` -> ``[..., n*n, n*n]``."""
    from sessionlib.ops import array_ops

    outer = (array_ops.expand_dims(array_ops.expand_dims(a, -1), -3)
             * array_ops.expand_dims(array_ops.expand_dims(b, -2), -4))
    side = array_ops.shape(a)[-1]
    return array_ops.reshape(outer, array_ops.concat(
        [array_ops.shape(a)[:-2], array_ops.stack([side * side, side * side])], 0))


def _matrix_square_root_grad(op, grad):
    # With S = sqrtm(A), dA = dS S + S dS, so the gradient X of A solves the Sylvester
    # equation S^T X + X S^T = grad; row-major vectorized: (S^T (x) I + I (x) S) vec X = vec G.
    from sessionlib.ops import array_ops

    root = op.outputs[0]
    shape = array_ops.shape(root)
    side = shape[-1]
    identity = eye(side, batch_shape=shape[:-2], dtype=root.dtype)
    system = _kronecker(_transpose(root), identity) + _kronecker(identity, root)
    vec_grad = array_ops.reshape(grad, array_ops.concat(
        [shape[:-2], array_ops.stack([side * side, 1])], 0))
    return [array_ops.reshape(matrix_solve(system, vec_grad), shape)]


registry.register_op("MatrixSquareRoot", infer=_square_to_square_infer("MatrixSquareRoot"),
                     kernel="MatrixSquareRoot", num_inputs=1,
                     doc="The principal square roots of square matrices.",
                     gradient=_matrix_square_root_grad)


def _solve_ls_infer(inputs, attrs):
    matrix, rhs, l2_regularizer = inputs
    _infer.check_dtype("MatrixSolveLs", matrix, _LAPACK_DTYPES, "matrix")
    _infer.same_dtype("MatrixSolveLs", [matrix, rhs], ("matrix", "rhs"))
    if l2_regularizer.dtype is not dtypes.float64:
        raise TypeError(f"Input 'l2_regularizer' of 'MatrixSolveLs' Op has type "
                        f"{l2_regularizer.dtype.name} that does not match expected type of "
                        "float64.")
    text = _shapes_text(matrix, rhs)
    _at_least("MatrixSolveLs", matrix.shape, 2, text)
    _at_least("MatrixSolveLs", rhs.shape, 2, text)
    attrs["T"] = matrix.dtype
    attrs["fast"] = bool(attrs.get("fast", True))
    if matrix.shape.rank is None or rhs.shape.rank is None:
        return [(matrix.dtype, TensorShape(None))]
    m_dims, r_dims = matrix.shape.as_list(), rhs.shape.as_list()
    _check_equal("MatrixSolveLs", m_dims[-2], r_dims[-2], text)
    batch = _merge_batch("MatrixSolveLs", m_dims[:-2], r_dims[:-2], text)
    return [(matrix.dtype, TensorShape(batch + [m_dims[-1], r_dims[-1]]))]


def _solve_ls_grad(op, grad):
    # The fast (Cholesky) op is differentiated through the composite it computes; the
    # orthogonal-factorization path has no gradient in TF either.
    if not op.get_attr("fast"):
        raise ValueError("Gradient not defined for fast=False")
    from sessionlib.ops import gradients

    matrix, rhs, l2_regularizer = op.inputs
    solution = _regularized_normal_solve(matrix, rhs, l2_regularizer)
    return gradients.gradients(solution, [matrix, rhs], grad_ys=[grad]) + [None]


registry.register_op("MatrixSolveLs", infer=_solve_ls_infer, kernel="MatrixSolveLs",
                     num_inputs=3, doc="Least-squares solutions of linear systems.",
                     gradient=_solve_ls_grad)


def matrix_square_root(input, name=None):  # noqa: A002 - TF's argument name
    """The principal square roots of square matrices (``tf.linalg.sqrtm``).

    Args:
      input: a float32/float64 Tensor ``[..., M, M]``.
      name: the op name.

    Returns:
      A Tensor of the same shape: S with S @ S = input. Matrices without a real principal
      root (a negative real eigenvalue, or singular) give NaN, as in TF.
    """
    return _create("MatrixSquareRoot", [input], {}, name)[0]


def matrix_solve_ls(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """Least-squares solutions of ``matrix @ x = rhs`` (``tf.matrix_solve_ls``).

    Args:
      matrix: a float32/float64 Tensor ``[..., M, N]``.
      rhs: a Tensor ``[..., M, K]``.
      l2_regularizer: a scalar added to the normal matrix's diagonal (fast path only).
      fast: True solves the regularized normal equations by Cholesky (differentiable);
        False uses an orthogonal factorization (numpy's ``lstsq``), which has no gradient and
        ignores `l2_regularizer`, as in TF.
      name: the op name scope.

    Returns:
      x, of shape ``[..., N, K]``.
    """
    return lstsq(matrix, rhs, l2_regularizer=l2_regularizer, fast=fast, name=name)


__all__ += ["matrix_square_root", "matrix_solve_ls"]
linalg.sqrtm = matrix_square_root
