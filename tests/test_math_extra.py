"""Values of tf.math's functions against numbers computed with TensorFlow 2.21
(``tf.compat.v1.math``), on both executors: the special functions at their poles and
infinities, banker's rounding, truncating division, the x*log(y) family at x == 0, and the
composites (log_sigmoid, logical_xor, scalar_mul, polyval, ...)."""

import math

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import executor as executor_lib

EDGES = [0.0, -1.0, -2.5, 1e-3, 0.5, 1.0, 7.3, 30.0, -0.0, np.inf, -np.inf, np.nan]
INF, NAN = np.inf, np.nan


@pytest.fixture(params=["reference", "cython"])
def run(request):
    """Runs fetches in a fresh graph's session on one executor."""
    previous = executor_lib.set_default_executor(request.param)

    def run_fetches(build):
        with tf.Graph().as_default():
            fetches = build()
            with tf.Session() as session:
                return session.run(fetches)

    yield run_fetches
    executor_lib.set_default_executor(previous)


# (function, float64 values at EDGES as TF computes them).
SPECIAL_VALUES = [
    (tf.math.digamma, [NAN, NAN, 1.1031566406452433, -1000.5755719318104, -1.9635100260214227,
                       -0.5772156649015323, 1.917820335637986, 3.384438132685525, NAN, INF,
                       NAN, NAN]),
    (tf.math.lgamma, [INF, INF, -0.05624371649767407, 6.907178885383853, 0.5723649429247001,
                      0.0, 7.147892523022249, 71.25703896716801, INF, INF, INF, NAN]),
    # TF's float64 erf gives NaN at +-inf (its float32 erf gives +-1): +-1 is erf's limit.
    (tf.math.erf, [0.0, -0.8427007929497148, -0.999593047982555, 0.0011283787909692363,
                   0.5204998778130466, 0.8427007929497148, 1.0, 1.0, -0.0, 1.0, -1.0, NAN]),
    (tf.math.erfc, [1.0, 1.8427007929497148, 1.999593047982555, 0.9988716212090307,
                    0.47950012218695337, 0.15729920705028522, 5.502573750691924e-25, 0.0, 1.0,
                    0.0, 2.0, NAN]),
    (tf.math.expm1, [0.0, -0.6321205588285577, -0.9179150013761012, 0.0010005001667083417,
                     0.6487212707001282, 1.7182818284590455, 1479.299927584545,
                     10686474581523.463, -0.0, INF, -1.0, NAN]),
]


@pytest.mark.parametrize("function, expected", SPECIAL_VALUES,
                         ids=[f.__name__ for f, _ in SPECIAL_VALUES])
@pytest.mark.parametrize("dtype", [tf.float64, tf.float32, tf.float16])
def test_special_functions_match_tf(run, function, expected, dtype):
    got = run(lambda: function(tf.constant(EDGES, dtype=dtype)))
    assert got.dtype == dtype.as_numpy_dtype
    # float16 cannot hold 1e-3's neighbourhood or expm1(30): compare where it is finite.
    with np.errstate(over="ignore"):
        expected = np.array(expected, dtype=np.float64).astype(dtype.as_numpy_dtype)
    tolerance = {tf.float64: 1e-13, tf.float32: 1e-6, tf.float16: 2e-3}[dtype]
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance, equal_nan=True)


