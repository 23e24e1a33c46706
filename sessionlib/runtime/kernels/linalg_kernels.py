"""Kernels of the linear-algebra ops (``sessionlib/ops/linalg_ops.py``).

Design. numpy's ``linalg`` routines are LAPACK's (as TF's CPU kernels use Eigen's), batched over
leading dimensions, so each reference kernel is also the fast one. float16 (Qr only) is
decomposed in float32 and rounded back, as LAPACK has no half precision. Failures that TF
reports per matrix (a singular matrix to invert, a matrix that is not positive definite) are
InvalidArgumentErrors with TF's messages; triangular solves, like TF's, divide by a zero pivot
and give infs and NaNs instead.
"""

import numpy as np

from sessionlib import errors
from sessionlib.runtime.kernel_table import register_kernel


def _invalid(message):
    """An InvalidArgumentError for a kernel to raise (no node: the executor adds it)."""
    return errors.InvalidArgumentError(None, None, message)


def _adjoint(matrices):
    return np.swapaxes(matrices, -1, -2)


def _identity_like(value):
    """Identity matrices of `value`'s shape and dtype (a 0 x 0 matrix's inverse)."""
    return np.broadcast_to(np.eye(value.shape[-1], dtype=value.dtype), value.shape).copy()


def _check_matrices(value):
    """A fed tensor of unknown static rank must still hold matrices (TF's message)."""
    if value.ndim < 2:
        raise _invalid(f"Input tensor 0 must have rank >= 2, got shape {list(value.shape)}")


def _check_rank(value, least):
    """The structural ops' rank check (TF's message)."""
    if value.ndim < least:
        raise _invalid(f"input must be at least {least}-dim, received shape: "
                       f"{list(value.shape)}")


def _qr_kernel(ctx, inputs, attrs):
    (value,) = inputs
    _check_matrices(value)
    work = value.astype(np.float32) if value.dtype == np.float16 else value
    mode = "complete" if attrs["full_matrices"] else "reduced"
    rows, cols = value.shape[-2], value.shape[-1]
    if value.size == 0:
        # LAPACK refuses empty matrices; the shapes alone are the answer.
        k = rows if attrs["full_matrices"] else min(rows, cols)
        q = np.zeros(value.shape[:-2] + (rows, k), value.dtype)
        if attrs["full_matrices"]:
            q[..., np.arange(rows), np.arange(rows)] = 1
        r = np.zeros(value.shape[:-2] + (k, cols), value.dtype)
        return (q, r)
    q, r = np.linalg.qr(work, mode=mode)
    return (np.ascontiguousarray(q, dtype=value.dtype), np.ascontiguousarray(r, dtype=value.dtype))


def _check_square(value):
    _check_matrices(value)
    if value.shape[-1] != value.shape[-2]:
        raise _invalid(f"Input matrix must be square: got shape {list(value.shape)}")


def _inverse_kernel(ctx, inputs, attrs):
    (value,) = inputs
    _check_square(value)
    if value.size == 0:
        return (np.empty_like(value),)
    matrices = _adjoint(value) if attrs["adjoint"] else value
    try:
        inverse = np.linalg.inv(matrices)
    except np.linalg.LinAlgError:
        raise _invalid("Input is not invertible.") from None
    return (np.ascontiguousarray(inverse, dtype=value.dtype),)


def _determinant_kernel(ctx, inputs, attrs):
    (value,) = inputs
    _check_square(value)
    return (np.asarray(np.linalg.det(value), dtype=value.dtype),)


def _log_determinant_kernel(ctx, inputs, attrs):
    (value,) = inputs
    _check_square(value)
    sign, log_abs = np.linalg.slogdet(value)
    return (np.asarray(sign, dtype=value.dtype), np.asarray(log_abs, dtype=value.dtype))


