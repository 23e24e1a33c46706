"""`variable_scope`, `get_variable` and `VariableScope`: names, reuse, inheritance, getters.

Every expected name and message below was checked against TF 2.21 (``tf.compat.v1`` with
``disable_v2_behavior``); where TF's reference variables word a message differently from its
resource variables (``float32_ref``), the resource wording is used, as sessionlib's variables
are resource variables.
"""

import numpy as np
import pytest

import sessionlib as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def _init_and_run(fetches):
    with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        return session.run(fetches)


# ---- names ---------------------------------------------------------------------------------

def test_names_follow_the_variable_scope_not_the_name_scope():
    with tf.variable_scope("foo") as scope:
        v = tf.get_variable("v", [2, 3])
        c = tf.constant(1.0)
        with tf.name_scope("bar"):
            w = tf.get_variable("w", [2])
            d = tf.constant(1.0)
    assert v.name == "foo/v:0"
    assert w.name == "foo/w:0"
    assert c.name == "foo/Const:0"
    assert d.name == "foo/bar/Const:0"
    assert scope.name == "foo"
    assert scope.original_name_scope == "foo/"
    assert v.shape.as_list() == [2, 3] and v.dtype == tf.float32


def test_initializer_ops_live_in_the_variable_initializer_scope():
    with tf.variable_scope("foo"):
        tf.get_variable("v", [2, 3])
    names = [op.name for op in tf.get_default_graph().get_operations()]
    # TF 2.21 builds the same default (Glorot uniform) initializer ops.
    assert names[:7] == ["foo/v/Initializer/random_uniform/shape",
                         "foo/v/Initializer/random_uniform/min",
                         "foo/v/Initializer/random_uniform/max",
                         "foo/v/Initializer/random_uniform/RandomUniform",
                         "foo/v/Initializer/random_uniform/sub",
                         "foo/v/Initializer/random_uniform/mul",
                         "foo/v/Initializer/random_uniform"]
    assert "foo/v" in names and "foo/v/Assign" in names


def test_name_scope_around_variable_scope():
    with tf.name_scope("ns"):
        with tf.variable_scope("vs") as scope:
            assert scope.original_name_scope == "ns/vs/"
            assert tf.get_variable("v", [1]).name == "vs/v:0"
            assert tf.constant(0).name == "ns/vs/Const:0"


def test_reopening_by_name_and_by_object():
    with tf.variable_scope("foo") as scope:
        pass
    # A scope object passed back in keeps its variable scope and original name scope, under
    # a new (uniquified) name scope, as TF does.
    with tf.variable_scope(scope) as again:
        assert tf.constant(1.0).name == "foo_1/Const:0"
        assert again.original_name_scope == "foo/"
        assert again.name == "foo"
        assert tf.get_variable("x", [1]).name == "foo/x:0"
    with tf.variable_scope(scope, auxiliary_name_scope=False):
        assert tf.constant(1.0).name == "Const:0"
    with tf.variable_scope("foo") as by_name:
        assert tf.constant(1.0).name == "foo_2/Const:0"
        assert by_name.original_name_scope == "foo_2/"
        assert by_name.name == "foo"


def test_default_name_is_uniquified():
    names = []
    for _ in range(3):
        with tf.variable_scope(None, default_name="d") as scope:
            names.append((scope.name, tf.constant(1.0).name))
    assert names == [("d", "d/Const:0"), ("d_1", "d_1/Const:0"), ("d_2", "d_2/Const:0")]
    with tf.variable_scope("outer"):
        with tf.variable_scope(None, default_name="d") as inner:
            assert inner.name == "outer/d"


def test_default_name_counts_restart_when_the_parent_reopens():
    # TF resets the counts of sub-scopes when their parent closes.
    seen = []
    for _ in range(2):
        with tf.variable_scope("p"):
            with tf.variable_scope(None, default_name="layer") as scope:
                seen.append(scope.name)
    assert seen == ["p/layer", "p/layer"]


def test_auxiliary_name_scope_false_keeps_the_current_name_scope():
    with tf.name_scope("outer"):
        with tf.variable_scope("vs", auxiliary_name_scope=False) as scope:
            assert tf.constant(0).name == "outer/Const:0"
            assert tf.get_variable("v", [1]).name == "vs/v:0"
            assert scope.original_name_scope == "outer/"