def test_inverse_error_functions_match_tf(run):
    x = [0.0, -0.0, 0.3, -0.5, 0.7, 0.999, 1.0, -1.0, 1.5, NAN]
    p = [0.0, 1e-300, 1e-10, 0.025, 0.3, 0.5, 0.7, 0.975, 1 - 1e-12, 1.0, -0.1, NAN]
    erfinv, ndtri, erfcinv, tiny = run(lambda: [
        tf.math.erfinv(tf.constant(x, tf.float64)), tf.math.ndtri(tf.constant(p, tf.float64)),
        tf.math.erfcinv(tf.constant([0.0, 0.5, 1.0, 1.5, 2.0, 2.5], tf.float64)),
        tf.math.erfinv(tf.constant([1e-10, 1 - 1e-15], tf.float64))])
    np.testing.assert_allclose(erfinv, [0.0, 0.0, 0.27246271472675443, -0.4769362762044699,
                                        0.7328690779592171, 2.3267537655135464, INF, -INF, NAN,
                                        NAN], rtol=1e-13, equal_nan=True)
    np.testing.assert_allclose(ndtri, [-INF, -37.0470962993612, -6.361340902404056,
                                       -1.9599639845400545, -0.5244005127080409, 0.0,
                                       0.5244005127080407, 1.959963984540054, 7.0344869100478356,
                                       INF, NAN, NAN], rtol=1e-13, equal_nan=True)
    assert math.copysign(1.0, ndtri[5]) == 1.0  # 0, not -0, at p = 1/2
    np.testing.assert_allclose(erfcinv, [INF, 0.4769362762044699, 0.0, -0.4769362762044699,
                                         -INF, NAN], rtol=1e-13, equal_nan=True)
    # Here TF's own float64 erfinv is off (8.8622699877e-11 and 5.6861284413): these are the
    # exact inverses, checked through erf and erfc.
    assert math.isclose(tiny[0], math.sqrt(math.pi) / 2 * 1e-10, rel_tol=1e-15)
    assert math.isclose(math.erfc(tiny[1]), 1 - (1 - 1e-15), rel_tol=1e-14)