def _cholesky_kernel(ctx, inputs, attrs):
    (value,) = inputs
    _check_square(value)
    if value.size == 0:
        return (np.empty_like(value),)
    # LAPACK reads the lower triangle only; mirror it so numpy's check sees the same matrix.
    lower = np.tril(value)
    symmetric = lower + _adjoint(np.tril(value, -1))
    try:
        factor = np.linalg.cholesky(symmetric)
    except np.linalg.LinAlgError:
        # TF 1.x's message; TF 2 kernels fill NaNs instead, which TF 1 code never sees.
        raise _invalid("Cholesky decomposition was not successful. The input might not be "
                       "valid.") from None
    return (np.ascontiguousarray(factor, dtype=value.dtype),)


def _check_rhs(matrix, rhs):
    _check_square(matrix)
    if rhs.ndim < 2:
        raise _invalid(f"Input tensor 1 must have rank >= 2, got shape {list(rhs.shape)}")
    if rhs.shape[-2] != matrix.shape[-1]:
        raise _invalid(f"Input matrix and right-hand side must have the same number of rows: "
                       f"{list(matrix.shape)} vs. {list(rhs.shape)}")


def _solve_kernel(ctx, inputs, attrs):
    matrix, rhs = inputs
    _check_rhs(matrix, rhs)
    if matrix.shape[:-2] != rhs.shape[:-2]:
        raise _invalid(f"Input matrix and right-hand side must have the same batch "
                       f"dimensions: {list(matrix.shape)} vs. {list(rhs.shape)}")
    if rhs.size == 0 or matrix.size == 0:
        return (np.zeros(rhs.shape, matrix.dtype),)
    matrices = _adjoint(matrix) if attrs["adjoint"] else matrix
    try:
        solution = np.linalg.solve(matrices, rhs)
    except np.linalg.LinAlgError:
        raise _invalid("Input matrix is not invertible.") from None
    return (np.ascontiguousarray(solution, dtype=matrix.dtype),)