def test_root_scope():
    scope = tf.get_variable_scope()
    assert scope.name == "" and scope.original_name_scope == ""
    assert scope.reuse is False
    with tf.variable_scope(scope):
        assert tf.get_variable("top", [1]).name == "top:0"


# ---- reuse -----------------------------------------------------------------------------------

def test_existing_variable_without_reuse_is_an_error():
    with tf.variable_scope("foo"):
        tf.get_variable("v", [2, 3])
    with pytest.raises(ValueError) as info:
        tf.get_variable("foo/v", [2, 3])
    assert str(info.value) == ("Variable foo/v already exists, disallowed. Did you mean to set "
                               "reuse=True or reuse=tf.AUTO_REUSE in VarScope?")


def test_reuse_true():
    with tf.variable_scope("foo"):
        v = tf.get_variable("v", [2, 3])
    with tf.variable_scope("foo", reuse=True):
        assert tf.get_variable("v", [2, 3]) is v
        assert tf.get_variable("v") is v  # the shape may be left out when reusing
        with pytest.raises(ValueError) as info:
            tf.get_variable("zz", [1])
        assert str(info.value) == (
            "Variable foo/zz does not exist, or was not created with tf.get_variable(). Did "
            "you mean to set reuse=tf.AUTO_REUSE in VarScope?")
        with pytest.raises(ValueError) as info:
            tf.get_variable("v", [1])
        assert str(info.value) == ("Trying to share variable foo/v, but specified shape (1,) "
                                   "and found shape (2, 3).")
        with pytest.raises(ValueError) as info:
            tf.get_variable("v", [2, 3], dtype=tf.int32)
        assert str(info.value) == ("Trying to share variable foo/v, but specified dtype int32 "
                                   "and found dtype float32.")


def test_reuse_variables_and_inheritance():
    with tf.variable_scope("rr") as scope:
        v = tf.get_variable("v", [1])
        scope.reuse_variables()
        assert scope.reuse is True
        assert tf.get_variable("v", [1]) is v
        with tf.variable_scope("in") as inner:
            assert inner.reuse is True and inner.name == "rr/in"
        # reuse=False inside a reusing scope still inherits (TF: False means "inherit").
        with tf.variable_scope("in2", reuse=False) as inner:
            assert inner.reuse is True


def test_auto_reuse():
    with tf.variable_scope("ar", reuse=tf.AUTO_REUSE) as scope:
        first = tf.get_variable("x", [1])
        assert tf.get_variable("x", [1]) is first
        with tf.variable_scope("x", reuse=True) as inner:
            assert inner.reuse is True
        with tf.variable_scope("y") as inner:
            assert inner.reuse is tf.AUTO_REUSE
    assert scope.reuse is tf.AUTO_REUSE


def test_reuse_through_a_scope_object():
    with tf.variable_scope("enc") as scope:
        w = tf.get_variable("w", [2, 2])
    with tf.variable_scope(scope, reuse=True):
        assert tf.get_variable("w", [2, 2]) is w
    with tf.variable_scope(scope, reuse=tf.AUTO_REUSE):
        assert tf.get_variable("w", [2, 2]) is w
        assert tf.get_variable("b", [2]).name == "enc/b:0"


def test_shared_weights_compute_the_same_values():
    def layer(x):
        w = tf.get_variable("w", [3, 2], initializer=tf.constant_initializer(0.5))
        return tf.matmul(x, w)

    x = tf.constant(np.ones((1, 3), np.float32))
    with tf.variable_scope("shared"):
        first = layer(x)
    with tf.variable_scope("shared", reuse=True):
        second = layer(x)
    assert len(tf.trainable_variables()) == 1
    a, b = _init_and_run([first, second])
    np.testing.assert_allclose(a, [[1.5, 1.5]])
    np.testing.assert_allclose(b, a)


