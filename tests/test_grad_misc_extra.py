"""Numeric gradient checks of the linear-algebra extras (MatrixSquareRoot, MatrixSolveLs) and
ExtractVolumePatches."""

import numpy as np
import pytest

import sessionlib as tf

from _gradient_check import GradCase, case_ids, check_case

_RNG = np.random.default_rng(11)
# Symmetric positive definite (a real principal root exists), and a batch of non-symmetric
# matrices near the identity.
_SPD = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
_NEAR_IDENTITY = np.eye(2) * 3 + 0.4 * _RNG.standard_normal((2, 2, 2))


def _solve_ls_op(fast_matrix, rhs):
    regularizer = tf.constant(0.3, tf.float64)
    return tf.get_default_graph().create_op("MatrixSolveLs", [fast_matrix, rhs, regularizer],
                                            {"fast": True}).outputs[0]


GRADIENT_CASES = [
    GradCase("MatrixSquareRoot", lambda x: tf.linalg.sqrtm(x), [_SPD], tolerance=1e-5),
    GradCase("MatrixSquareRoot", lambda x: tf.matrix_square_root(x), [_NEAR_IDENTITY],
             tolerance=1e-5, id="MatrixSquareRoot-batch"),
    GradCase("MatrixSolveLs", _solve_ls_op,
             [_RNG.standard_normal((4, 2)), _RNG.standard_normal((4, 3))], tolerance=1e-5),
    GradCase("MatrixSolveLs", _solve_ls_op,
             [_RNG.standard_normal((2, 3)), _RNG.standard_normal((2, 1))], tolerance=1e-5,
             id="MatrixSolveLs-underdetermined"),
    GradCase("ExtractVolumePatches",
             lambda x: tf.extract_volume_patches(x, [1, 2, 2, 2, 1], [1, 1, 2, 1, 1], "SAME"),
             [_RNG.standard_normal((2, 2, 3, 3, 2))]),
    GradCase("ExtractVolumePatches",
             lambda x: tf.extract_volume_patches(x, [1, 1, 2, 3, 1], [1, 1, 1, 2, 1], "VALID"),
             [_RNG.standard_normal((1, 2, 3, 4, 1))], id="ExtractVolumePatches-valid"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
