"""The linear-algebra ops and ``tf.linalg`` against numpy: values on single matrices and
batches, both float types, static shapes, TF's graph-time and run-time errors, and the TF 1
top-level aliases. Gradients are checked numerically in test_grad_linalg.py."""

import numpy as np
import pytest

import sessionlib as tf

RNG = np.random.RandomState(3)


def _run(fetches, feeds=None):
    with tf.Session() as sess:
        return sess.run(fetches, feeds)


def _conditioned(*shape):
    return RNG.uniform(-1, 1, size=shape) + 4 * np.eye(shape[-1])


def _spd(*shape):
    x = RNG.uniform(-1, 1, size=shape)
    return x @ np.swapaxes(x, -1, -2) + 2 * np.eye(shape[-1])


def _tolerance(dtype):
    return 1e-4 if dtype == np.float32 else 1e-10


@pytest.fixture(autouse=True)
def _own_graph():
    with tf.Graph().as_default():
        yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (2, 1, 4, 4)])
def test_inverse_determinant_and_slogdet_match_numpy(dtype, shape):
    value = (_conditioned(*shape) * np.where(np.arange(shape[-1]) == 0, -1, 1)).astype(dtype)
    x = tf.placeholder(dtype, shape)
    sign, log_abs = tf.linalg.slogdet(x)
    inverse, inverse_t, det, sign_v, log_abs_v = _run(
        [tf.linalg.inv(x), tf.matrix_inverse(x, adjoint=True), tf.linalg.det(x), sign,
         log_abs], {x: value})
    tol = _tolerance(dtype)
    np.testing.assert_allclose(inverse, np.linalg.inv(value), rtol=tol, atol=tol)
    np.testing.assert_allclose(inverse_t, np.linalg.inv(np.swapaxes(value, -1, -2)),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(det, np.linalg.det(value), rtol=tol)
    expected_sign, expected_log = np.linalg.slogdet(value)
    np.testing.assert_array_equal(sign_v, expected_sign)
    np.testing.assert_allclose(log_abs_v, expected_log, rtol=tol)
    assert inverse.dtype == dtype and det.shape == shape[:-2]
    assert tf.linalg.det(x).shape.as_list() == list(shape[:-2])
    assert tf.log_matrix_determinant(x).sign.shape.as_list() == list(shape[:-2])


def test_slogdet_of_a_singular_matrix_is_zero_and_minus_inf():
    sign, log_abs = _run(tf.linalg.slogdet(np.zeros((2, 2))))
    assert sign == 0 and log_abs == -np.inf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cholesky_logdet_and_cholesky_solve_match_numpy(dtype):
    value = _spd(2, 4, 4).astype(dtype)
    rhs = RNG.uniform(-1, 1, size=(2, 4, 3)).astype(dtype)
    # The upper triangle is never read: garbage there changes nothing.
    noisy = value + np.triu(np.full((4, 4), 7.0, dtype), 1)
    x = tf.placeholder(dtype, [None, 4, 4])
    factor = tf.cholesky(x)
    assert factor.shape.as_list() == [None, 4, 4]
    chol, logdet, solution = _run(
        [factor, tf.linalg.logdet(x), tf.cholesky_solve(factor, tf.constant(rhs))],
        {x: noisy})
    tol = _tolerance(dtype)
    np.testing.assert_allclose(chol, np.linalg.cholesky(value), rtol=tol, atol=tol)
    np.testing.assert_allclose(logdet, np.linalg.slogdet(value)[1], rtol=tol)
    np.testing.assert_allclose(solution, np.linalg.solve(value, rhs), rtol=tol * 10, atol=tol)


def test_cholesky_of_a_matrix_that_is_not_positive_definite_fails_at_run_time():
    x = tf.placeholder(tf.float64, [2, 2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Cholesky decomposition was not"):
        _run(tf.linalg.cholesky(x), {x: np.stack([np.eye(2), -np.eye(2)])})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_solves_match_numpy(dtype):
    matrix = _conditioned(2, 3, 3).astype(dtype)
    rhs = RNG.uniform(-1, 1, size=(2, 3, 2)).astype(dtype)
    a, b = tf.placeholder(dtype, [2, 3, 3]), tf.placeholder(dtype, [2, 3, 2])
    fetches = [tf.linalg.solve(a, b), tf.matrix_solve(a, b, adjoint=True),
               tf.linalg.triangular_solve(a, b), tf.matrix_triangular_solve(a, b, lower=False),
               tf.linalg.triangular_solve(a, b, lower=True, adjoint=True),
               # The triangular solve broadcasts batch dimensions.
               tf.linalg.triangular_solve(a[0], b)]
    got = _run(fetches, {a: matrix, b: rhs})
    t = lambda m: np.swapaxes(m, -1, -2)  # noqa: E731
    expected = [np.linalg.solve(matrix, rhs), np.linalg.solve(t(matrix), rhs),
                np.linalg.solve(np.tril(matrix), rhs), np.linalg.solve(np.triu(matrix), rhs),
                np.linalg.solve(t(np.tril(matrix)), rhs),
                np.linalg.solve(np.tril(matrix[0]), rhs)]
    tol = _tolerance(dtype)
    for value, want, tensor in zip(got, expected, fetches):
        np.testing.assert_allclose(value, want, rtol=tol * 10, atol=tol)
        assert tensor.shape.as_list() == [2, 3, 2]


def test_solve_of_a_singular_matrix_fails_at_run_time():
    a = tf.placeholder(tf.float64, [2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Input matrix is not invertible"):
        _run(tf.linalg.solve(a, np.ones((2, 1))), {a: np.ones((2, 2))})


def test_inverse_of_a_singular_matrix_fails_at_run_time():
    a = tf.placeholder(tf.float32, [2, 2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Input is not invertible"):
        _run(tf.matrix_inverse(a), {a: np.stack([np.eye(2), np.zeros((2, 2))])})


def test_triangular_solve_with_a_zero_pivot_gives_infs_and_nans_as_tf_does():
    solution = _run(tf.linalg.triangular_solve(np.zeros((2, 2)), np.ones((2, 1))))
    assert np.isinf(solution[0, 0]) and np.isnan(solution[1, 0])


def test_lstsq_matches_numpy_least_squares():
    tall, rhs = RNG.uniform(-1, 1, size=(5, 3)), RNG.uniform(-1, 1, size=(5, 2))
    wide, rhs_wide = RNG.uniform(-1, 1, size=(2, 4)), RNG.uniform(-1, 1, size=(2, 1))
    got_tall, got_wide = _run([tf.linalg.lstsq(tall, rhs), tf.linalg.lstsq(wide, rhs_wide)])
    np.testing.assert_allclose(got_tall, np.linalg.lstsq(tall, rhs, rcond=None)[0], atol=1e-10)
    np.testing.assert_allclose(got_wide, np.linalg.lstsq(wide, rhs_wide, rcond=None)[0],
                               atol=1e-10)


@pytest.mark.parametrize("dtype", [tf.float32, tf.int32, tf.bool])
def test_band_part_and_diagonals_move_elements_of_every_type(dtype):
    np_dtype = dtype.as_numpy_dtype
    value = RNG.randint(0, 9, size=(2, 3, 4)).astype(np_dtype)
    diagonal = RNG.randint(0, 9, size=(2, 3)).astype(np_dtype)
    x, d = tf.placeholder(dtype, [2, 3, 4]), tf.placeholder(dtype, [2, 3])
    fetches = [tf.linalg.band_part(x, 1, 0), tf.matrix_band_part(x, -1, 2),
               tf.matrix_band_part(x, 0, -1), tf.linalg.diag_part(x), tf.linalg.diag(d),
               tf.linalg.set_diag(x, d)]
    band_1_0, band_all_2, upper, diag_part, diag, set_diag = _run(fetches, {x: value, d: diagonal})
    rows, cols = np.indices((3, 4))
    np.testing.assert_array_equal(band_1_0, np.where((rows - cols <= 1) & (cols <= rows),
                                                     value, 0))
    np.testing.assert_array_equal(band_all_2, np.where(cols - rows <= 2, value, 0))
    np.testing.assert_array_equal(upper, np.triu(value))
    np.testing.assert_array_equal(diag_part, np.diagonal(value, axis1=1, axis2=2))
    np.testing.assert_array_equal(diag, [np.diag(row) for row in diagonal])
    expected = value.copy()
    expected[:, np.arange(3), np.arange(3)] = diagonal
    np.testing.assert_array_equal(set_diag, expected)
    assert [t.shape.as_list() for t in fetches[3:]] == [[2, 3], [2, 3, 3], [2, 3, 4]]


def test_band_part_bound_beyond_the_matrix_fails_at_run_time():
    bound = tf.placeholder(tf.int64, [])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"num_lower must be negative or less or equal to number of rows "
                             r"\(2\) got: 5"):
        _run(tf.linalg.band_part(np.zeros((2, 2)), bound, 0), {bound: 5})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, full", [((4, 3), False), ((3, 5), False), ((2, 4, 3), True),
                                         ((2, 3, 5), True)])
def test_qr_and_svd_reconstruct_their_input(dtype, shape, full):
    value = RNG.uniform(-1, 1, size=shape).astype(dtype)
    x = tf.placeholder(dtype, shape)
    q, r = tf.linalg.qr(x, full_matrices=full)
    s, u, v = tf.linalg.svd(x, full_matrices=full)
    values_only = tf.svd(x, compute_uv=False)
    got = _run([q, r, s, u, v, values_only], {x: value})
    q_v, r_v, s_v, u_v, v_v, only_v = got
    tol = _tolerance(dtype) * 10
    np.testing.assert_allclose(q_v @ r_v, value, atol=tol)
    np.testing.assert_allclose(np.tril(r_v, -1), 0, atol=tol)
    size = min(shape[-2:])
    np.testing.assert_allclose(s_v, np.linalg.svd(value, compute_uv=False), rtol=tol)
    np.testing.assert_allclose(only_v, s_v, rtol=tol)
    core = u_v[..., :, :size] * s_v[..., None, :]
    np.testing.assert_allclose(core @ np.swapaxes(v_v[..., :, :size], -1, -2), value, atol=tol)
    for tensor, result in zip([q, r, s, u, v, values_only], got):
        assert tensor.shape.as_list() == list(result.shape)


def test_svd_without_vectors_and_eigvalsh_give_empty_placeholders_as_tf_does():
    x = tf.placeholder(tf.float64, [2, 3, 3])
    graph = tf.get_default_graph()
    op = graph.create_op("Svd", [x], {"compute_uv": False})
    assert [t.shape.as_list() for t in op.outputs] == [[2, 3], [0], [0]]
    eig = graph.create_op("SelfAdjointEigV2", [x], {"compute_v": False})
    assert [t.shape.as_list() for t in eig.outputs] == [[2, 3], [0]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eigh_matches_numpy_and_reads_the_lower_triangle(dtype):
    value = _spd(2, 4, 4).astype(dtype)
    noisy = value + np.triu(np.full((4, 4), 5.0, dtype), 1)
    x = tf.placeholder(dtype, [2, 4, 4])
    e, v = tf.linalg.eigh(x)
    e_v, v_v, values = _run([e, v, tf.self_adjoint_eigvals(x)], {x: noisy})
    expected_e, expected_v = np.linalg.eigh(value)
    tol = _tolerance(dtype) * 10
    np.testing.assert_allclose(e_v, expected_e, rtol=tol)
    np.testing.assert_allclose(values, expected_e, rtol=tol)
    # Eigenvectors are unique up to sign.
    np.testing.assert_allclose(np.abs(v_v), np.abs(expected_v), atol=tol)
    e2, v2 = tf.self_adjoint_eig(x)
    assert e2.shape.as_list() == [2, 4] and v2.shape.as_list() == [2, 4, 4]


def test_trace_eye_norm_and_transposes_match_numpy():
    w = RNG.uniform(-1, 1, size=(3, 5))
    batch = RNG.uniform(-1, 1, size=(2, 3, 3))
    rows = tf.placeholder(tf.int32, [])
    got = _run([tf.trace(batch), tf.linalg.trace(w), tf.eye(2, 3, batch_shape=[2]),
                tf.linalg.eye(rows, dtype=tf.float64), tf.norm(w), tf.norm(w, ord=1),
                tf.linalg.norm(w, ord=np.inf, axis=1), tf.norm(w, ord=3, axis=0, keepdims=True),
                tf.norm(w, ord=1, axis=[0, 1]), tf.norm(w, ord=np.inf, axis=(-2, -1)),
                tf.norm(w, "fro", axis=(0, 1)), tf.linalg.adjoint(batch),
                tf.linalg.transpose(w), tf.linalg.matmul(w, w, transpose_b=True)],
               {rows: 3})
    expected = [np.trace(batch, axis1=1, axis2=2), np.trace(w),
                np.broadcast_to(np.eye(2, 3), (2, 2, 3)), np.eye(3), np.linalg.norm(w),
                np.abs(w).sum(), np.abs(w).max(axis=1),
                (np.abs(w) ** 3).sum(axis=0, keepdims=True) ** (1 / 3),
                np.linalg.norm(w, 1), np.linalg.norm(w, np.inf), np.linalg.norm(w, "fro"),
                np.swapaxes(batch, 1, 2), w.T, w @ w.T]
    for index, (value, want) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(value, want, rtol=1e-6, err_msg=f"fetch {index}")
    assert got[2].dtype == np.float32 and got[3].dtype == np.float64


@pytest.mark.parametrize("build, message", [
    (lambda: tf.linalg.inv(np.zeros((2, 3))), "Dimensions must be equal, but are 2 and 3"),
    (lambda: tf.matrix_inverse(np.zeros(3)), "Shape must be at least rank 2 but is rank 1"),
    (lambda: tf.cholesky(np.zeros((2, 3))), "Dimensions must be equal, but are 2 and 3"),
    (lambda: tf.matrix_determinant(np.zeros((3, 2))), "Dimensions must be equal"),
    (lambda: tf.matrix_solve(np.zeros((2, 2)), np.ones((3, 1))),
     "Dimensions must be equal, but are 2 and 3"),
    (lambda: tf.matrix_solve(np.zeros((2, 2, 2)), np.ones((3, 2, 1))),
     "Dimensions must be equal, but are 2 and 3"),
    (lambda: tf.matrix_triangular_solve(np.zeros((2, 2)), np.ones((3, 1))),
     "Dimensions must be equal, but are 2 and 3"),
    (lambda: tf.matrix_triangular_solve(np.zeros((2, 2, 2)), np.ones((3, 2, 1))),
     r"Dimensions must be equal, but are 2 and 3 .* input shapes: \[2,2,2\], \[3,2,1\]"),
    (lambda: tf.linalg.svd(np.zeros(3)), "Shape must be at least rank 2 but is rank 1"),
    (lambda: tf.linalg.qr(np.zeros(3)), "Shape must be at least rank 2 but is rank 1"),
    (lambda: tf.linalg.diag_part(np.zeros(3)), "Shape must be at least rank 2 but is rank 1"),
    (lambda: tf.linalg.diag(np.float32(1)), "Shape must be at least rank 1 but is rank 0"),
    (lambda: tf.linalg.set_diag(np.zeros((2, 2)), np.ones(3)),
     "Dimensions must be equal, but are 2 and 3"),
    (lambda: tf.linalg.band_part(np.zeros(3), 1, 1), "at least rank 2"),
    (lambda: tf.linalg.eigh(np.zeros((2, 3))), "Dimensions must be equal"),
    (lambda: tf.norm(np.zeros(3), ord=0), "'ord' must be a supported vector norm, got 0"),
    (lambda: tf.norm(np.zeros((3, 3)), ord=2, axis=[0, 1]), "supported matrix norm"),
])
def test_bad_static_shapes_are_graph_time_value_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_non_float_inputs_are_type_errors():
    with pytest.raises(TypeError, match="not in list of allowed values"):
        tf.matrix_determinant(np.zeros((2, 2), np.int32))
    with pytest.raises(TypeError, match="does not match"):
        tf.matrix_solve(tf.zeros([2, 2], tf.float32), tf.zeros([2, 1], tf.float64))


def test_unknown_shapes_are_inferred_as_far_as_they_are_known():
    x = tf.placeholder(tf.float32, None)
    assert tf.linalg.inv(x).shape.rank is None
    partial = tf.placeholder(tf.float32, [None, None, 3])
    assert tf.linalg.inv(partial).shape.as_list() == [None, 3, 3]
    assert tf.linalg.det(partial).shape.as_list() == [None]
    s, u, v = tf.linalg.svd(tf.placeholder(tf.float32, [2, None, 3]))
    assert s.shape.as_list() == [2, None] and v.shape.as_list() == [2, 3, None]


def test_top_level_aliases_are_the_linalg_functions():
    assert tf.matrix_transpose is not None and tf.linalg.band_part is tf.matrix_band_part
    for alias, public in [("matrix_inverse", "inv"), ("matrix_determinant", "det"),
                          ("cholesky", "cholesky"), ("matrix_solve", "solve"),
                          ("matrix_triangular_solve", "triangular_solve"), ("qr", "qr"),
                          ("self_adjoint_eig", "eigh"), ("self_adjoint_eigvals", "eigvalsh"),
                          ("svd", "svd"), ("trace", "trace"), ("cholesky_solve", "cholesky_solve"),
                          ("log_matrix_determinant", "slogdet"), ("eye", "eye"),
                          ("norm", "norm"), ("matrix_diag", "diag"),
                          ("matrix_diag_part", "diag_part"), ("matrix_set_diag", "set_diag")]:
        assert getattr(tf, alias) is getattr(tf.linalg, public), alias


@pytest.mark.parametrize("build", [
    tf.linalg.inv, tf.linalg.det, tf.linalg.cholesky, tf.linalg.qr, tf.linalg.svd,
    tf.linalg.eigh, tf.linalg.diag_part, lambda t: tf.linalg.band_part(t, 0, 0),
    lambda t: tf.linalg.set_diag(t, [1.0]), lambda t: tf.linalg.solve(np.eye(3), t),
    lambda t: tf.linalg.triangular_solve(np.eye(3), t)])
def test_a_vector_fed_where_the_rank_is_unknown_fails_at_run_time(build):
    x = tf.placeholder(tf.float64)
    outputs = build(x)
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 2|at least 2-dim"):
        _run(outputs, {x: np.ones(3)})


def test_a_non_square_matrix_fed_where_the_shape_is_unknown_fails_at_run_time():
    x = tf.placeholder(tf.float32, [None, None])
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be square"):
        _run(tf.linalg.inv(x), {x: np.ones((2, 3), np.float32)})