def test_argument_errors():
    with pytest.raises(ValueError, match="^reuse=True cannot be used without a name_or_scope$"):
        with tf.variable_scope(None, default_name="d", reuse=True):
            pass
    with pytest.raises(TypeError,
                       match="^If default_name is None then name_or_scope is required$"):
        tf.variable_scope(None)
    with pytest.raises(ValueError, match=r"^The reuse parameter must be True or False or "
                                         r"None\.$"):
        tf.variable_scope("a", reuse=1)
    with pytest.raises(TypeError, match="^VariableScope: name_or_scope must be a string or "
                                        "VariableScope.$"):
        with tf.variable_scope(3):
            pass
    # A failed enter leaves no scope open.
    assert tf.get_variable_scope().name == ""
    assert tf.constant(0).name == "Const:0"


def test_improper_nesting_is_detected():
    outer = tf.variable_scope("a")
    inner = tf.variable_scope("b")
    outer.__enter__()
    inner.__enter__()
    with pytest.raises(RuntimeError, match="^Improper nesting of variable_scope.$"):
        outer.__exit__(None, None, None)
    inner.__exit__(None, None, None)


# ---- get_variable's arguments -------------------------------------------------------------------

def test_default_initializers_by_dtype():
    ints = tf.get_variable("i", [3], dtype=tf.int32)
    flags = tf.get_variable("b", [2], dtype=tf.bool)
    text = tf.get_variable("s", [2], dtype=tf.string)
    floats = tf.get_variable("f", [40, 60])
    values = _init_and_run([ints, flags, text, floats])
    np.testing.assert_array_equal(values[0], [0, 0, 0])
    np.testing.assert_array_equal(values[1], [False, False])
    assert list(values[2]) == [b"", b""]
    limit = np.sqrt(6.0 / 100)  # Glorot uniform
    assert np.abs(values[3]).max() <= limit and np.abs(values[3]).max() > 0.9 * limit


def test_initializer_values_and_shapes():
    from_tensor = tf.get_variable("t", initializer=tf.constant([1.0, 2.0]))
    from_list = tf.get_variable("l", initializer=[[1, 2], [3, 4]])
    from_fn = tf.get_variable("fn", initializer=lambda: tf.constant([5.0, 6.0]))
    from_class = tf.get_variable("cls", [2], initializer=tf.ones_initializer)
    assert from_tensor.shape.as_list() == [2]
    assert from_list.dtype == tf.int32 and from_list.shape.as_list() == [2, 2]
    values = _init_and_run([from_tensor, from_list, from_fn, from_class])
    np.testing.assert_array_equal(values[0], [1.0, 2.0])
    np.testing.assert_array_equal(values[1], [[1, 2], [3, 4]])
    np.testing.assert_array_equal(values[2], [5.0, 6.0])
    np.testing.assert_array_equal(values[3], [1.0, 1.0])


def test_initializer_argument_errors():
    with pytest.raises(ValueError, match="^If initializer is a constant, do not specify "
                                         "shape.$"):
        tf.get_variable("q", [2], initializer=tf.constant([1, 2]))
    with pytest.raises(ValueError) as info:
        tf.get_variable("q", initializer=[1, 2], dtype=tf.float32)
    assert str(info.value) == ("Initializer type '<dtype: 'int32'>' and explicit dtype "
                               "'<dtype: 'float32'>' don't match.")
    with pytest.raises(ValueError) as info:
        tf.get_variable("nosh")
    assert str(info.value) == ("Variable nosh did not get an initializer, so its `shape` "
                               "argument must be specified.")
    with pytest.raises(ValueError, match="^The initializer passed is not valid"):
        tf.get_variable("partial", [None, 2])


def test_trainable_and_collections():
    trainable = tf.get_variable("a", [1])
    frozen = tf.get_variable("b", [1], trainable=False)
    local = tf.get_variable("loc", [1], collections=[tf.GraphKeys.LOCAL_VARIABLES])
    extra = tf.get_variable("e", [1], collections=[tf.GraphKeys.GLOBAL_VARIABLES, "mine"])
    local_helper = tf.get_local_variable("lv", [1])
    assert tf.trainable_variables() == [trainable, local, extra]
    assert tf.global_variables() == [trainable, frozen, extra]
    assert tf.local_variables() == [local, local_helper]
    assert tf.get_collection("mine") == [extra]
    assert local_helper.name == "lv:0" and not local_helper.trainable