def test_incomplete_gamma_and_beta_match_tf(run):
    a = [0.5, 1.0, 2.0, 10.0, 0.0, -1.0, 1.0, 1.0, 1.0, INF, 100.0, 3.0]
    x = [0.3, 1.0, 5.0, 9.0, 1.0, 1.0, 0.0, -1.0, INF, 1.0, 90.0, NAN]
    beta_a = [0.5, 1.0, 2.0, 10.0, 0.0, -1.0, 1.0, 2.0, 2.0, 50.0, 1e-3, 3.0]
    beta_b = [0.5, 3.0, 2.0, 5.0, 1.0, 1.0, 1.0, 3.0, 3.0, 80.0, 1e-3, 2.0]
    beta_x = [0.3, 0.5, 0.9, 0.7, 0.5, 0.5, 0.0, 1.0, 1.5, 0.4, 0.3, NAN]
    lower, upper, lower32, beta = run(lambda: [
        tf.math.igamma(tf.constant(a, tf.float64), tf.constant(x, tf.float64)),
        tf.math.igammac(tf.constant(a, tf.float64), tf.constant(x, tf.float64)),
        tf.igamma(tf.constant(a), tf.constant(x)),
        tf.betainc(tf.constant(beta_a, tf.float64), tf.constant(beta_b, tf.float64),
                   tf.constant(beta_x, tf.float64))])
    expected_lower = [0.5614219739190001, 0.6321205588285578, 0.9595723180054873,
                      0.4125917556680593, NAN, NAN, 0.0, NAN, 1.0, 0.0, 0.15822098918642064,
                      NAN]
    np.testing.assert_allclose(lower, expected_lower, rtol=1e-13, equal_nan=True)
    np.testing.assert_allclose(upper, [0.43857802608099994, 0.36787944117144233,
                                       0.04042768199451279, 0.5874082443319407, NAN, NAN, 1.0,
                                       NAN, 0.0, 1.0, 0.8417790108135794, NAN],
                               rtol=1e-13, equal_nan=True)
    np.testing.assert_allclose(lower32, expected_lower, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(beta, [0.36901011956554536, 0.875, 0.972, 0.5842011862193505,
                                      NAN, NAN, 0.0, 1.0, NAN, 0.6450659221505437,
                                      0.49957696213967645, NAN], rtol=1e-13, equal_nan=True)


def test_igamma_has_no_gradient_in_a():
    # TF differentiates in a too (op IgammaGradA), which is not implemented: None, documented.
    with tf.Graph().as_default():
        a, x = tf.constant(2.0, tf.float64), tf.constant(1.0, tf.float64)
        grad_a, grad_x = tf.gradients(tf.math.igamma(a, x), [a, x])
        assert grad_a is None and grad_x is not None


def test_betainc_refuses_shapes_tf_refuses():
    with tf.Graph().as_default(), pytest.raises(ValueError, match="inconsistent"):
        tf.math.betainc(tf.ones([2]), tf.ones([3]), tf.ones([2]))


BESSEL_X = [0.0, 1e-3, 0.5, -2.0, 10.0, 29.9, 30.1, -50.0, 700.0, 720.0, INF, -INF, NAN]
BESSEL_VALUES = [
    (tf.math.bessel_i0, [1.0, 1.0000002500000156, 1.0634833707413238, 2.279585302336067,
                         2815.7166284662544, 708478330489.0145, 862432920031.7792,
                         2.9325537838493355e+20, 1.5295933476718735e+302, INF, NAN, NAN, NAN]),
    (tf.math.special.bessel_i0e, [1.0, 0.9990007495835154, 0.6450352704491502,
                                  0.308508322553671, 0.1278333371634286, 0.07326921904600191,
                                  0.07302329413106094, 0.056561626647454184,
                                  0.015081295651531355, 0.014870284185509173, 0.0, 0.0, NAN]),
    (tf.math.bessel_i1, [0.0, 0.0005000000625000026, 0.2578943053908962, -1.5906368546373295,
                         2670.988303701255, 696528308361.0928, 847983630191.5413,
                         -2.9030785901035566e+20, 1.5285003902339004e+302, INF, NAN, NAN, NAN]),
    (tf.math.bessel_i1e, [0.0, 0.0004995003123542213, 0.15642080318487162, -0.2152692892489377,
                          0.12126268138445552, 0.0720333749118688, 0.07179985435101433,
                          -0.0559931238928954, 0.015070519444716844, 0.01485995400865815, 0.0,
                          -0.0, NAN]),
]


@pytest.mark.parametrize("function, expected", BESSEL_VALUES,
                         ids=[f.__name__ for f, _ in BESSEL_VALUES])
def test_bessel_functions_match_tf(run, function, expected):
    got = run(lambda: function(tf.constant(BESSEL_X, tf.float64)))
    np.testing.assert_allclose(got, expected, rtol=1e-13, equal_nan=True)


def test_bessel_i0_agrees_with_numpy(run):
    x = np.linspace(-60, 60, 241)
    np.testing.assert_allclose(run(lambda: tf.math.bessel_i0(tf.constant(x))), np.i0(x),
                               rtol=1e-13)


def test_zeta_and_polygamma_match_tf(run):
    zeta, polygamma = run(lambda: [
        tf.math.zeta(tf.constant([2.0, 3.0, 1.0, 0.5, 2.0, 2.0]),
                     tf.constant([1.0, 2.0, 1.0, 1.0, -1.5, 0.0])),
        tf.math.polygamma(tf.constant([0.0, 1.0, 2.0, 1.5, -1.0, 1.0]),
                          tf.constant([2.0, 2.0, 2.0, 2.0, 2.0, -1.5]))])
    np.testing.assert_allclose(zeta, [1.644934, 0.20205691, INF, NAN, 9.379247, INF],
                               rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(polygamma, [0.4227842, 0.6449341, -0.40411383, NAN, NAN,
                                           9.379247], rtol=1e-6, equal_nan=True)
    assert math.isclose(float(zeta[0]), math.pi ** 2 / 6, rel_tol=1e-6)


def test_trigonometry_and_classification(run):
    acosh, atanh, atan2, is_nan, is_finite, is_inf = run(lambda: [
        tf.acosh(tf.constant([0.5, 1.0, 2.0])), tf.atanh(tf.constant([1.0, -1.0, 2.0, 0.5])),
        tf.atan2(tf.constant([0.0, 0.0, -0.0, 1.0]), tf.constant([0.0, -1.0, -1.0, 0.0])),
        tf.is_nan(tf.constant([NAN, 1.0, INF])), tf.is_finite(tf.constant([NAN, 1.0, INF])),
        tf.is_inf(tf.constant([NAN, -INF, INF]))])
    np.testing.assert_allclose(acosh, [NAN, 0.0, 1.316958], rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(atanh, [INF, -INF, NAN, 0.54930615], rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(atan2, [0.0, 3.1415927, -3.1415927, 1.5707964], rtol=1e-6)
    assert is_nan.tolist() == [True, False, False]
    assert is_finite.tolist() == [False, True, False]
    assert is_inf.tolist() == [False, True, True]


def test_rounding_is_bankers_as_in_tf(run):
    halves = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999997]
    rounded, rinted, half, ints, floors, ceils = run(lambda: [
        tf.round(tf.constant(halves)), tf.rint(tf.constant(halves)),
        tf.round(tf.constant([2.5, -2.5], tf.float16)), tf.round(tf.constant([3, -3])),
        tf.floor(tf.constant([-1.5, 1.5])), tf.ceil(tf.constant([-1.5, 1.5]))])
    assert rounded.tolist() == [-2.0, -2.0, -0.0, 0.0, 2.0, 2.0, 4.0, 0.0]
    assert rinted.tolist() == rounded.tolist()
    assert half.tolist() == [2.0, -2.0] and half.dtype == np.float16
    assert ints.tolist() == [3, -3] and ints.dtype == np.int32
    assert floors.tolist() == [-2.0, 1.0] and ceils.tolist() == [-1.0, 2.0]


def test_truncating_division(run):
    int_div, int_mod, float_mod, float_div, wrapped, unsigned, floor_div = run(lambda: [
        tf.truncatediv(tf.constant([7, -7]), tf.constant([2, 2])),
        tf.truncatemod(tf.constant([7, -7]), tf.constant([2, 2])),
        tf.truncatemod(tf.constant([7.5, -7.5]), tf.constant([2.0, 2.0])),
        tf.truncatediv(tf.constant([7.5, -7.5]), tf.constant([2.0, -2.0])),
        tf.truncatediv(tf.constant([-2 ** 31], tf.int32), tf.constant([-1])),
        tf.truncatediv(tf.constant([7, 249], tf.uint8), tf.constant([2, 2], tf.uint8)),
        tf.floor_div(7, -2)])
    assert int_div.tolist() == [3, -3] and int_mod.tolist() == [1, -1]
    assert float_mod.tolist() == [1.5, -1.5] and float_div.tolist() == [3.0, 3.0]
    assert wrapped.tolist() == [-2 ** 31]
    assert unsigned.tolist() == [3, 124]
    assert int(floor_div) == -4


@pytest.mark.parametrize("function", [tf.truncatediv, tf.truncatemod])
def test_integer_division_by_zero_is_an_error(run, function):
    with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
        run(lambda: function(tf.constant([1]), tf.constant([0])))


def test_truncatemod_refuses_int8_at_graph_time():
    with tf.Graph().as_default(), pytest.raises(TypeError, match="int8"):
        tf.truncatemod(tf.constant([1], tf.int8), tf.constant([2], tf.int8))


def test_x_log_y_family_is_zero_where_x_is(run):
    xlogy, xdivy, xlog1py, no_nan, nextafter = run(lambda: [
        tf.math.xlogy(tf.constant([0.0, 0.0, 2.0]), tf.constant([0.0, NAN, 3.0])),
        tf.math.xdivy(tf.constant([0.0, 0.0, 2.0]), tf.constant([0.0, NAN, 3.0])),
        tf.math.xlog1py(tf.constant([0.0, 0.0, 2.0]), tf.constant([-1.0, NAN, 3.0])),
        tf.math.multiply_no_nan(tf.constant([INF, NAN, 2.0]), tf.constant([0.0, 0.0, 3.0])),
        tf.math.nextafter(tf.constant([1.0, 0.0]), tf.constant([2.0, -1.0]))])
    np.testing.assert_allclose(xlogy, [0.0, 0.0, 2.1972246], rtol=1e-6)
    np.testing.assert_allclose(xdivy, [0.0, 0.0, 0.6666667], rtol=1e-6)
    np.testing.assert_allclose(xlog1py, [0.0, 0.0, 2.7725887], rtol=1e-6)
    assert no_nan.tolist() == [0.0, 0.0, 6.0]
    assert nextafter.tolist() == [np.float32(1.0000001), np.float32(-1.4012985e-45)]


def test_xlogy_gradient_in_x_is_zero_where_x_is(run):
    def build():
        x = tf.constant([0.0, 2.0], tf.float64)
        y = tf.constant([3.0, 3.0], tf.float64)
        return tf.gradients(tf.math.xlogy(x, y), [x, y])

    grad_x, grad_y = run(build)
    np.testing.assert_allclose(grad_x, [0.0, math.log(3.0)])
    np.testing.assert_allclose(grad_y, [0.0, 2.0 / 3.0])


def test_composites_match_tf(run):
    log_sigmoid, xor, scaled, poly, reciprocal = run(lambda: [
        tf.math.log_sigmoid(tf.constant([-100.0, 0.0, 100.0])),
        tf.math.logical_xor(tf.constant([True, False, True]), tf.constant([True, True, False])),
        tf.scalar_mul(2.0, tf.constant([1.0, 2.0])),
        tf.math.polyval([1.0, 2.0, 3.0], tf.constant(2.0)),
        tf.math.reciprocal_no_nan(tf.constant([0.0, 2.0]))])
    np.testing.assert_allclose(log_sigmoid, [-100.0, -0.6931472, -0.0], rtol=1e-6, atol=1e-30)
    assert xor.tolist() == [False, True, True]
    assert scaled.tolist() == [2.0, 4.0]
    assert float(poly) == 11.0
    assert reciprocal.tolist() == [0.0, 0.5]


def test_scalar_mul_refuses_a_non_scalar():
    with tf.Graph().as_default(), pytest.raises(ValueError, match="Only scalar multiply"):
        tf.scalar_mul(tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0]))


def test_float_only_functions_refuse_integers():
    with tf.Graph().as_default():
        for function in (tf.acos, tf.tan, tf.math.erf, tf.math.lgamma, tf.is_nan):
            with pytest.raises(TypeError, match="int32"):
                function(tf.constant([1, 2]))


def test_math_namespace_reexports_the_existing_ops():
    assert tf.math.add is tf.add and tf.math.reduce_sum is tf.reduce_sum
    assert tf.math.softmax is tf.nn.softmax and tf.math.top_k is tf.nn.top_k
    assert tf.math.divide_no_nan is tf.div_no_nan
    assert tf.math.confusion_matrix is tf.confusion_matrix
    assert tf.math.special.bessel_i1e is tf.math.bessel_i1e


# ---- segments, scans, counts and composite reductions --------------------------------------

ROWS = [[1.0, 2.0], [3.0, -5.0], [4.0, 4.0]]


def test_sorted_segment_reductions_match_tf(run):
    maximum, mean_int, mean, product, minimum = run(lambda: [
        tf.math.segment_max(tf.constant([1.0, 5.0, 3.0, 4.0]), tf.constant([0, 0, 2, 2])),
        tf.math.segment_mean(tf.constant([-7, 2, 3]), tf.constant([0, 0, 1])),
        tf.math.segment_mean(tf.constant([[1.0, 2.0], [3.0, 5.0], [4.0, 4.0]]), [0, 0, 2]),
        tf.math.segment_prod(tf.constant([[1.0, 2.0], [3.0, 5.0], [4.0, 4.0]]), [1, 1, 3]),
        tf.math.segment_min(tf.constant(ROWS), [1, 1, 3])])
    assert maximum.tolist() == [5.0, 0.0, 4.0]
    assert mean_int.tolist() == [-2, 3]  # truncated towards zero
    assert mean.tolist() == [[2.0, 3.5], [0.0, 0.0], [4.0, 4.0]]
    assert product.tolist() == [[1.0, 1.0], [3.0, 10.0], [1.0, 1.0], [4.0, 4.0]]
    assert minimum.tolist() == [[0.0, 0.0], [1.0, -5.0], [0.0, 0.0], [4.0, 4.0]]


def test_unsorted_segment_reductions_match_tf(run):
    lowest = float(np.finfo(np.float32).min)
    maximum, minimum, product, mean, sqrt_n, half_min = run(lambda: [
        tf.math.unsorted_segment_max(tf.constant(ROWS), tf.constant([2, -1, 2]), 3),
        tf.math.unsorted_segment_min(tf.constant([[1, 2], [3, -5], [4, 4]], tf.int8),
                                     tf.constant([2, -1, 0]), 3),
        tf.math.unsorted_segment_prod(tf.constant([[1, 2], [3, -5], [4, 4]]),
                                      tf.constant([2, 2, 0]), 3),
        tf.math.unsorted_segment_mean(tf.constant([1.0, 5.0, 3.0, 4.0]),
                                      tf.constant([0, 3, 0, -1]), 4),
        tf.math.unsorted_segment_sqrt_n(tf.constant([[1.0, 2.0], [3.0, 5.0], [4.0, 4.0]]),
                                        tf.constant([0, 0, 2]), 4),
        tf.math.unsorted_segment_min(tf.constant([1.0, 2.0], tf.float16), tf.constant([0, 0]),
                                     2)])
    assert maximum.tolist() == [[lowest] * 2, [lowest] * 2, [4.0, 4.0]]
    assert minimum.tolist() == [[4, 4], [127, 127], [1, 2]]
    assert product.tolist() == [[4, 4], [1, 1], [3, -10]]
    assert mean.tolist() == [2.0, 0.0, 0.0, 5.0]
    np.testing.assert_allclose(sqrt_n, [[2.828427, 4.9497476], [0, 0], [4, 4], [0, 0]],
                               rtol=1e-6)
    assert half_min.tolist() == [1.0, 65504.0]


def test_unsorted_segment_id_beyond_num_segments_is_an_error(run):
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"segment_ids\[1\] = 5 is out"):
        run(lambda: tf.math.unsorted_segment_max(tf.constant([1.0, 2.0]), tf.constant([0, 5]),
                                                 2))


