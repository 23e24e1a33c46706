"""TF 1 names that fell between the namespaces: Equal/NotEqual on strings, tf.nn compositions
(pooling and transposed-convolution spellings, moments helpers, losses), the sparse embedding
lookups, tf.image metrics / color spaces / resize_image_with_pad / is_jpeg, and aliases.

Values are compared with TensorFlow 2.21's on the same graphs (``tests/_glue_gap_graphs.py``).
"""

import numpy as np
import pytest

from _glue_gap_graphs import BUILDERS, DATA, run_family


@pytest.fixture(scope="module")
def expected():
    with np.load(DATA, allow_pickle=False) as data:
        return dict(data)


@pytest.mark.parametrize("family", sorted(BUILDERS))
def test_values_match_tensorflow(family, expected):
    import sessionlib as tf

    got = run_family(tf, family)
    want = {key[len(family) + 1:]: value for key, value in expected.items()
            if key.startswith(family + ":")}
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        assert got[key].dtype == value.dtype, key
        assert got[key].shape == value.shape, key
        np.testing.assert_allclose(got[key], value, rtol=2e-5, atol=2e-5, err_msg=key)


# ---- Equal / NotEqual on strings, under both executors ---------------------------------------

@pytest.fixture(params=["reference", "cython"])
def executor(request):
    from sessionlib.runtime import executor as executor_lib

    previous = executor_lib.set_default_executor(request.param)
    yield request.param
    executor_lib.set_default_executor(previous)


def test_string_equal_and_not_equal(executor):
    import sessionlib as tf

    with tf.Graph().as_default():
        strings = tf.placeholder(tf.string, [None])
        table = tf.constant([[b"x", b""], [b"ab", b"x"]])
        fetches = [tf.equal(strings, b"x"), tf.not_equal(strings, ""),
                   tf.equal(table, tf.constant([b"ab", b"x"])),
                   tf.not_equal(tf.constant(b"x"), table)]
        with tf.Session() as session:
            got = session.run(fetches, {strings: np.array([b"a", b"x", b""], dtype=object)})
    np.testing.assert_array_equal(got[0], [False, True, False])
    np.testing.assert_array_equal(got[1], [True, True, False])
    np.testing.assert_array_equal(got[2], [[False, False], [True, True]])
    np.testing.assert_array_equal(got[3], [[False, True], [True, False]])
    assert all(value.dtype == np.bool_ for value in got)


def test_string_equal_errors(executor):
    import sessionlib as tf

    with tf.Graph().as_default():
        with pytest.raises(TypeError):
            tf.equal(tf.constant([b"a"]), tf.constant([1]))
        left, right = tf.placeholder(tf.string), tf.placeholder(tf.string)
        compare = tf.equal(left, right)
        with tf.Session() as session:
            with pytest.raises(tf.errors.InvalidArgumentError):
                session.run(compare, {left: np.array([b"a", b"b"], dtype=object),
                                      right: np.array([b"a", b"b", b"c"], dtype=object)})


def test_sparse_from_dense_on_strings(executor):
    import sessionlib as tf

    with tf.Graph().as_default():
        sparse = tf.sparse.from_dense(tf.constant([[b"a", b""], [b"", b"bc"]]))
        with tf.Session() as session:
            value = session.run(sparse)
    np.testing.assert_array_equal(value.indices, [[0, 0], [1, 1]])
    assert list(value.values) == [b"a", b"bc"]
    np.testing.assert_array_equal(value.dense_shape, [2, 2])


# ---- gradients -------------------------------------------------------------------------------

def test_embedding_lookup_sparse_gradient_is_indexed_slices_and_numeric():
    import sessionlib as tf
    from _gradient_check import GradCase, check_case

    indices = np.array([[0, 0], [0, 1], [1, 0], [3, 0], [3, 1]], np.int64)
    ids = np.array([1, 3, 1, 5, 0], np.int64)
    weights = np.array([2.0, 0.5, 1.0, 3.0, 1.5])
    with tf.Graph().as_default():
        params = tf.constant(np.ones((6, 3)))
        loss = tf.reduce_sum(tf.nn.embedding_lookup_sparse(
            params, tf.SparseTensor(indices, ids, [4, 2]), None))
        assert isinstance(tf.gradients(loss, params)[0], tf.IndexedSlices)

    def build(table, combiner, weighted, safe):
        sp_ids = tf.SparseTensor(indices, ids - (1 if safe else 0), [5, 2])
        sp_weights = tf.SparseTensor(indices, weights, [5, 2]) if weighted else None
        if safe:
            return tf.nn.safe_embedding_lookup_sparse(table, sp_ids, sp_weights,
                                                      combiner=combiner, max_norm=2.0)
        return tf.nn.embedding_lookup_sparse(table, sp_ids, sp_weights, combiner=combiner)

    table = np.random.default_rng(3).normal(size=(6, 3))
    for combiner in ("sum", "mean", "sqrtn"):
        for weighted in (False, True):
            for safe in (False, True):
                check_case(GradCase(
                    "GatherV2", lambda t, c=combiner, w=weighted, s=safe: build(t, c, w, s),
                    [table], id=f"{combiner}-{weighted}-{safe}"))


