"""Small ops: count_up_to, saturate_cast, clip_by_average_norm, get_seed, random_gamma,
random_poisson, switch_case, custom_gradient, grad_pass_through, the linear algebra extras.

Expected values were checked against TensorFlow 2.21's ``tf.compat.v1`` by hand.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors


# ---- count_up_to ----------------------------------------------------------------------------

def test_count_up_to_on_resource_and_reference_variables():
    with tf.Graph().as_default():
        resource = tf.Variable(0, name="cv")
        reference = tf.Variable(3, use_resource=False, name="rv")
        counted = tf.count_up_to(resource, 2)
        counted_ref = reference.count_up_to(4)
        counted_again = resource.count_up_to(2)
        assert (counted.op.type, counted.op.name) == ("ResourceCountUpTo", "ResourceCountUpTo")
        assert (counted_ref.op.type, counted_ref.op.name) == ("CountUpTo", "CountUpTo")
        assert counted_again.op.name == "ResourceCountUpTo_1"
        assert counted.shape.as_list() == [] and counted_ref.dtype == tf.int32
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(counted) == 0
            assert sess.run(counted_again) == 1
            with pytest.raises(errors.OutOfRangeError, match="limit of 2"):
                sess.run(counted)
            assert sess.run(resource) == 2
            assert sess.run(counted_ref) == 3
            with pytest.raises(errors.OutOfRangeError):
                sess.run(counted_ref)
            assert sess.run(reference) == 4
        with pytest.raises(TypeError, match="int32, int64"):
            tf.count_up_to(tf.Variable(1.0), 3)
        with pytest.raises(TypeError, match="int32, int64"):
            tf.Variable(1.0, use_resource=False).count_up_to(3)


# ---- saturate_cast, clip_by_average_norm, get_seed -----------------------------------------

def test_saturate_cast_clamps_to_the_target_range():
    with tf.Graph().as_default():
        to_uint8 = tf.saturate_cast(tf.constant([-300.0, 1.5, 300.0, np.nan]), tf.uint8)
        assert (to_uint8.op.type, to_uint8.op.name) == ("Cast", "saturate_cast")
        to_int32 = tf.saturate_cast(tf.constant([-1e10, 1e10]), tf.int32)
        int_to_uint8 = tf.dtypes.saturate_cast(tf.constant([-5, 300], tf.int32), tf.uint8)
        to_float32 = tf.saturate_cast(tf.constant([1e40, -1e40], tf.float64), tf.float32)
        to_half = tf.saturate_cast(tf.constant([70000.0], tf.float32), tf.float16)
        widen = tf.saturate_cast(tf.constant([7], tf.int8), tf.int64)
        with tf.Session() as sess:
            got = sess.run([to_uint8, to_int32, int_to_uint8, to_float32, to_half, widen])
    np.testing.assert_array_equal(got[0], np.array([0, 1, 255, 0], np.uint8))
    np.testing.assert_array_equal(got[1], np.array([-2147483648, 2147483520], np.int32))
    np.testing.assert_array_equal(got[2], np.array([0, 255], np.uint8))
    np.testing.assert_array_equal(got[3], np.array([3.4028235e38, -3.4028235e38], np.float32))
    np.testing.assert_array_equal(got[4], np.array([65504], np.float16))
    assert got[5].dtype == np.int64 and got[5].tolist() == [7]


def test_clip_by_average_norm_values_and_gradient():
    with tf.Graph().as_default():
        t = tf.constant([[3.0, 4.0], [0.0, 0.0]])
        clipped = tf.clip_by_average_norm(t, 1.0)
        unchanged = tf.clip_by_average_norm(t, 10.0)
        assert (clipped.op.type, clipped.op.name) == ("Identity", "clip_by_average_norm")
        (grad,) = tf.gradients(tf.reduce_sum(clipped), [t])
        with tf.Session() as sess:
            got, kept, got_grad = sess.run([clipped, unchanged, grad])
    np.testing.assert_allclose(got, [[2.4, 3.2], [0.0, 0.0]], rtol=1e-6)
    np.testing.assert_allclose(kept, [[3.0, 4.0], [0.0, 0.0]], rtol=1e-6)
    # d/dt of 4 * t / |t| summed: 4 * (1 - t (t . 1) / |t|^2) / |t|.
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    norm = np.linalg.norm(x)
    np.testing.assert_allclose(got_grad, 4 * (1 - x * x.sum() / norm ** 2) / norm, rtol=1e-5)


def test_get_seed_follows_tf_rules():
    with tf.Graph().as_default() as graph:
        assert tf.get_seed(None) == (None, None)
        assert tf.get_seed(5) == (87654321, 5)
        assert tf.random.get_seed is tf.get_seed
        tf.set_random_seed(7)
        assert tf.get_seed(5) == (7, 5)
        assert tf.get_seed(None)[0] == 7
        assert graph.seed == 7


# ---- random_gamma, random_poisson ---------------------------------------------------------------

def _six_sigma(samples, mean, variance, axis=0):
    """Asserts the sample mean is within 6 standard errors of `mean`."""
    count = samples.shape[axis]
    error = np.abs(samples.mean(axis=axis) - mean)
    assert np.all(error < 6 * np.sqrt(variance / count)), (samples.mean(axis=axis), mean)


def test_random_gamma_distribution_and_graph():
    alpha = np.array([0.5, 2.0, 7.0])
    beta = np.array([1.0, 2.0, 0.5])
    with tf.Graph().as_default():
        draw = tf.random_gamma([20000], alpha, beta=beta, seed=1)
        assert draw.shape.as_list() == [20000, 3] and draw.dtype == tf.float32
        assert draw.op.type == "Maximum" and draw.op.name == "random_gamma/Maximum"
        half = tf.random.gamma([4, 2], 3.0, dtype=tf.float16, seed=2)
        assert half.shape.as_list() == [4, 2, ] and half.dtype == tf.float16
        with pytest.raises(ValueError):
            tf.random_gamma([2], tf.constant([1], tf.int32))
        with tf.Session() as sess:
            first, half_values = sess.run([draw, half])
            second = sess.run(draw)
        with tf.Session() as sess:
            again = sess.run(draw)
    assert first.dtype == np.float32 and np.all(first > 0)
    np.testing.assert_array_equal(first, again)  # a seeded op restarts with each session
    assert not np.array_equal(first, second)
    samples = first.astype(np.float64)
    _six_sigma(samples, alpha / beta, alpha / beta ** 2)
    # The variance: the sample variance of Gamma has variance (mu4 - sigma^4) / n.
    variance = alpha / beta ** 2
    fourth = 3 * alpha * (alpha + 2) / beta ** 4  # Gamma's fourth central moment
    _six_sigma((samples - alpha / beta) ** 2, variance, fourth - variance ** 2)
    assert half_values.dtype == np.float16 and np.all(half_values > 0)


def test_random_gamma_gradient_in_alpha_and_beta():
    alpha = np.array([0.5, 2.0, 7.0], np.float64)
    beta = np.array([1.0, 2.0, 0.5], np.float64)
    with tf.Graph().as_default():
        alpha_t, beta_t = tf.constant(alpha), tf.constant(beta)
        draw = tf.random_gamma([3000], alpha_t, beta=beta_t, dtype=tf.float64, seed=3)
        grad_alpha, grad_beta = tf.gradients(tf.reduce_mean(draw, 0), [alpha_t, beta_t])
        # d x / d alpha of each sample x = g / beta, with g ~ Gamma(alpha, 1).
        per_sample = tf.get_default_graph().create_op(
            "RandomGammaGrad", [alpha_t, draw * beta_t]).outputs[0] / beta_t
        with tf.Session() as sess:
            got_alpha, got_beta, samples, per_sample_alpha = sess.run(
                [grad_alpha, grad_beta, draw, per_sample])
    # E[x] = alpha / beta: the reparameterized gradients are unbiased estimates of 1 / beta and
    # -alpha / beta^2, with the spread of their per-sample terms.
    per_sample_beta = -samples / beta
    _six_sigma(per_sample_beta, -alpha / beta ** 2, per_sample_beta.var(axis=0))
    np.testing.assert_allclose(got_beta, per_sample_beta.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(got_alpha, per_sample_alpha.mean(axis=0), rtol=1e-6)
    _six_sigma(per_sample_alpha, 1 / beta, per_sample_alpha.var(axis=0))


def test_random_gamma_grad_matches_tf():
    with tf.Graph().as_default():
        graph = tf.get_default_graph()
        single = graph.create_op("RandomGammaGrad", [tf.constant([0.5, 2.0, 7.0, 1.0]),
                                                     tf.constant([0.3, 1.5, 9.0, 0.01])])
        batch = graph.create_op("RandomGammaGrad",
                                [tf.constant([[0.5], [3.0]], tf.float64),
                                 tf.constant([[0.3, 2.0], [1.5, 4.0]], tf.float64)])
        assert batch.outputs[0].shape.as_list() == [2, 2]
        with tf.Session() as sess:
            got, got_batch = sess.run([single.outputs[0], batch.outputs[0]])
    np.testing.assert_allclose(got, [1.0098021, 0.93663883, 1.1581846, 0.05055692], rtol=1e-5)
    np.testing.assert_allclose(got_batch, [[1.00980195, 2.51188938], [0.73153286, 1.216497]],
                               rtol=1e-6)


def test_random_poisson_distribution_dtypes_and_errors():
    lam = np.array([1.0, 5.0, 30.0])
    with tf.Graph().as_default():
        draw = tf.random_poisson(lam, [20000], seed=4)
        assert draw.shape.as_list() == [20000, 3] and draw.dtype == tf.float32
        assert draw.op.type == "RandomPoissonV2"
        assert draw.op.name == "random_poisson/RandomPoissonV2"
        ints = tf.random.poisson(tf.constant([2, 3]), [5], dtype=tf.int64, seed=5)
        assert ints.shape.as_list() == [5, 2] and ints.dtype == tf.int64
        with pytest.raises(TypeError, match="int32, int64"):
            tf.random_poisson([1.0], [2], dtype=tf.string)
        rate = tf.placeholder(tf.float32)
        bad = tf.random_poisson(rate, [2])
        with tf.Session() as sess:
            samples, int_samples = sess.run([draw, ints])
            with pytest.raises(errors.InvalidArgumentError):
                sess.run(bad, {rate: [-1.0]})
    assert np.all(samples == np.round(samples)) and np.all(samples >= 0)
    _six_sigma(samples.astype(np.float64), lam, lam)
    # Poisson's variance is lam; the sample variance's own variance is lam + 2 lam^2.
    _six_sigma((samples - lam) ** 2, lam, lam + 2 * lam ** 2)
    assert int_samples.dtype == np.int64 and np.all(int_samples >= 0)


# ---- switch_case -------------------------------------------------------------------------------

def test_switch_case_picks_branch_default_and_gradient():
    with tf.Graph().as_default():
        index = tf.placeholder(tf.int32, [])
        x = tf.constant(3.0)
        result = tf.switch_case(index, [lambda: x * 2, lambda: x * 3, lambda: x - 1])
        with_default = tf.switch_case(index, {1: lambda: x + 10, 0: lambda: x + 40},
                                      default=lambda: x)
        pairs = tf.switch_case(tf.cast(index, tf.int64), [(1, lambda: x * 5), (0, lambda: x)])
        (grad,) = tf.gradients(result, x)
        with tf.Session() as sess:
            got = [sess.run([result, with_default, grad, pairs], {index: k})
                   for k in (0, 1, 2, 4, -1)]
    assert got == [[6.0, 43.0, 2.0, 3.0], [9.0, 13.0, 3.0, 15.0], [2.0, 3.0, 1.0, 15.0],
                   [2.0, 3.0, 1.0, 15.0], [2.0, 3.0, 1.0, 15.0]]


def test_switch_case_errors():
    with tf.Graph().as_default():
        index = tf.placeholder(tf.int32, [])
        x = tf.constant(1.0)
        with pytest.raises(TypeError, match="integer Tensor"):
            tf.switch_case(tf.constant(1.0), [lambda: x])
        with pytest.raises(ValueError, match="at least one"):
            tf.switch_case(index, [])
        with pytest.raises(TypeError, match="2-tuple"):
            tf.switch_case(index, [x])
        with pytest.raises(ValueError, match=r"contiguous range of \[0 to 2\) but found \{1,4\}"):
            tf.switch_case(index, {1: lambda: x, 4: lambda: x})
        with pytest.raises(ValueError, match="found {0,0}"):
            tf.switch_case(index, [(0, lambda: x), (0, lambda: x)])
        with pytest.raises(TypeError, match="Python `int`"):
            tf.switch_case(index, {"a": lambda: x})
        with pytest.raises(TypeError, match="callable"):
            tf.switch_case(index, [(0, x)])


# ---- custom_gradient, grad_pass_through ---------------------------------------------------------

def test_custom_gradient_replaces_the_gradient():
    @tf.custom_gradient
    def log1pexp(v):
        e = tf.exp(v)

        def grad(dy):
            return dy * (1 - 1 / (1 + e))

        return tf.log(1 + e), grad

    @tf.custom_gradient
    def two_results(a, b):
        def grad(d_product, d_sum):
            return d_product * 2 + d_sum, d_sum * 5

        return (a * b, a + b), grad

    with tf.Graph().as_default() as graph:
        y = tf.constant([0.0, 100.0])
        value = log1pexp(y)
        assert value.op.type == "IdentityN"
        assert value.op.get_attr("_gradient_op_type").startswith("CustomGradient-")
        (grad,) = tf.gradients(value, y)
        a, b = tf.constant(2.0), tf.constant(3.0)
        product, total = two_results(a, b)
        grads = tf.gradients(product + 2 * total, [a, b])
        graph.as_graph_def()  # the override attr serializes as a string attr
        with tf.Session() as sess:
            got = sess.run([value, grad, product, total, grads])
    np.testing.assert_allclose(got[0], [np.log(2.0), np.inf])
    np.testing.assert_allclose(got[1], [0.5, 1.0])  # the naive gradient would be NaN at 100
    assert got[2:4] == [6.0, 5.0]
    assert got[4] == [4.0, 10.0]


def test_custom_gradient_wrong_gradient_count_and_variables():
    @tf.custom_gradient
    def bad(a, b):
        return a + b, lambda dy: dy

    @tf.custom_gradient
    def uses_variables(a):
        def grad(dy, variables=None):
            return dy

        return a * 2, grad

    with tf.Graph().as_default():
        a, b = tf.constant(1.0), tf.constant(2.0)
        with pytest.raises(ValueError, match="expected to return 2 gradients"):
            tf.gradients(bad(a, b), [a, b])
        with pytest.raises(NotImplementedError, match="variables"):
            uses_variables(a)


def test_grad_pass_through_uses_the_identity_gradient():
    with tf.Graph().as_default():
        z = tf.constant([1.3, 2.7])
        rounded = tf.grad_pass_through(tf.round)(z)
        (grad,) = tf.gradients(rounded * 3, z)
        (plain,) = tf.gradients(tf.round(z) * 3, z)
        with tf.Session() as sess:
            got_value, got_grad = sess.run([rounded, grad])
    np.testing.assert_array_equal(got_value, [1.0, 3.0])
    np.testing.assert_array_equal(got_grad, [3.0, 3.0])
    assert plain is None  # Round has no gradient of its own


# ---- matrix_square_root, matrix_solve_ls, required_space_to_batch_paddings ----------------------

def test_matrix_square_root_values_and_nan_cases():
    matrices = [[[4.0, 1.0], [1.0, 3.0]], [[1.0, 1.0], [0.0, 1.0]], [[-1.0, 0.0], [0.0, 4.0]],
                [[0.0, -1.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]], [[1.0, 2.0], [3.0, 4.0]]]
    with tf.Graph().as_default():
        roots = [tf.linalg.sqrtm(tf.constant(m, tf.float64)) for m in matrices]
        single = tf.matrix_square_root(tf.constant(matrices[0], tf.float32))
        assert single.op.type == "MatrixSquareRoot" and single.shape.as_list() == [2, 2]
        with pytest.raises(TypeError, match="float32, float64"):
            tf.linalg.sqrtm(tf.constant([[1, 2], [3, 4]]))
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            tf.linalg.sqrtm(tf.zeros([2, 3]))
        with tf.Session() as sess:
            got = sess.run(roots)
            got_single = sess.run(single)
    np.testing.assert_allclose(got[0], [[1.981577633135315, 0.27083220609417935],
                                        [0.27083220609417924, 1.7107454270411355]], rtol=1e-12)
    np.testing.assert_allclose(got[1], [[1.0, 0.5], [0.0, 1.0]], atol=1e-12)
    np.testing.assert_allclose(got[3], np.sqrt(0.5) * np.array([[1.0, -1.0], [1.0, 1.0]]),
                               rtol=1e-12)
    for index in (2, 4, 5):  # a negative eigenvalue or a singular matrix: NaN, as in TF
        assert np.isnan(got[index]).all()
    assert got_single.dtype == np.float32
    np.testing.assert_allclose(got_single, got[0], rtol=1e-6)


def test_matrix_solve_ls_fast_slow_and_gradient():
    a_value = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])
    b_value = np.array([[1.0], [2.0], [2.0]])
    with tf.Graph().as_default():
        a, b = tf.constant(a_value), tf.constant(b_value)
        fast = tf.matrix_solve_ls(a, b)
        regularized = tf.matrix_solve_ls(a, b, l2_regularizer=0.5)
        wide = tf.linalg.lstsq(tf.transpose(a), b[:2], l2_regularizer=0.1)
        slow = tf.matrix_solve_ls(a, b, fast=False)
        assert slow.op.type == "MatrixSolveLs" and slow.shape.as_list() == [2, 1]
        fed = tf.placeholder(tf.float64)
        unknown = tf.matrix_solve_ls(fed, b)  # no static shape: the fast op
        assert unknown.op.type == "MatrixSolveLs" and unknown.op.get_attr("fast")
        grads = tf.gradients(tf.reduce_sum(regularized * [[1.0], [2.0]]), [a, b])
        with pytest.raises(ValueError, match="fast=False"):
            tf.gradients(slow, a)
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            tf.matrix_solve_ls(a, tf.zeros([2, 1], tf.float64))
        with tf.Session() as sess:
            got = sess.run([fast, regularized, wide, slow, grads])
            got_unknown = sess.run(unknown, {fed: a_value})
    np.testing.assert_allclose(got[0], [[-0.21428571], [0.5]], rtol=1e-7)
    np.testing.assert_allclose(got[1], [[0.08301887], [0.28679245]], rtol=1e-6)
    np.testing.assert_allclose(got[2], [[0.55305203], [-0.07783695], [0.15977059]], rtol=1e-6)
    np.testing.assert_allclose(got[3], [[-0.21428571], [0.5]], rtol=1e-7)
    np.testing.assert_allclose(got_unknown, got[0], rtol=1e-10)
    np.testing.assert_allclose(got[4][0], [[-0.16714845, 0.04693485], [-0.26286935, 0.18967604],
                                           [0.16740477, -0.19013172]], rtol=1e-6)
    np.testing.assert_allclose(got[4][1], [[0.23396226], [0.03773585], [0.17358491]], rtol=1e-6)


def test_required_space_to_batch_paddings():
    with tf.Graph().as_default():
        paddings, crops = tf.required_space_to_batch_paddings([5, 7], [2, 3],
                                                              base_paddings=[[1, 0], [0, 2]])
        assert paddings.name == "required_space_to_batch_paddings/paddings:0"
        assert crops.name == "required_space_to_batch_paddings/crops:0"
        shape = tf.placeholder_with_default([4, 6], [2])
        fed_paddings, fed_crops = tf.required_space_to_batch_paddings(shape, [2, 4])
        empty = tf.required_space_to_batch_paddings([], tf.zeros([0], tf.int32))
        with pytest.raises(ValueError):
            tf.required_space_to_batch_paddings([4, 6], tf.placeholder(tf.int32, [None]))
        with tf.Session() as sess:
            got = sess.run([paddings, crops, fed_paddings, fed_crops, empty[0]])
    assert got[0].tolist() == [[1, 0], [0, 2]] and got[1].tolist() == [[0, 0], [0, 0]]
    assert got[2].tolist() == [[0, 0], [0, 2]] and got[3].tolist() == [[0, 0], [0, 2]]
    assert got[4].shape == (0, 2)


# ---- create_partitioned_variables ---------------------------------------------------------------

def test_create_partitioned_variables_names_shapes_and_reuse():
    with tf.Graph().as_default():
        parts = tf.create_partitioned_variables([5, 2], [2, 1], tf.ones_initializer())
        assert [(v.name, v.shape.as_list()) for v in parts] == [
            ("PartitionedVariable/part_0:0", [3, 2]), ("PartitionedVariable/part_1:0", [2, 2])]
        ints = tf.create_partitioned_variables([4], [3], tf.zeros_initializer(), name="w",
                                               dtype=tf.int32, trainable=False)
        assert [(v.name, v.shape.as_list()) for v in ints] == [
            ("w/part_0:0", [2]), ("w/part_1:0", [1]), ("w/part_2:0", [1])]
        assert all(v.dtype.base_dtype == tf.int32 for v in ints)
        assert not any(v in tf.trainable_variables() for v in ints)
        with tf.variable_scope("", reuse=True):
            again = tf.create_partitioned_variables([4], [3], tf.zeros_initializer(), name="w",
                                                    dtype=tf.int32)
        assert again[0] is ints[0]
        with pytest.raises(ValueError, match="must have the length"):
            tf.create_partitioned_variables([4], [2, 1], tf.zeros_initializer())
        with pytest.raises(ValueError, match="rank at least 1"):
            tf.create_partitioned_variables([], [], tf.zeros_initializer())
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = sess.run(parts)
    np.testing.assert_array_equal(values[0], np.ones((3, 2)))
    np.testing.assert_array_equal(values[1], np.ones((2, 2)))


# ---- extract_volume_patches ---------------------------------------------------------------------

def test_extract_volume_patches_values_and_errors():
    volume = np.arange(2 * 3 * 4 * 5 * 2, dtype=np.float32).reshape(2, 3, 4, 5, 2)
    with tf.Graph().as_default():
        x = tf.constant(volume)
        valid = tf.extract_volume_patches(x, [1, 2, 2, 3, 1], [1, 1, 2, 2, 1], "VALID")
        same = tf.extract_volume_patches(x, [1, 2, 3, 2, 1], [1, 2, 1, 3, 1], "SAME")
        assert valid.op.type == "ExtractVolumePatches"
        assert valid.shape.as_list() == [2, 2, 2, 2, 24]
        assert same.shape.as_list() == [2, 2, 4, 2, 24]
        with pytest.raises(ValueError, match="ksizes"):
            tf.extract_volume_patches(x, [1, 2, 2, 1], [1, 1, 1, 1, 1], "VALID")
        with pytest.raises(ValueError, match="padding"):
            tf.extract_volume_patches(x, [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], "FULL")
        with pytest.raises(ValueError, match="rank 5"):
            tf.extract_volume_patches(tf.zeros([2, 3, 4, 5]), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1],
                                      "VALID")
        with tf.Session() as sess:
            got_valid, got_same = sess.run([valid, same])
    # The patch at output (b, p, r, c) is volume[b, p:p+2, 2r:2r+2, 2c:2c+3, :] flattened.
    for b, p, r, c in [(0, 0, 0, 0), (1, 1, 1, 1), (0, 1, 0, 1)]:
        patch = volume[b, p:p + 2, 2 * r:2 * r + 2, 2 * c:2 * c + 3, :]
        np.testing.assert_array_equal(got_valid[b, p, r, c], patch.ravel())
    # SAME: planes pad (0, 1), rows pad (1, 1), cols pad (0, 1); output (0, 1, 0, 1) starts at
    # plane 2, row -1, col 3.
    padded = np.pad(volume, [(0, 0), (0, 1), (1, 1), (0, 1), (0, 0)])
    np.testing.assert_array_equal(got_same[0, 1, 0, 1], padded[0, 2:4, 0:3, 3:5, :].ravel())