@pytest.mark.parametrize("ids, message", [([1, 0], "not increasing"), ([0, -1], "out of range")])
def test_sorted_segment_ids_are_checked(run, ids, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        run(lambda: tf.math.segment_max(tf.constant([1.0, 2.0]), tf.constant(ids)))


def test_cumprod_matches_tf(run):
    reverse, exclusive, both = run(lambda: [
        tf.math.cumprod(tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), axis=1, reverse=True),
        tf.cumprod(tf.constant([[1, 2, 3], [4, 5, 6]]), axis=0, exclusive=True),
        tf.math.cumprod(tf.constant([1.0, 2.0, 3.0, 4.0]), exclusive=True, reverse=True)])
    assert reverse.tolist() == [[6.0, 6.0, 3.0], [120.0, 30.0, 6.0]]
    assert exclusive.tolist() == [[1, 1, 1], [1, 2, 3]]
    assert both.tolist() == [24.0, 12.0, 4.0, 1.0]


def test_cumulative_logsumexp_matches_tf(run):
    def build():
        x = tf.constant([1.0, 2.0, 3.0])
        return [tf.math.cumulative_logsumexp(x, exclusive=True),
                tf.math.cumulative_logsumexp(tf.constant([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]]),
                                             axis=1, reverse=True, exclusive=True),
                tf.math.cumulative_logsumexp(tf.constant([1e30, 1e30, -INF])),
                tf.gradients(tf.math.cumulative_logsumexp(x), x)[0]]

    exclusive, reverse, huge, gradient = run(build)
    np.testing.assert_allclose(exclusive, [-INF, 1.0, 2.3132617], rtol=1e-6)
    np.testing.assert_allclose(reverse, [[3.0067153, 3.0, -INF], [0.3132617, -1.0, -INF]],
                               rtol=1e-6)
    np.testing.assert_allclose(huge, [1e30, 1e30, 1e30], rtol=1e-6)
    np.testing.assert_allclose(gradient, [1.358972, 0.97578686, 0.6652408], rtol=1e-6)


