"""GraphDefs from outside are untrusted input: `import_graph_def` fails cleanly and atomically.

Only ValueError, TypeError or InvalidArgumentError may come out, naming the node (and the attr)
at fault; a failed import leaves the graph as it was; a constant's declared shape never makes
the importer allocate memory that the proto's bytes do not back.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework import tensor_util


def _node(graph_def, name, op, inputs=(), **attrs):
    node = graph_def.node.add(name=name, op=op)
    node.input.extend(inputs)
    for key, value in attrs.items():
        node.attr[key].CopyFrom(value)
    return node


def _type_attr(dtype):
    return tf.AttrValue(type=dtype.as_datatype_enum)


def _graph_state(graph):
    return ([op.name for op in graph.get_operations()], graph.version,
            dict(graph._names_in_use))


def _import_fails(graph_def, error, match):
    """Asserts that importing `graph_def` raises `error` matching `match`, and changes nothing."""
    graph = tf.get_default_graph()
    before = _graph_state(graph)
    with pytest.raises(error, match=match):
        tf.import_graph_def(graph_def)
    assert _graph_state(graph) == before


def _proto_with_shape(dtype, dims, **fields):
    proto = tf.TensorProto(dtype=dtype.as_datatype_enum, **fields)
    for size in dims:
        proto.tensor_shape.dim.add(size=size)
    return proto


def test_placeholder_dtype_given_as_an_int_is_a_type_error():
    graph_def = tf.GraphDef()
    _node(graph_def, "p", "Placeholder", dtype=tf.AttrValue(i=1))
    _import_fails(graph_def, TypeError, r"Node 'p' \(Placeholder\): attr 'dtype' must be a type")


def test_placeholder_without_shape_has_an_unknown_shape_as_in_tf():
    graph_def = tf.GraphDef()
    _node(graph_def, "p", "Placeholder", dtype=_type_attr(tf.float32))
    _node(graph_def, "y", "Identity", ["p"], T=_type_attr(tf.float32))
    y, = tf.import_graph_def(graph_def, return_elements=["y:0"], name="")
    assert y.shape.ndims is None
    with tf.Session() as sess:
        assert sess.run(y, {"p:0": [[1.0, 2.0]]}).tolist() == [[1.0, 2.0]]


def test_placeholder_without_dtype_names_the_missing_attr():
    graph_def = tf.GraphDef()
    _node(graph_def, "p", "Placeholder")
    _import_fails(graph_def, ValueError, r"Node 'p' \(Placeholder\): missing attr 'dtype'")


def test_const_value_given_as_a_bool_is_a_type_error():
    graph_def = tf.GraphDef()
    _node(graph_def, "c", "Const", dtype=_type_attr(tf.bool), value=tf.AttrValue(b=True))
    _import_fails(graph_def, TypeError, r"Node 'c' \(Const\): attr 'value' must be a tensor")


def test_const_dtype_must_match_its_value():
    graph_def = tf.GraphDef()
    value = tensor_util.make_tensor_proto(np.array([1.0], np.float32))
    _node(graph_def, "c", "Const", dtype=_type_attr(tf.int32), value=tf.AttrValue(tensor=value))
    _import_fails(graph_def, ValueError, r"Node 'c' \(Const\): attr 'dtype' is int32")


def test_duplicate_node_names_are_a_value_error():
    graph_def = tf.GraphDef()
    _node(graph_def, "p", "Placeholder", dtype=_type_attr(tf.float32))
    _node(graph_def, "p", "Placeholder", dtype=_type_attr(tf.int32))
    _import_fails(graph_def, ValueError, "Duplicate node name in graph_def: 'p'")


@pytest.mark.parametrize("dtype,dims", [(tf.float32, [2 ** 40]), (tf.int64, [2 ** 31]),
                                        (tf.string, [2 ** 31]), (tf.float32, [2 ** 62, 8])])
def test_const_declaring_a_huge_shape_allocates_nothing(dtype, dims):
    graph_def = tf.GraphDef()
    fields = {"string_val": [b"x"]} if dtype is tf.string else {"float_val": [1.0]} \
        if dtype is tf.float32 else {"int64_val": [7]}
    value = _proto_with_shape(dtype, dims, **fields)
    _node(graph_def, "c", "Const", dtype=_type_attr(dtype), value=tf.AttrValue(tensor=value))
    _import_fails(graph_def, ValueError, r"Node 'c' \(Const\): attr 'value' is invalid: "
                  r".*MAX_FILLED_TENSOR_BYTES")


def test_packed_content_must_match_the_declared_shape():
    graph_def = tf.GraphDef()
    value = _proto_with_shape(tf.float32, [2 ** 40], tensor_content=b"\0" * 8)
    _node(graph_def, "c", "Const", dtype=_type_attr(tf.float32), value=tf.AttrValue(tensor=value))
    _import_fails(graph_def, ValueError, r"attr 'value' is invalid: .*needs \d+ bytes")


def test_negative_sizes_and_too_many_values_are_value_errors():
    negative = _proto_with_shape(tf.float32, [-3], float_val=[1.0])
    too_many = _proto_with_shape(tf.float32, [2], float_val=[1.0, 2.0, 3.0])
    for value in (negative, too_many):
        graph_def = tf.GraphDef()
        _node(graph_def, "c", "Const", dtype=_type_attr(tf.float32),
              value=tf.AttrValue(tensor=value))
        _import_fails(graph_def, ValueError, r"Node 'c' \(Const\): attr 'value' is invalid")


def test_a_scalar_fills_its_shape_as_in_tf():
    graph_def = tf.GraphDef()
    value = _proto_with_shape(tf.float32, [2, 3], float_val=[4.0])
    _node(graph_def, "c", "Const", dtype=_type_attr(tf.float32), value=tf.AttrValue(tensor=value))
    c, = tf.import_graph_def(graph_def, return_elements=["c:0"])
    with tf.Session() as sess:
        assert sess.run(c).tolist() == [[4.0] * 3] * 2


def test_a_failed_import_leaves_the_graph_unchanged():
    tf.constant(1.0, name="kept")
    graph_def = tf.GraphDef()
    _node(graph_def, "a", "Placeholder", dtype=_type_attr(tf.float32))
    _node(graph_def, "b", "Identity", ["a"], T=_type_attr(tf.float32))
    _node(graph_def, "c", "Identity", ["b:3"], T=_type_attr(tf.float32))
    _import_fails(graph_def, ValueError, "refers to output 3")
    # The names the failed import took are free again.
    tf.import_graph_def(graph_def.__class__(node=graph_def.node[:2]))
    assert [op.name for op in tf.get_default_graph().get_operations()] == [
        "kept", "import/a", "import/b"]


def test_a_failed_import_inside_a_control_block_leaves_no_op_in_it():
    graph = tf.get_default_graph()
    gate = tf.no_op(name="gate")
    graph_def = tf.GraphDef()
    _node(graph_def, "a", "Placeholder", dtype=_type_attr(tf.float32))
    _node(graph_def, "b", "Placeholder", dtype=tf.AttrValue(i=3))
    with tf.control_dependencies([gate]):
        before = _graph_state(graph)
        with pytest.raises(TypeError, match="attr 'dtype'"):
            tf.import_graph_def(graph_def)
        assert _graph_state(graph) == before
        scope, = graph._scopes.control_stack
        assert not scope.created


def test_bad_return_elements_and_input_map_keys():
    graph_def = tf.GraphDef()
    _node(graph_def, "a", "Placeholder", dtype=_type_attr(tf.float32))
    with pytest.raises(ValueError, match="has 1 outputs"):
        tf.import_graph_def(graph_def, return_elements=["a:5"])
    with pytest.raises(TypeError, match="return_elements"):
        tf.import_graph_def(graph_def, return_elements=[3])
    with pytest.raises(TypeError, match="input_map"):
        tf.import_graph_def(graph_def, input_map={1: tf.constant(1.0)})
    with pytest.raises(ValueError, match="not in the graph_def"):
        _node(graph_def, "b", "Identity", ["a:\u00b2"], T=_type_attr(tf.float32))
        tf.import_graph_def(graph_def)


@pytest.mark.parametrize("size", [-2, -5, -(2 ** 40)])
def test_placeholder_shape_below_minus_one_is_a_value_error(size):
    graph_def = tf.GraphDef()
    shape = tf.AttrValue()
    shape.shape.dim.add(size=size)
    shape.shape.dim.add(size=3)
    _node(graph_def, "p", "Placeholder", dtype=_type_attr(tf.float32), shape=shape)
    _import_fails(graph_def, ValueError,
                  rf"Node 'p' \(Placeholder\): attr 'shape' is invalid: Dimension {size}")


def test_placeholder_shape_of_minus_one_is_unknown():
    graph_def = tf.GraphDef()
    shape = tf.AttrValue()
    shape.shape.dim.add(size=-1)
    shape.shape.dim.add(size=3)
    _node(graph_def, "p", "Placeholder", dtype=_type_attr(tf.float32), shape=shape)
    p, = tf.import_graph_def(graph_def, return_elements=["p:0"], name="")
    assert p.shape.as_list() == [None, 3]