def test_regularizer():
    with tf.variable_scope("s", regularizer=lambda x: tf.reduce_sum(x) * 0.5):
        v = tf.get_variable("v", [2], initializer=tf.constant_initializer(3.0))
        tf.get_variable("off", [1], regularizer=tf.no_regularizer)
    w = tf.get_variable("w", [3], initializer=tf.ones_initializer(),
                        regularizer=lambda x: tf.reduce_sum(x * 2.0))
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert [loss.name for loss in losses] == ["s/v/Regularizer/mul:0", "w/Regularizer/Sum:0"]
    assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES, "s") == losses[:1]
    assert v.name == "s/v:0" and w.name == "w:0"
    np.testing.assert_allclose(_init_and_run(losses), [3.0, 6.0])


def test_scope_defaults_are_inherited_and_overridden():
    with tf.variable_scope("ii", initializer=tf.constant_initializer(3.0), dtype=tf.float64):
        with tf.variable_scope("jj") as inner:
            assert inner.dtype == tf.float64
            z = tf.get_variable("z", [1])
            with tf.variable_scope("kk", initializer=tf.zeros_initializer()):
                k = tf.get_variable("k", [1])
            own = tf.get_variable("own", [1], initializer=tf.ones_initializer(),
                                  dtype=tf.float32)
    assert z.dtype == tf.float64 and own.dtype == tf.float32
    values = _init_and_run([z, k, own])
    np.testing.assert_array_equal(values[0], [3.0])
    np.testing.assert_array_equal(values[1], [0.0])
    np.testing.assert_array_equal(values[2], [1.0])


def test_custom_getters_chain_outer_last():
    def suffix(text):
        def getter(getter, name, *args, **kwargs):
            return getter(name + text, *args, **kwargs)
        return getter

    with tf.variable_scope("m", custom_getter=suffix("_x")):
        with tf.variable_scope("n", custom_getter=suffix("_y")):
            # TF 2.21: the inner getter runs first, so its suffix comes first.
            assert tf.get_variable("w", [1]).name == "m/n/w_y_x:0"
        assert tf.get_variable("w", [1], custom_getter=suffix("_z")).name == "m/w_z:0"


def test_custom_getter_receives_the_arguments():
    seen = {}

    def getter(getter, name, shape=None, dtype=None, trainable=None, **kwargs):
        seen.update(name=name, shape=shape, dtype=dtype, trainable=trainable,
                    has_constraint="constraint" in kwargs)
        return getter(name, shape=shape, dtype=dtype, trainable=False, **kwargs)

    with tf.variable_scope("g", custom_getter=getter):
        v = tf.get_variable("v", [2], dtype=tf.float64)
    assert seen == {"name": "g/v", "shape": [2], "dtype": tf.float64, "trainable": True,
                    "has_constraint": True}
    assert not v.trainable
    with pytest.raises(ValueError, match="^Passed a custom_getter which is not callable: 3$"):
        tf.get_variable("bad", [1], custom_getter=3)


def test_scope_collections():
    with tf.variable_scope("enc") as scope:
        a = tf.get_variable("a", [1])
        b = tf.get_variable("b", [1], trainable=False)
    with tf.variable_scope("encoder"):
        tf.get_variable("c", [1])
    assert scope.global_variables() == [a, b]
    assert scope.trainable_variables() == [a]
    assert scope.local_variables() == []
    assert len(tf.global_variables("enc")) == 3  # a regex match on the name, as TF


# ---- partitioned variables (names, shapes and messages as TF 2.21) ---------------------------

def test_partitioned_variable_shards_and_names():
    with tf.variable_scope("s", partitioner=tf.fixed_size_partitioner(3)):
        pv = tf.get_variable("p", [7, 2])
        pc = tf.get_variable("pc", initializer=tf.constant(np.arange(10.0).reshape(5, 2),
                                                           dtype=tf.float32))
    assert pv.name == "s/p" and len(pv) == 3 and pv.get_shape().as_list() == [7, 2]
    assert [v.name for v in pv] == ["s/p/part_0:0", "s/p/part_1:0", "s/p/part_2:0"]
    # The first len % shards shards get one more row.
    assert [v.shape.as_list() for v in pv] == [[3, 2], [2, 2], [2, 2]]
    assert [v.name for v in tf.global_variables()] == [
        "s/p/part_0:0", "s/p/part_1:0", "s/p/part_2:0",
        "s/pc/part_0:0", "s/pc/part_1:0", "s/pc/part_2:0"]
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert "s/pc/part_0/PartitionedInitializer/Slice" in names
    whole = tf.convert_to_tensor(pc)
    assert whole.name == "s/pc:0"
    product = tf.matmul(tf.ones([1, 5]), pc)
    with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(session.run(whole), np.arange(10.0).reshape(5, 2))
        np.testing.assert_array_equal(session.run(product), [[20.0, 25.0]])
        session.run(pv.assign(np.ones((7, 2), np.float32)))
        assert session.run(pv.as_tensor()).sum() == 14.0