def _triangular_solve_kernel(ctx, inputs, attrs):
    matrix, rhs = inputs
    _check_rhs(matrix, rhs)
    try:
        batch = np.broadcast_shapes(matrix.shape[:-2], rhs.shape[:-2])
    except ValueError:
        raise _invalid(f"Incompatible batch shapes: {list(matrix.shape)} vs. "
                       f"{list(rhs.shape)}") from None
    size = matrix.shape[-1]
    triangle = np.tril(matrix) if attrs["lower"] else np.triu(matrix)
    if attrs["adjoint"]:
        # adjoint(lower) is upper triangular, and the other way round.
        triangle, lower = _adjoint(triangle), not attrs["lower"]
    else:
        lower = attrs["lower"]
    triangle = np.broadcast_to(triangle, batch + (size, size))
    solution = np.zeros(batch + rhs.shape[-2:], matrix.dtype)
    target = np.broadcast_to(rhs, batch + rhs.shape[-2:])
    # Substitution, a row at a time across every batch and column: a zero pivot divides by
    # zero and gives infs and NaNs, as TF's kernel does, where LAPACK's would refuse.
    order = range(size) if lower else range(size - 1, -1, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        for row in order:
            known = np.einsum("...j,...jk->...k", triangle[..., row, :], solution)
            solution[..., row, :] = (target[..., row, :] - known) / triangle[..., row, row, None]
    return (solution,)


def _band_part_kernel(ctx, inputs, attrs):
    value, num_lower, num_upper = inputs
    _check_rank(value, 2)
    rows, cols = value.shape[-2], value.shape[-1]
    for label, bound in (("num_lower", num_lower), ("num_upper", num_upper)):
        if np.ndim(bound) != 0:
            raise _invalid(f"{label} must be scalar, got shape {list(np.shape(bound))}")
    num_lower, num_upper = int(num_lower), int(num_upper)
    if num_lower > rows:
        raise _invalid(f"num_lower must be negative or less or equal to number of rows "
                       f"({rows}) got: {num_lower}")
    if num_upper > cols:
        raise _invalid(f"num_upper must be negative or less or equal to number of columns "
                       f"({cols}) got: {num_upper}")
    offset = np.arange(cols)[None, :] - np.arange(rows)[:, None]
    keep = np.ones((rows, cols), bool)
    if num_lower >= 0:
        keep &= offset >= -num_lower
    if num_upper >= 0:
        keep &= offset <= num_upper
    return (np.where(keep, value, np.zeros((), value.dtype)),)


def _diag_kernel(ctx, inputs, attrs):
    (diagonal,) = inputs
    _check_rank(diagonal, 1)
    size = diagonal.shape[-1]
    result = np.zeros(diagonal.shape + (size,), diagonal.dtype)
    result[..., np.arange(size), np.arange(size)] = diagonal
    return (result,)


def _diag_part_kernel(ctx, inputs, attrs):
    (value,) = inputs
    _check_rank(value, 2)
    return (np.ascontiguousarray(np.diagonal(value, axis1=-2, axis2=-1)),)


def _set_diag_kernel(ctx, inputs, attrs):
    value, diagonal = inputs
    _check_rank(value, 2)
    size = min(value.shape[-2], value.shape[-1])
    if diagonal.shape != value.shape[:-2] + (size,):
        raise _invalid(f"diagonal must have shape {list(value.shape[:-2]) + [size]} for an "
                       f"input of shape {list(value.shape)}, got {list(diagonal.shape)}")
    result = np.array(value, copy=True)
    result[..., np.arange(size), np.arange(size)] = diagonal
    return (result,)


def _eig_kernel(ctx, inputs, attrs):
    (value,) = inputs
    _check_square(value)
    if value.size == 0:
        values = np.zeros(value.shape[:-1], value.dtype)
        vectors = np.zeros(value.shape if attrs["compute_v"] else (0,), value.dtype)
        return (values, vectors)
    if not attrs["compute_v"]:
        return (np.asarray(np.linalg.eigvalsh(value, UPLO="L"), value.dtype),
                np.zeros((0,), value.dtype))
    values, vectors = np.linalg.eigh(value, UPLO="L")
    return (np.asarray(values, value.dtype), np.ascontiguousarray(vectors, dtype=value.dtype))


def _svd_kernel(ctx, inputs, attrs):
    (value,) = inputs
    _check_matrices(value)
    rows, cols = value.shape[-2], value.shape[-1]
    batch, size = value.shape[:-2], min(rows, cols)
    full = attrs["full_matrices"]
    if value.size == 0:
        s = np.zeros(batch + (size,), value.dtype)
        if not attrs["compute_uv"]:
            return (s, np.zeros((0,), value.dtype), np.zeros((0,), value.dtype))
        u_cols, v_cols = (rows, cols) if full else (size, size)
        u = np.zeros(batch + (rows, u_cols), value.dtype)
        v = np.zeros(batch + (cols, v_cols), value.dtype)
        # Full factors of an empty matrix are still orthogonal: identities.
        u[..., np.arange(min(rows, u_cols)), np.arange(min(rows, u_cols))] = 1
        v[..., np.arange(min(cols, v_cols)), np.arange(min(cols, v_cols))] = 1
        return (s, u, v)
    if not attrs["compute_uv"]:
        s = np.linalg.svd(value, compute_uv=False)
        return (np.asarray(s, value.dtype), np.zeros((0,), value.dtype),
                np.zeros((0,), value.dtype))
    u, s, vh = np.linalg.svd(value, full_matrices=full)
    # TF returns v, not its adjoint.
    return (np.asarray(s, value.dtype), np.ascontiguousarray(u, dtype=value.dtype),
            np.ascontiguousarray(_adjoint(vh), dtype=value.dtype))


for _name, _kernel in (("Qr", _qr_kernel), ("MatrixInverse", _inverse_kernel),
                       ("MatrixDeterminant", _determinant_kernel),
                       ("LogMatrixDeterminant", _log_determinant_kernel),
                       ("Cholesky", _cholesky_kernel), ("MatrixSolve", _solve_kernel),
                       ("MatrixTriangularSolve", _triangular_solve_kernel),
                       ("MatrixBandPart", _band_part_kernel), ("MatrixDiag", _diag_kernel),
                       ("MatrixDiagPart", _diag_part_kernel),
                       ("MatrixSetDiag", _set_diag_kernel), ("SelfAdjointEigV2", _eig_kernel),
                       ("Svd", _svd_kernel)):
    register_kernel(_name, reference=_kernel)


# ---- MatrixSquareRoot, MatrixSolveLs ---------------------------------------------------------

_ROOT_ITERATIONS = 100


def _square_root_of(matrix):
    """The principal square root of one float64 matrix by the Denman-Beavers iteration (which
    converges for any matrix without eigenvalues on the closed negative real axis, defective
    ones included); NaN where there is no real principal root, as TF's kernel gives."""
    size = matrix.shape[-1]
    if size == 0:
        return matrix.copy()
    root, co_root = matrix.copy(), np.eye(size)
    scale = np.linalg.norm(matrix)
    try:
        for _ in range(_ROOT_ITERATIONS):
            next_root = 0.5 * (root + np.linalg.inv(co_root))
            co_root = 0.5 * (co_root + np.linalg.inv(root))
            change = np.linalg.norm(next_root - root)
            root = next_root
            if change <= 1e-14 * max(np.linalg.norm(root), 1e-300):
                break
    except np.linalg.LinAlgError:
        return np.full_like(matrix, np.nan)
    if not np.all(np.isfinite(root)) or \
            np.linalg.norm(root @ root - matrix) > 1e-8 * max(scale, 1e-300):
        return np.full_like(matrix, np.nan)
    return root


def _square_root_kernel(ctx, inputs, attrs):
    (value,) = inputs
    _check_matrices(value)
    work = value.astype(np.float64).reshape((-1,) + value.shape[-2:])
    roots = np.stack([_square_root_of(m) for m in work]) if len(work) else work
    return (roots.reshape(value.shape).astype(value.dtype, copy=False),)


def _solve_ls_kernel(ctx, inputs, attrs):
    matrix, rhs, l2_regularizer = inputs
    if matrix.ndim < 2 or rhs.ndim < 2:
        raise _invalid("Input matrix and rhs must have rank >= 2")
    if matrix.shape[-2] != rhs.shape[-2]:
        raise _invalid(f"Input matrix and right-hand side must have the same number of rows: "
                       f"{matrix.shape[-2]} vs {rhs.shape[-2]}")
    batch = np.broadcast_shapes(matrix.shape[:-2], rhs.shape[:-2])
    rows, cols = matrix.shape[-2:]
    a = np.broadcast_to(matrix, batch + matrix.shape[-2:]).astype(np.float64)
    b = np.broadcast_to(rhs, batch + rhs.shape[-2:]).astype(np.float64)
    a = a.reshape((-1, rows, cols))
    b = b.reshape((-1,) + rhs.shape[-2:])
    l2 = float(l2_regularizer)
    solutions = []
    for a_one, b_one in zip(a, b):
        if not attrs["fast"]:
            solutions.append(np.linalg.lstsq(a_one, b_one, rcond=None)[0])
        elif rows >= cols:
            gram = a_one.T @ a_one + l2 * np.eye(cols)
            solutions.append(np.linalg.solve(gram, a_one.T @ b_one))
        else:
            gram = a_one @ a_one.T + l2 * np.eye(rows)
            solutions.append(a_one.T @ np.linalg.solve(gram, b_one))
    out = (np.stack(solutions) if solutions
           else np.zeros((0, cols, rhs.shape[-1])))
    return (out.reshape(batch + (cols, rhs.shape[-1])).astype(matrix.dtype, copy=False),)


register_kernel("MatrixSquareRoot", reference=_square_root_kernel)
register_kernel("MatrixSolveLs", reference=_solve_ls_kernel)
