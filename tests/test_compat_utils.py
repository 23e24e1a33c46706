"""tf.compat, the behaviour switches, tf.logging, tf.nest, tf.make_template, tf.Dimension,
TF 1's deprecated aliases and tf.debugging's shape/dtype checks.

Expected values were checked by hand against TF 2.21's ``tf.compat.v1`` in graph mode.
"""

import importlib
import logging as std_logging
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import sessionlib as tf


# ---- tf.compat --------------------------------------------------------------------------

def test_compat_v1_is_sessionlib_itself():
    import sessionlib.compat.v1 as tf1
    from sessionlib.compat import v1

    assert tf1 is tf and v1 is tf and tf.compat.v1 is tf
    assert tf.compat.v1.placeholder is tf.placeholder
    assert tf.compat.v1.compat.v1 is tf
    assert importlib.import_module("sessionlib.compat.v1") is tf


def _run_python(code):
    """Runs `code` in a fresh interpreter that imports this sessionlib; returns the finished
    process, checked for success."""
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [package_root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return result


def test_import_compat_v1_first_in_a_fresh_process():
    # The first import in a process goes through sessionlib.compat.v1: no import cycle.
    result = _run_python("import sessionlib.compat.v1 as tf\n"
                         "x = tf.placeholder(tf.float32, [2])\n"
                         "with tf.Session() as s:\n"
                         "    print(s.run(x * 2, {x: [1, 2]}).tolist())\n")
    assert result.stdout.strip() == "[2.0, 4.0]"


def test_string_conversions():
    c = tf.compat
    assert c.as_bytes("é") == b"\xc3\xa9" and c.as_bytes(b"x") == b"x"
    assert c.as_bytes(bytearray(b"y")) == b"y" and c.as_bytes("é", "latin-1") == b"\xe9"
    assert c.as_text(b"\xc3\xa9") == "é" and c.as_text("a") == "a" and c.as_str(b"z") == "z"
    assert c.as_str_any(3) == "3" and c.as_str_any(b"ab") == "ab"
    assert c.path_to_str(pathlib.Path("/a/b")) == "/a/b"
    assert c.path_to_str(3) == 3 and c.path_to_str(b"x") == b"x"
    with pytest.raises(TypeError, match="Expected binary or unicode string, got 3"):
        c.as_bytes(3)
    with pytest.raises(TypeError, match="Expected binary or unicode string"):
        c.as_text(None)


def test_type_tuples():
    c = tf.compat
    assert c.bytes_or_text_types == (bytes, str)
    assert isinstance(np.int8(1), c.integral_types) and isinstance(5, c.integral_types)
    assert not isinstance(1.5, c.integral_types)
    assert isinstance(np.float16(1), c.real_types) and isinstance(2, c.real_types)
    assert isinstance(1j, c.complex_types) and isinstance(np.complex64(1), c.complex_types)


def test_forward_compatibility():
    assert tf.compat.forward_compatible(2020, 1, 1)
    assert not tf.compat.forward_compatible(2099, 1, 1)
    with tf.compat.forward_compatibility_horizon(2100, 1, 1):
        assert tf.compat.forward_compatible(2099, 1, 1)
    assert not tf.compat.forward_compatible(2099, 1, 1)


def test_dimension_helpers():
    c = tf.compat
    assert c.dimension_value(tf.Dimension(3)) == 3 and c.dimension_value(4) == 4
    assert c.dimension_value(None) is None and c.dimension_value(tf.Dimension(None)) is None
    shape = tf.TensorShape([2, None])
    assert repr(c.dimension_at_index(shape, 0)) == "Dimension(2)"
    assert c.dimension_at_index(shape, 1).value is None
    assert c.dimension_at_index(tf.TensorShape(None), 5).value is None
    with pytest.raises(IndexError):
        c.dimension_at_index(tf.TensorShape([2]), 3)
    assert tf.dimension_value is c.dimension_value
    x = tf.placeholder(tf.float32, [None, 7])
    assert tf.dimension_value(x.shape[1]) == 7 and tf.dimension_value(x.shape[0]) is None


def test_dimension_arithmetic_and_comparisons():
    three, unknown = tf.Dimension(3), tf.Dimension(None)
    assert (three + 1).value == 4 and (1 + three).value == 4 and (three * 2).value == 6
    assert (three - 1).value == 2 and (7 - three).value == 4 and (tf.Dimension(7) // 2).value == 3
    assert (unknown + 1).value is None and (three * unknown).value is None
    assert three == 3 and three != 4 and three < 4 and three >= 3
    assert (unknown == 3) is None and (unknown < 4) is None
    assert int(three) == 3 and str(three) == "3" and str(unknown) == "?"
    assert three.merge_with(None).value == 3 and unknown.merge_with(3).value == 3
    assert three.is_compatible_with(unknown) and not three.is_compatible_with(4)
    with pytest.raises(ValueError, match="Dimensions 3 and 4 are not compatible"):
        three.merge_with(4)
    with pytest.raises(ValueError, match="Dimension -1 must be >= 0"):
        tf.Dimension(-1)
    with pytest.raises(TypeError, match="Dimension value must be integer"):
        tf.Dimension(2.5)
    # TensorShape accepts Dimensions.
    assert tf.TensorShape([three, unknown]).as_list() == [3, None]


def test_versions():
    assert tf.VERSION == tf.__version__ and isinstance(tf.VERSION, str)
    assert tf.GRAPH_DEF_VERSION == tf.Graph().graph_def_versions.producer
    assert tf.GRAPH_DEF_VERSION_MIN_CONSUMER == 0 and tf.GRAPH_DEF_VERSION_MIN_PRODUCER == 0
    assert tf.Graph().as_graph_def().versions.producer == tf.GRAPH_DEF_VERSION
    assert tf.version.VERSION == tf.VERSION and tf.version.GIT_VERSION == tf.GIT_VERSION
    assert tf.version.GRAPH_DEF_VERSION == tf.GRAPH_DEF_VERSION
    assert isinstance(tf.COMPILER_VERSION, str)


# ---- behaviour switches -------------------------------------------------------------------

def test_disable_switches_are_no_ops_and_graph_mode_stays():
    tf.disable_eager_execution()
    tf.disable_v2_behavior()
    tf.disable_v2_tensorshape()
    tf.disable_control_flow_v2()
    tf.disable_resource_variables()
    tf.disable_tensor_equality()
    tf.enable_control_flow_v2()
    tf.enable_resource_variables()
    tf.enable_v2_tensorshape()
    assert tf.executing_eagerly() is False and tf.executing_eagerly_outside_functions() is False
    assert tf.control_flow_v2_enabled() and tf.resource_variables_enabled()
    x = tf.placeholder(tf.float32, [2])
    with tf.Session() as sess:
        assert sess.run(x + 1, {x: [1, 2]}).tolist() == [2.0, 3.0]


@pytest.mark.parametrize("switch", ["enable_eager_execution", "enable_v2_behavior",
                                    "enable_tensor_equality"])
def test_enable_switches_that_sessionlib_cannot_honour_raise(switch):
    with pytest.raises(NotImplementedError, match="sessionlib"):
        getattr(tf, switch)()


# ---- tf.logging -----------------------------------------------------------------------------

@pytest.fixture
def restored_verbosity():
    logger = std_logging.getLogger("sessionlib")
    level = logger.level
    yield logger
    logger.setLevel(level)


def test_logging_levels_and_logger(restored_verbosity):
    assert (tf.logging.DEBUG, tf.logging.INFO, tf.logging.WARN, tf.logging.ERROR,
            tf.logging.FATAL) == (10, 20, 30, 40, 50)
    assert tf.get_logger() is std_logging.getLogger("sessionlib")
    tf.logging.set_verbosity(tf.logging.INFO)
    assert tf.logging.get_verbosity() == tf.logging.INFO
    assert std_logging.getLogger("sessionlib.train.coordinator").getEffectiveLevel() == 20
    tf.logging.set_verbosity(tf.logging.ERROR)
    assert tf.logging.get_verbosity() == 40


def test_logging_functions_reach_the_sessionlib_logger(restored_verbosity, caplog):
    tf.logging.set_verbosity(tf.logging.INFO)
    with caplog.at_level(std_logging.DEBUG, logger="sessionlib"):
        tf.logging.info("step %d", 3)
        tf.logging.warn("warned")
        tf.logging.warning("warning %s", "x")
        tf.logging.error("bad")
        tf.logging.fatal("fatal")
        tf.logging.debug("debug")
        tf.logging.vlog(tf.logging.INFO, "verbose %d", 1)
        tf.logging.log(tf.logging.WARN, "logged")
        tf.logging.log_if(tf.logging.INFO, "yes", True)
        tf.logging.log_if(tf.logging.INFO, "no", False)
        tf.logging.TaskLevelStatusMessage("status")
        tf.logging.flush()
    records = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert records == [("sessionlib", 20, "step 3"), ("sessionlib", 30, "warned"),
                       ("sessionlib", 30, "warning x"), ("sessionlib", 40, "bad"),
                       ("sessionlib", 50, "fatal"), ("sessionlib", 10, "debug"),
                       ("sessionlib", 20, "verbose 1"), ("sessionlib", 30, "logged"),
                       ("sessionlib", 20, "yes"), ("sessionlib", 40, "status")]


def test_log_every_n_and_first_n_count_per_call_site(restored_verbosity, caplog):
    with caplog.at_level(std_logging.INFO, logger="sessionlib"):
        for i in range(7):
            tf.logging.log_every_n(tf.logging.INFO, "every %d", 3, i)
        for i in range(5):
            tf.logging.log_first_n(tf.logging.INFO, "first %d", 2, i)
    assert [r.getMessage() for r in caplog.records] == ["every 0", "every 3", "every 6",
                                                        "first 0", "first 1"]
    with pytest.raises(ValueError):
        tf.logging.log_every_n(tf.logging.INFO, "x", 0)


def test_set_verbosity_info_prints_to_stderr_in_a_script():
    result = _run_python("import sessionlib as tf\n"
                         "tf.logging.info('hidden')\n"
                         "tf.logging.set_verbosity(tf.logging.INFO)\n"
                         "tf.logging.info('shown %d', 5)\n")
    assert "hidden" not in result.stderr
    assert "INFO:sessionlib:shown 5" in result.stderr


# ---- tf.nest --------------------------------------------------------------------------------

def test_nest():
    structure = {"b": 1, "a": [2, (3, 4)]}
    assert tf.nest.flatten(structure) == [2, 3, 4, 1]
    assert tf.nest.flatten(None) == [None]
    assert tf.nest.is_nested([1]) and not tf.nest.is_nested(1)
    doubled = tf.nest.map_structure(lambda v: v * 2, structure)
    assert doubled == {"b": 2, "a": [4, (6, 8)]}
    assert tf.nest.pack_sequence_as(structure, [5, 6, 7, 8]) == {"b": 8, "a": [5, (6, 7)]}
    assert tf.nest.map_structure(lambda a, b: a + b, [1, 2], [10, 20]) == [11, 22]
    tf.nest.assert_same_structure([1, (2,)], [3, (4,)])
    with pytest.raises(ValueError):
        tf.nest.assert_same_structure([1, 2], [1])
    with pytest.raises(TypeError):
        tf.nest.assert_same_structure([1, 2], {"a": 1, "b": 2})
    tf.nest.assert_same_structure([1, 2], (3, 4), check_types=False)
    with pytest.raises(ValueError):
        tf.nest.pack_sequence_as([1, 2], [1])


# ---- tf.make_template -----------------------------------------------------------------------

def _linear(x, scale=1.0):
    w = tf.get_variable("w", [1], initializer=tf.ones_initializer())
    return tf.multiply(x, w * scale, name="out")


def test_make_template_shares_variables_with_tfs_names():
    template = tf.make_template("lin", _linear, scale=2.0)
    assert template.variable_scope is None and template.name == "lin"
    first = template(tf.constant([1.0]))
    second = template(tf.constant([3.0]))
    assert (first.name, second.name) == ("lin/out:0", "lin_1/out:0")
    assert [v.name for v in tf.global_variables()] == ["lin/w:0"]
    assert template.variable_scope.name == "lin" and template.variable_scope_name == "lin/"
    assert [v.name for v in template.trainable_variables] == ["lin/w:0"]
    assert [v.name for v in template.variables] == ["lin/w:0"]
    other = tf.make_template("lin", _linear)
    third = other(tf.constant([1.0]))
    assert third.name == "lin_2/out:0" and other.variable_scope_name == "lin_1/"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(template.variables[0].assign([5.0]))
        assert sess.run([first, second, third]) == [[10.0], [30.0], [1.0]]


def test_make_template_create_scope_now():
    template = tf.make_template("now", _linear, create_scope_now_=True)
    assert template.variable_scope.name == "now"
    template(tf.constant(1.0))
    template(tf.constant(2.0))
    assert [v.name for v in tf.global_variables()] == ["now/w:0"]


def test_make_template_rejects_new_variables_after_the_first_call():
    def grows(x):
        name = f"v{len(tf.global_variables())}"
        return x * tf.get_variable(name, [], initializer=tf.zeros_initializer())

    template = tf.make_template("grows", grows)
    template(tf.constant(1.0))
    with pytest.raises(ValueError, match="does not exist"):
        template(tf.constant(1.0))

    def plain_variable(x):
        return x * tf.Variable(1.0)

    template = tf.make_template("plain", plain_variable)
    template(tf.constant(1.0))
    with pytest.raises(ValueError, match="Trainable variable created when calling a template"):
        template(tf.constant(1.0))
    with pytest.raises(TypeError, match="callable"):
        tf.make_template("x", 3)


# ---- aliases and small helpers ----------------------------------------------------------

def test_variable_aliases():
    a = tf.Variable(1.0, name="a")
    b = tf.get_local_variable("b", [], initializer=tf.zeros_initializer())
    assert tf.all_variables() == tf.global_variables() == [a]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="a"):
            sess.run(tf.assert_variables_initialized())
        sess.run(tf.initialize_variables([a]))
        sess.run(tf.initialize_local_variables())
        assert sess.run([a, b]) == [1.0, 0.0]
        assert sess.run(tf.assert_variables_initialized()) is None
    assert tf.assert_variables_initialized([]) is None
    assert tf.initialize_all_variables().type == "NoOp"


def test_static_value_and_is_tensor():
    assert tf.get_static_value(tf.constant([1, 2])).tolist() == [1, 2]
    assert tf.get_static_value(tf.placeholder(tf.float32)) is None
    assert tf.get_static_value(3) == 3
    assert tf.is_tensor(tf.constant(1)) and not tf.is_tensor(3)
    assert tf.is_tensor(tf.SparseTensor([[0]], [1], [2])) and tf.is_tensor(tf.Variable(1.0))
    assert not tf.is_tensor(np.zeros(2))


def test_convert_to_tensor_or_sparse_and_indexed_slices():
    slices = tf.IndexedSlices(tf.constant([1.0]), tf.constant([0]))
    assert tf.convert_to_tensor_or_indexed_slices(slices) is slices
    with pytest.raises(ValueError):
        tf.convert_to_tensor_or_indexed_slices(slices, dtype=tf.int32)
    dense = tf.convert_to_tensor_or_indexed_slices([1, 2])
    assert isinstance(dense, tf.Tensor) and dense.dtype == tf.int32
    sparse = tf.convert_to_tensor_or_sparse_tensor(tf.SparseTensorValue([[0]], [2.0], [3]))
    assert isinstance(sparse, tf.SparseTensor)
    with tf.Session() as sess:
        assert sess.run(tf.sparse_tensor_to_dense(sparse)).tolist() == [2.0, 0.0, 0.0]
    assert tf.convert_to_tensor_or_sparse_tensor(sparse) is sparse
    assert isinstance(tf.convert_to_tensor_or_sparse_tensor(1.0), tf.Tensor)


def test_scope_aliases_and_container():
    x = tf.constant(1.0)
    with tf.op_scope([x], None, "ops"):
        assert tf.identity(x).name == "ops/Identity:0"
    with tf.variable_op_scope([x], None, "vars"):
        assert tf.get_variable("v", []).name == "vars/v:0"
    with tf.container("experiment"):
        assert tf.constant(2.0).name == "Const_1:0"
    with pytest.raises(TypeError):
        with tf.container(3):
            pass


def test_gradient_enums_and_aliases():
    assert (tf.AggregationMethod.ADD_N, tf.AggregationMethod.DEFAULT,
            tf.AggregationMethod.EXPERIMENTAL_TREE,
            tf.AggregationMethod.EXPERIMENTAL_ACCUMULATE_N) == (0, 0, 1, 2)
    assert tf.UnconnectedGradients.ZERO.value == "zero"
    x, y = tf.constant([1.0, 2.0]), tf.constant(3.0)
    grads = tf.gradients(y * 2, [x, y], unconnected_gradients=tf.UnconnectedGradients.ZERO,
                         aggregation_method=tf.AggregationMethod.EXPERIMENTAL_TREE)
    assert tf.gradients(y, x, unconnected_gradients=tf.UnconnectedGradients.NONE) == [None]
    with tf.Session() as sess:
        assert [v.tolist() for v in sess.run(grads)] == [[0.0, 0.0], 2.0]
    assert tf.NoGradient is tf.NotDifferentiable
    assert issubclass(tf.errors.NotFoundError, tf.OpError)


def test_protos_and_device_spec_names():
    assert tf.GPUOptions(allow_growth=True).allow_growth
    assert tf.MetaGraphDef().DESCRIPTOR.name == "MetaGraphDef"
    assert tf.NameAttrList(name="f").name == "f"
    assert tf.DeviceSpec(device_type="GPU", device_index=1).device_index == 1
    proto = tf.make_tensor_proto([[1, 2]], dtype=tf.int64)
    assert tf.make_ndarray(proto).tolist() == [[1, 2]]


# ---- tf.debugging -------------------------------------------------------------------------

def test_assert_shapes_static_and_dynamic():
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    y = tf.placeholder(tf.float32, [3, 4], name="y")
    with pytest.raises(ValueError, match="must have size 2.  Received size 3"):
        tf.debugging.assert_shapes([(x, ["N", 3]), (y, ["N", 4])])
    with pytest.raises(ValueError, match="must have rank 3"):
        tf.debugging.assert_shapes({x: [1, 2, 3]})
    assert tf.debugging.assert_shapes([(x, ["N", "M"]), (y, ["M", "."])]).type == "NoOp"
    assert tf.debugging.assert_shapes([(y, ["*", 4])]).type == "NoOp"

    a = tf.placeholder(tf.float32, [None, 3], name="a")
    b = tf.placeholder(tf.float32, None, name="b")
    check = tf.debugging.assert_shapes([(a, ["N", 3]), (b, ["N", "."])])
    with tf.Session() as sess:
        sess.run(check, {a: np.zeros((2, 3)), b: np.zeros((2, 5))})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must have size"):
            sess.run(check, {a: np.zeros((4, 3)), b: np.zeros((2, 5))})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(check, {a: np.zeros((2, 3)), b: np.zeros((2,))})


def test_assert_same_float_dtype_and_proper_iterable():
    assert tf.assert_same_float_dtype([tf.constant(1.0), tf.constant(2.0)]) == tf.float32
    assert tf.assert_same_float_dtype(None) == tf.float32
    assert tf.assert_same_float_dtype([tf.constant(1.0, tf.float64)]) == tf.float64
    assert tf.debugging.assert_same_float_dtype(dtype=tf.float16) == tf.float16
    with pytest.raises(ValueError, match="Expected floating point type, got int32"):
        tf.assert_same_float_dtype([tf.constant(1)])
    with pytest.raises(ValueError):
        tf.assert_same_float_dtype([tf.constant(1.0)], dtype=tf.float64)
    tf.assert_proper_iterable([1, 2])
    tf.debugging.assert_proper_iterable((tf.constant(1),))
    for bad in (tf.constant([1]), np.zeros(2), "ab", b"ab", 3):
        with pytest.raises(TypeError):
            tf.assert_proper_iterable(bad)