def test_cumprod_gradient_is_tfs_at_a_zero(run):
    # TF divides by x with div_no_nan, so a zero's own gradient is 0 (not the true 10).
    def build():
        x = tf.constant([1.0, 0.0, 3.0, 2.0])
        return tf.gradients(tf.math.cumprod(x), x)[0]

    assert run(build).tolist() == [1.0, 0.0, 0.0, 0.0]


def test_bincount_matches_tf(run):
    counts, clipped, weighted, empty, flattened, longer, weights_int = run(lambda: [
        tf.math.bincount(tf.constant([1, 1, 3, 5])),
        tf.math.bincount(tf.constant([1, 1, 3]), minlength=6, maxlength=2),
        tf.math.bincount(tf.constant([1, 1, 3]), weights=tf.constant([0.5, 1.0, 2.0])),
        tf.math.bincount(tf.constant([], tf.int32)),
        tf.bincount(tf.constant([[1, 1], [3, 0]]), dtype=tf.int64),
        tf.math.bincount(tf.constant([1, 1, 3]), minlength=5),
        tf.math.bincount(tf.constant([1, 1, 3]), weights=tf.constant([1, 2, 3]))])
    assert counts.tolist() == [0, 2, 0, 1, 0, 1] and counts.dtype == np.int32
    assert clipped.tolist() == [0, 2]
    assert weighted.tolist() == [0.0, 1.5, 0.0, 2.0] and weighted.dtype == np.float32
    assert empty.tolist() == []
    assert flattened.tolist() == [1, 2, 0, 1] and flattened.dtype == np.int64
    assert longer.tolist() == [0, 2, 0, 1, 0]
    assert weights_int.tolist() == [0, 3, 0, 3]


