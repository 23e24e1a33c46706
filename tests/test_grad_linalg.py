"""Numeric gradient checks of the linear-algebra ops (sessionlib/ops/linalg_ops.py), on
batches, with each op's attrs, and of the composites built from them (logdet, cholesky_solve,
lstsq, trace, norm)."""

import numpy as np
import pytest

import sessionlib as tf

from _gradient_check import GradCase, case_ids, check_case

RNG = np.random.RandomState(7)


def _floats(*shape):
    return RNG.uniform(-1, 1, size=shape)


def _well_conditioned(*shape):
    """Square matrices near 3 I: invertible, with distinct, well-separated values."""
    size = shape[-1]
    return _floats(*shape) + 3 * np.eye(size) + np.diag(np.arange(size, dtype=float))


def _spd(x):
    """A symmetric positive-definite function of any square `x`: x x^T + 2 I."""
    size = x.shape[-1]
    return tf.matmul(x, x, transpose_b=True) + 2 * tf.eye(size, dtype=x.dtype)


def _symmetric(x):
    """A symmetric function of `x` with separated eigenvalues (eigenvector gradients blow up
    where eigenvalues meet)."""
    size = x.shape[-1]
    spread = tf.constant(np.diag(3.0 * np.arange(size)), dtype=x.dtype)
    return x + tf.linalg.adjoint(x) + spread


def _sign_free(vectors):
    """Eigen- and singular vectors are defined up to sign; products of a column with itself
    are not, so the check differentiates those."""
    return vectors * vectors[..., :1, :]


