"""Parity cases (see test_parity.py) of the linear-algebra ops: each on a single matrix and a
batch, with its attrs; the decompositions and solves on well-conditioned inputs, the
structural ops (band, diagonals) on every type they move."""

import numpy as np

import sessionlib as tf
from sessionlib.ops import linalg_ops

FLOATS = (tf.float16, tf.float32, tf.float64)
LAPACK = (tf.float32, tf.float64)
STRUCTURAL = FLOATS + (tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8, tf.bool)


def _qr(f, d):
    outs = []
    for shape, full in (((5, 3), False), ((3, 5), False), ((2, 4, 3), True)):
        outs.extend(linalg_ops.qr(f(shape, d), full_matrices=full))
    return outs


def _conditioned(f, shape, d):
    """A random square matrix plus 12 I: far from singular."""
    return f(shape, d, low=-1, high=1) + tf.constant(12 * np.eye(shape[-1]), dtype=d)


def _spd(f, shape, d):
    # The reshape gives the fed matrix its rank, so that matmul batches.
    x = tf.reshape(f(shape, d, low=-1, high=1), shape)
    return tf.matmul(x, x, transpose_b=True) + tf.constant(3 * np.eye(shape[-1]), dtype=d)


def _inverse(f, d):
    return [tf.linalg.inv(_conditioned(f, (3, 3), d)),
            tf.linalg.inv(_conditioned(f, (2, 4, 4), d), adjoint=True)]


def _determinants(f, d):
    return [tf.linalg.det(_conditioned(f, (2, 3, 3), d)), tf.linalg.det(f((4, 4), d))]


def _log_determinants(f, d):
    return list(tf.linalg.slogdet(_conditioned(f, (2, 3, 3), d))) + list(
        tf.linalg.slogdet(-_conditioned(f, (3, 3), d)))


def _solves(f, d):
    return [tf.linalg.solve(_conditioned(f, (2, 3, 3), d), f((2, 3, 2), d)),
            tf.linalg.solve(_conditioned(f, (3, 3), d), f((3, 1), d), adjoint=True)]


def _triangular_solves(f, d):
    return [tf.linalg.triangular_solve(_conditioned(f, (2, 3, 3), d), f((2, 3, 2), d)),
            tf.linalg.triangular_solve(_conditioned(f, (3, 3), d), f((2, 3, 2), d),
                                       lower=False, adjoint=True)]


def _band_parts(f, d):
    x = f((2, 3, 4), d)
    return [tf.linalg.band_part(x, 1, 0), tf.linalg.band_part(x, -1, 2),
            tf.linalg.band_part(f((4, 3), d), 0, -1)]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("Qr", FLOATS, _qr)
    case("MatrixInverse", LAPACK, _inverse)
    case("MatrixDeterminant", LAPACK, _determinants)
    case("LogMatrixDeterminant", LAPACK, _log_determinants)
    case("Cholesky", LAPACK, lambda f, d: [tf.linalg.cholesky(_spd(f, (3, 3), d)),
                                           tf.linalg.cholesky(_spd(f, (2, 4, 4), d))])
    case("MatrixSolve", LAPACK, _solves)
    case("MatrixTriangularSolve", LAPACK, _triangular_solves)
    case("MatrixBandPart", STRUCTURAL, _band_parts)
    case("MatrixDiag", STRUCTURAL, lambda f, d: [tf.linalg.diag(f((3,), d)),
                                                 tf.linalg.diag(f((2, 3), d))])
    case("MatrixDiagPart", STRUCTURAL, lambda f, d: [tf.linalg.diag_part(f((2, 3, 4), d)),
                                                     tf.linalg.diag_part(f((4, 3), d))])
    case("MatrixSetDiag", STRUCTURAL, lambda f, d: [
        tf.linalg.set_diag(f((2, 3, 4), d), f((2, 3), d)),
        tf.linalg.set_diag(f((3, 3), d), f((3,), d))])
    case("SelfAdjointEigV2", LAPACK, lambda f, d: list(tf.linalg.eigh(_spd(f, (2, 3, 3), d)))
         + [tf.linalg.eigvalsh(f((4, 4), d))])
    case("Svd", LAPACK, lambda f, d: list(tf.linalg.svd(f((2, 4, 3), d)))
         + list(tf.linalg.svd(f((3, 5), d), full_matrices=True))
         + [tf.linalg.svd(f((3, 3), d), compute_uv=False)])