def test_partitioned_variable_reuse_and_errors():
    with tf.variable_scope("s", partitioner=tf.fixed_size_partitioner(3)):
        pv = tf.get_variable("p", [7, 2])
    with tf.variable_scope("s", reuse=True):
        assert tf.get_variable("p", [7, 2]) is pv
        assert tf.get_variable("p", [7, 2], partitioner=tf.fixed_size_partitioner(3)) is pv
    cases = [
        (lambda: tf.get_variable("s/p", [7, 2], partitioner=tf.fixed_size_partitioner(3)),
         "Partitioned variable with name s/p already exists. Did you mean to set reuse=True "
         "or reuse=tf.AUTO_REUSE in VarScope?"),
        (lambda: tf.get_variable("s/p", [7, 2]),
         "No partitioner was provided, but a partitioned version of the variable was found: "
         "s/p/part_0. Perhaps a variable of the same name was already created with "
         "partitioning?"),
        (lambda: tf.get_variable("q", [4, 4], partitioner=lambda shape, dtype: [2, 2]),
         "Can only slice a variable along one dimension: shape: (4, 4), partitioning: [2, 2]"),
        (lambda: tf.get_variable("q2", [4], partitioner=lambda shape, dtype: [0]),
         "Partitioner returned zero partitions for some axes: [0]"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError) as info:
            make()
        assert str(info.value) == message


def test_partitioners():
    shape = tf.TensorShape([10, 8])
    assert tf.fixed_size_partitioner(4, axis=1)(shape=shape, dtype=tf.float32) == [1, 4]
    assert tf.fixed_size_partitioner(20)(shape=shape, dtype=tf.float32) == [10, 1]
    # TF 2.21 gives [4, 1] and [5, 1].
    assert tf.variable_axis_size_partitioner(100)(shape, tf.float32) == [4, 1]
    assert tf.min_max_variable_partitioner(max_partitions=5, min_slice_size=64)(
        shape, tf.float32) == [5, 1]
    assert tf.variable_axis_size_partitioner(100, max_shards=2)(shape, tf.float32) == [2, 1]
    assert tf.min_max_variable_partitioner(max_partitions=8, axis=1)(shape, tf.float32) == [1, 1]


def test_partitioned_initializer_sees_the_full_shape():
    with tf.variable_scope("g", partitioner=tf.fixed_size_partitioner(2)):
        pv = tf.get_variable("w", [600, 400], initializer=tf.glorot_uniform_initializer(seed=1))
    with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        parts = session.run(list(pv))
    limit = np.sqrt(6.0 / 1000)  # the fans of [600, 400], not of a [300, 400] shard
    for part in parts:
        assert part.shape == (300, 400)
        assert 0.99 * limit < np.abs(part).max() <= limit


def test_variable_store_is_per_graph():
    with tf.variable_scope("x"):
        tf.get_variable("v", [1])
    with tf.Graph().as_default():
        assert tf.get_variable_scope().name == ""
        with tf.variable_scope("x"):
            assert tf.get_variable("v", [1]).name == "x/v:0"


def test_values_pick_the_graph():
    other = tf.Graph()
    with other.as_default():
        value = tf.constant(1.0)
    with tf.variable_scope("vs", values=[value]):
        assert tf.get_default_graph() is other
        assert tf.get_variable("v", [1]).graph is other
    assert tf.get_default_graph() is not other


def test_scopes_are_per_thread():
    import threading

    graph = tf.get_default_graph()
    names = {}

    def build():
        with graph.as_default():
            names["thread"] = tf.get_variable_scope().name

    with tf.variable_scope("main"):
        thread = threading.Thread(target=build)
        thread.start()
        thread.join()
    assert names["thread"] == ""