GRADIENT_CASES = [
    GradCase("MatrixInverse", tf.linalg.inv, [_well_conditioned(2, 3, 3)]),
    GradCase("MatrixInverse", lambda x: tf.matrix_inverse(x, adjoint=True),
             [_well_conditioned(3, 3)], id="MatrixInverse-adjoint"),
    GradCase("MatrixDeterminant", tf.linalg.det, [_well_conditioned(2, 3, 3)]),
    GradCase("LogMatrixDeterminant", lambda x: list(tf.linalg.slogdet(x)),
             [_well_conditioned(2, 3, 3) * np.array([1, -1])[:, None, None]]),
    GradCase("Cholesky", lambda x: tf.linalg.cholesky(_spd(x)), [_floats(2, 3, 3)]),
    GradCase("MatrixSolve", tf.linalg.solve, [_well_conditioned(2, 3, 3), _floats(2, 3, 2)]),
    GradCase("MatrixSolve", lambda a, b: tf.linalg.solve(a, b, adjoint=True),
             [_well_conditioned(3, 3), _floats(3, 1)], id="MatrixSolve-adjoint"),
    GradCase("MatrixTriangularSolve", tf.linalg.triangular_solve,
             [_well_conditioned(2, 3, 3), _floats(2, 3, 2)]),
    GradCase("MatrixTriangularSolve",
             lambda a, b: tf.linalg.triangular_solve(a, b, lower=False, adjoint=True),
             [_well_conditioned(3, 3), _floats(3, 2)], id="MatrixTriangularSolve-upper-adjoint"),
    GradCase("MatrixTriangularSolve", tf.linalg.triangular_solve,
             [_well_conditioned(3, 3), _floats(2, 3, 2)], id="MatrixTriangularSolve-broadcast"),
    GradCase("MatrixBandPart", lambda x: tf.linalg.band_part(x, 1, 0), [_floats(2, 3, 4)]),
    GradCase("MatrixBandPart", lambda x: tf.linalg.band_part(x, -1, 2), [_floats(4, 3)],
             id="MatrixBandPart-lower-triangle"),
    GradCase("MatrixDiag", tf.linalg.diag, [_floats(2, 3)]),
    GradCase("MatrixDiagPart", tf.linalg.diag_part, [_floats(2, 3, 3)]),
    GradCase("MatrixDiagPart", tf.linalg.diag_part, [_floats(2, 4, 3)],
             id="MatrixDiagPart-nonsquare"),
    GradCase("MatrixSetDiag", tf.linalg.set_diag, [_floats(2, 3, 4), _floats(2, 3)]),
    GradCase("Qr", lambda x: list(tf.linalg.qr(x)), [_floats(2, 4, 3)]),
    GradCase("Qr", lambda x: list(tf.linalg.qr(x)), [_floats(3, 3)], id="Qr-square"),
    GradCase("Qr", lambda x: list(tf.linalg.qr(x, full_matrices=True)), [_floats(3, 3)],
             id="Qr-square-full"),
    GradCase("Qr", lambda x: list(tf.linalg.qr(x)), [_floats(2, 3, 5)], id="Qr-wide"),
    GradCase("SelfAdjointEigV2", lambda x: [
        tf.linalg.eigh(_symmetric(x))[0], _sign_free(tf.linalg.eigh(_symmetric(x))[1])],
        [_floats(2, 3, 3)]),
    GradCase("SelfAdjointEigV2", lambda x: tf.linalg.eigvalsh(_symmetric(x)),
             [_floats(3, 3)], id="SelfAdjointEigV2-values-only"),
    GradCase("Svd", lambda x: [tf.linalg.svd(x)[0], _sign_free(tf.linalg.svd(x)[1]),
                               _sign_free(tf.linalg.svd(x)[2])],
             [_floats(2, 4, 3)], id="Svd-tall"),
    GradCase("Svd", lambda x: [tf.linalg.svd(x)[0], _sign_free(tf.linalg.svd(x)[1]),
                               _sign_free(tf.linalg.svd(x)[2])],
             [_floats(3, 5)], id="Svd-wide"),
    GradCase("Svd", lambda x: [tf.linalg.svd(x)[0], _sign_free(tf.linalg.svd(x)[1])],
             [_floats(3, 3)], id="Svd-square"),
    GradCase("Svd", lambda x: [tf.linalg.svd(x, full_matrices=True)[0],
                               _sign_free(tf.linalg.svd(x, full_matrices=True)[1])],
             [_floats(2, 4, 3)], id="Svd-full"),
    GradCase("Svd", lambda x: tf.linalg.svd(x, compute_uv=False), [_floats(2, 3, 4)],
             id="Svd-values-only"),
    GradCase("Cholesky", lambda x: tf.linalg.logdet(_spd(x)), [_floats(3, 3)], id="logdet"),
    GradCase("MatrixTriangularSolve",
             lambda x, b: tf.linalg.cholesky_solve(tf.linalg.cholesky(_spd(x)), b),
             [_floats(3, 3), _floats(3, 2)], id="cholesky_solve"),
    GradCase("Cholesky", lambda a, b: tf.linalg.lstsq(a, b, l2_regularizer=0.1),
             [_floats(4, 3), _floats(4, 2)], id="lstsq-tall"),
    GradCase("Cholesky", lambda a, b: tf.linalg.lstsq(a, b), [_floats(2, 4), _floats(2, 1)],
             id="lstsq-wide"),
    GradCase("MatrixDiagPart", tf.linalg.trace, [_floats(2, 3, 3)], id="trace"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_linalg_gradient_matches_numeric(case):
    check_case(case)


def test_qr_gradient_of_full_tall_matrices_is_not_implemented():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [4, 3])
        q, r = tf.linalg.qr(x, full_matrices=True)
        with pytest.raises(NotImplementedError, match="nrows > ncols and full_matrices"):
            tf.gradients(tf.reduce_sum(q) + tf.reduce_sum(r), x)


def test_qr_gradient_of_unknown_shapes_is_not_implemented():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [None, 3])
        q, _ = tf.linalg.qr(x)
        with pytest.raises(NotImplementedError, match="dynamic shapes"):
            tf.gradients(tf.reduce_sum(q), x)


def test_svd_gradient_of_full_factors_far_from_square_is_not_implemented():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [5, 2])
        s, u, _ = tf.linalg.svd(x, full_matrices=True)
        with pytest.raises(NotImplementedError, match="abs\\(m - n\\) > 1"):
            tf.gradients(tf.reduce_sum(u) + tf.reduce_sum(s), x)