def test_bincount_of_a_negative_value_is_an_error(run):
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
        run(lambda: tf.math.bincount(tf.constant([-1, 1, 3])))


def test_composite_reductions_match_tf(run):
    nonzero_all, nonzero_axis, strings_free, fraction, std, variance, norm, norm_int, lbeta = (
        run(lambda: [
            tf.count_nonzero(tf.constant([[1, 0], [3, 0]])),
            tf.math.count_nonzero(tf.constant([[1.0, 0.0], [3.0, 0.0]]), axis=1,
                                  dtype=tf.int32),
            tf.math.count_nonzero(input=tf.constant([[1.0, 0, 2], [0, 0, 3]]), axis=0,
                                  keepdims=True),
            tf.math.zero_fraction(tf.constant([0, 1, 0, 3])),
            tf.math.reduce_std(tf.constant([[1.0, 2.0], [3.0, 5.0]]), axis=1),
            tf.math.reduce_variance(tf.constant([[1.0, 2.0], [3.0, 5.0]])),
            tf.math.reduce_euclidean_norm(tf.constant([[3.0, 4.0], [5.0, 12.0]]), 1),
            tf.math.reduce_euclidean_norm(tf.constant([1, 1])),
            tf.math.lbeta(tf.constant([[1.0, 2.0], [0.5, 0.5]]))]))
    assert int(nonzero_all) == 2 and nonzero_all.dtype == np.int64
    assert nonzero_axis.tolist() == [1, 1] and nonzero_axis.dtype == np.int32
    assert strings_free.tolist() == [[1, 0, 2]]
    assert float(fraction) == 0.5 and fraction.dtype == np.float32
    assert std.tolist() == [0.5, 1.0]
    assert float(variance) == 2.1875
    assert norm.tolist() == [5.0, 13.0]
    assert int(norm_int) == 1  # sqrt(2), truncated as TF's integer EuclideanNorm gives
    np.testing.assert_allclose(lbeta, [-0.6931472, 1.1447299], rtol=1e-6)