def test_image_metric_gradients():
    import sessionlib as tf
    from _gradient_check import GradCase, check_case

    rng = np.random.default_rng(4)
    image = rng.uniform(0.1, 0.9, (1, 6, 6, 2))
    other = rng.uniform(0.1, 0.9, (1, 6, 6, 2))
    # (psnr and ssim compute in float32, as TF's do, so they are out of a float64 check.)
    check_case(GradCase("Abs", tf.image.total_variation, [image]))
    check_case(GradCase("MatMul", tf.image.rgb_to_yiq, [image[..., :1].repeat(3, -1)]))
    check_case(GradCase("DepthwiseConv2dNative", tf.image.sobel_edges, [image]))


# ---- graph-time errors and aliases -----------------------------------------------------------

def test_errors_and_aliases():
    import sessionlib as tf

    with tf.Graph().as_default():
        ids = tf.SparseTensor([[0, 0]], tf.constant([1], tf.int64), [1, 1])
        with pytest.raises(ValueError, match="combiner"):
            tf.nn.embedding_lookup_sparse(tf.ones([3, 2]), ids, None, combiner="max")
        with pytest.raises(TypeError):
            tf.nn.embedding_lookup_sparse(tf.ones([3, 2]), tf.constant([1]), None)
        with pytest.raises(ValueError):
            tf.nn.avg_pool_v2(tf.ones([2, 2]), 1, 1, "SAME")
        with pytest.raises(ValueError):
            tf.image.total_variation(tf.ones([2, 2]))
        with pytest.raises(ValueError):
            tf.image.ssim(tf.ones([1, 5, 5, 1]), tf.ones([1, 5, 5, 1]), 1.0)
        with pytest.raises(ValueError):
            tf.nn.atrous_conv2d_transpose(tf.ones([1, 4, 4, 1]), tf.ones([3, 3, 1, 1]),
                                          [1, 4, 4, 1], 0, "SAME")
    assert tf.math.invert_permutation is tf.invert_permutation
    assert tf.io.serialize_sparse is tf.serialize_sparse
    assert tf.io.serialize_many_sparse is tf.serialize_many_sparse
    assert tf.io.deserialize_many_sparse is tf.deserialize_many_sparse
    assert tf.io.is_jpeg is tf.image.is_jpeg


def test_embedding_lookup_sparse_trains_variables_and_partitions():
    import sessionlib as tf

    with tf.Graph().as_default():
        partitioned = tf.get_variable("glue_gaps_partitioned", [10, 3],
                                      initializer=tf.ones_initializer(),
                                      partitioner=tf.fixed_size_partitioner(2))
        table = tf.Variable(np.arange(30, dtype=np.float32).reshape(10, 3))
        ids = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], tf.constant([1, 7, 3], tf.int64), [2, 2])
        summed = tf.nn.embedding_lookup_sparse(partitioned, ids, None, combiner="sum")
        safe = tf.nn.safe_embedding_lookup_sparse(partitioned, ids)
        mean = tf.nn.embedding_lookup_sparse(table, ids, None)
        step = tf.train.GradientDescentOptimizer(0.1).minimize(
            tf.reduce_sum(summed) + tf.reduce_sum(mean))
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            got = session.run([summed, safe, mean])
            session.run(step)
            trained = session.run(table)
    np.testing.assert_allclose(got[0], [[2, 2, 2], [1, 1, 1]])
    np.testing.assert_allclose(got[1], np.ones((2, 3)))
    np.testing.assert_allclose(got[2], [[12, 13, 14], [9, 10, 11]])
    # The mean's gradient is 1/2 for ids 1 and 7 of row 0 and 1 for id 3 of row 1.
    np.testing.assert_allclose(trained[[1, 3, 7]], [[2.95, 3.95, 4.95], [8.9, 9.9, 10.9],
                                                    [20.95, 21.95, 22.95]], rtol=1e-6)
    np.testing.assert_allclose(trained[0], [0, 1, 2])


def test_extract_glimpse_fills_outside_with_noise_in_the_channel_range():
    import sessionlib as tf

    image = np.arange(2 * 6 * 7 * 2, dtype=np.float32).reshape(2, 6, 7, 2)
    with tf.Graph().as_default():
        # Offsets not centered, normalized: the window's corner is (trunc(0.9 * 6 - 1.5),
        # trunc(0.1 * 7 - 2)) = (3, -1) for the first image, as TF.
        glimpse = tf.image.extract_glimpse(image, [3, 4], [[0.9, 0.1], [0.25, 0.75]],
                                           centered=False, normalized=True)
        with tf.Session() as session:
            got = session.run(glimpse)
    np.testing.assert_array_equal(got[0, :, 1:], image[0, 3:6, 0:3])
    np.testing.assert_array_equal(got[1], image[1, 0:3, 3:7])
    for channel in range(2):
        noise = got[0, :, 0, channel]
        assert np.all((noise >= image[0, ..., channel].min())
                      & (noise <= image[0, ..., channel].max()))