def test_reduce_variance_refuses_integers():
    with tf.Graph().as_default(), pytest.raises(TypeError, match="real or complex"):
        tf.math.reduce_variance(tf.constant([1, 2]))


def test_accumulate_n_adds_and_checks(run):
    total = run(lambda: tf.accumulate_n([tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0])]))
    assert total.tolist() == [2.0, 4.0]
    with tf.Graph().as_default(), pytest.raises(ValueError, match="shape"):
        tf.math.accumulate_n([tf.constant([1.0, 2.0])], shape=[3])


@pytest.mark.parametrize("name, low, high", [
    ("Erf", -6, 6), ("Erfc", -6, 30), ("Digamma", -20, 200), ("Erfinv", -1, 1),
    ("Ndtri", 0, 1), ("Lgamma", -20, 200), ("BesselI0", -60, 60), ("BesselI0e", -60, 60),
    ("BesselI1", -60, 60), ("BesselI1e", -60, 60)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_compiled_special_functions_equal_the_python_spec(name, low, high, dtype):
    from sessionlib.runtime import kernel_table

    kernel = kernel_table.lookup(name)
    x = np.random.default_rng(3).uniform(low, high, 3000).astype(dtype)
    x.setflags(write=False)
    if name == "Lgamma" and dtype == np.float64:
        # CPython's math.lgamma is its own, not libm's: they differ in the last bits.
        np.testing.assert_allclose(kernel.fast(x), kernel.reference(x), rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(kernel.fast(x), kernel.reference(x))


@pytest.mark.parametrize("name", ["Zeta", "Polygamma"])
def test_compiled_zeta_and_polygamma_equal_the_python_spec(name):
    from sessionlib.runtime import kernel_table

    kernel = kernel_table.lookup(name)
    rng = np.random.default_rng(4)
    order = rng.integers(0, 200, 3000).astype(np.float64) + (1.0 if name == "Zeta" else 0.0)
    x = rng.uniform(-5, 10, 3000)
    np.testing.assert_array_equal(kernel.fast(order, x), kernel.reference(order, x))


def test_approx_top_k_is_exact_as_on_tfs_cpu(run):
    x = [[3.0, 1.0, 4.0, 1.0, 5.0], [9.0, 2.0, 6.0, 5.0, 3.0]]
    (max_values, max_indices), (min_values, min_indices), (column, rows), (small, where) = run(
        lambda: [tf.math.approx_max_k(tf.constant(x), 2), tf.math.approx_min_k(tf.constant(x), 2),
                 tf.math.approx_max_k(tf.constant(x), 1, reduction_dimension=0),
                 tf.math.approx_min_k(tf.constant([[3, 0, 255, 1]], tf.uint8), 3)])
    assert max_values.tolist() == [[5.0, 4.0], [9.0, 6.0]]
    assert max_indices.tolist() == [[4, 2], [0, 2]] and max_indices.dtype == np.int32
    assert min_values.tolist() == [[1.0, 1.0], [2.0, 3.0]]
    assert min_indices.tolist() == [[1, 3], [1, 4]]
    assert column.tolist() == [[9.0, 2.0, 6.0, 5.0, 5.0]] and rows.tolist() == [[1, 1, 1, 1, 0]]
    assert small.tolist() == [[0, 1, 3]] and where.tolist() == [[1, 3, 0]]
