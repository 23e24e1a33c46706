"""The graph model: names, scopes, control dependencies, devices, defaults, lookups, versions.

Expected values were measured with TF 2.21's ``tf.compat.v1`` in graph mode.
"""

import threading

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework import graph as graph_lib


# ---- unique op names --------------------------------------------------------------------

def test_repeated_names_get_numbered_suffixes():
    names = [tf.constant(1, name="add").op.name for _ in range(3)]
    assert names == ["add", "add_1", "add_2"]


def test_default_name_is_the_op_type():
    assert tf.constant(1).op.name == "Const"
    assert tf.constant(1).op.name == "Const_1"
    assert tf.placeholder(tf.float32).op.name == "Placeholder"
    assert tf.identity(tf.constant(1)).op.name == "Identity"


def test_names_are_unique_case_insensitively():
    a = tf.constant(1, name="add")
    b = tf.constant(1, name="add")
    c = tf.constant(1, name="Add")
    d = tf.constant(1, name="add_1")
    assert [a.op.name, b.op.name, c.op.name, d.op.name] == ["add", "add_1", "Add_2", "add_1_1"]


def test_an_explicit_suffixed_name_is_reserved():
    a = tf.constant(1, name="add_1")
    names = [tf.constant(1, name="add").op.name for _ in range(3)]
    assert a.op.name == "add_1"
    assert names == ["add", "add_2", "add_3"]


def test_mixed_case_names():
    names = [tf.constant(1, name=n).op.name for n in ("foo", "FOO", "Foo_1")]
    assert names == ["foo", "FOO_1", "Foo_1_1"]


def test_graph_unique_name_without_marking():
    graph = tf.get_default_graph()
    assert graph.unique_name("x", mark_as_used=False) == "x"
    assert graph.unique_name("x", mark_as_used=False) == "x"
    tf.constant(1, name="x")
    assert graph.unique_name("x", mark_as_used=False) == "x_1"
    assert tf.constant(1, name="x").op.name == "x_1"


@pytest.mark.parametrize("bad", ["_bad", "a b", "-x", "/x", "x:0"])
def test_invalid_op_names_are_value_errors(bad):
    with pytest.raises(ValueError, match="not a valid node name"):
        tf.constant(1, name=bad)


def test_trailing_slash_asks_for_an_exact_name():
    with tf.name_scope("s"):
        a = tf.constant(1, name="x/")
    assert a.op.name == "x"
    with pytest.raises(ValueError, match="Duplicate"):
        tf.constant(1, name="x/")


# ---- name scopes ------------------------------------------------------------------------

def test_nested_name_scopes_prefix_op_names():
    results = []
    with tf.name_scope("s") as outer:
        results += [outer, tf.constant(1).op.name]
        with tf.name_scope("t") as inner:
            results += [inner, tf.constant(1).op.name]
            with tf.name_scope(None) as top:
                results += [top, tf.constant(1).op.name]
    assert results == ["s/", "s/Const", "s/t/", "s/t/Const", "", "Const"]


def test_reopening_a_scope_makes_it_unique_and_trailing_slash_reenters():
    with tf.name_scope("s"):
        pass
    with tf.name_scope("s") as second:
        pass
    with tf.name_scope("s/") as reentered:
        name = tf.constant(1).op.name
    assert second == "s_1/"
    assert reentered == "s/"
    assert name == "s/Const"


def test_name_scope_default_name_and_empty_name():
    with tf.name_scope(None, "def") as first:
        pass
    with tf.name_scope(None, "def") as second:
        pass
    with tf.name_scope("", "def") as empty:
        pass
    assert (first, second, empty) == ("def/", "def_1/", "")


def test_name_scope_and_op_names_share_the_namespace():
    with tf.name_scope("foo") as scope:
        pass
    const = tf.constant(1, name="foo")
    assert (scope, const.op.name) == ("foo/", "foo_1")
    tf.reset_default_graph()
    const = tf.constant(1, name="foo")
    with tf.name_scope("foo") as scope:
        pass
    assert (scope, const.op.name) == ("foo_1/", "foo")


def test_name_scope_values_enter_their_graph():
    other = tf.Graph()
    with other.as_default():
        x = tf.constant(1)
    with tf.name_scope("v", "d", [x]) as scope:
        inside = tf.get_default_graph()
        y = tf.constant(2)
    assert scope == "v/"
    assert inside is other
    assert y.graph is other and y.op.name == "v/Const"
    assert tf.get_default_graph() is not other


def test_name_scope_values_from_two_graphs_is_a_value_error():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        x = tf.constant(1)
    with g2.as_default():
        y = tf.constant(1)
    with pytest.raises(ValueError):
        with tf.name_scope("s", values=[x, y]):
            pass


def test_name_scope_without_any_name_but_values_is_a_value_error():
    x = tf.constant(1)
    with pytest.raises(ValueError, match="At least one"):
        with tf.name_scope(None, None, [x]):
            pass


def test_name_scope_default_name_must_be_a_string():
    x = tf.constant(1)
    with pytest.raises(TypeError):
        tf.name_scope(None, [x])


def test_invalid_scope_names():
    with pytest.raises(ValueError, match="root scope"):
        with tf.name_scope("a b"):
            pass
    with pytest.raises(ValueError, match="root scope"):
        with tf.name_scope("_x"):
            pass
    with tf.name_scope("ok"):
        with tf.name_scope("_fine_inside") as inner:
            pass
    assert inner == "ok/_fine_inside/"


def test_get_name_scope():
    graph = tf.get_default_graph()
    with tf.name_scope("aa"):
        with tf.name_scope("bb"):
            assert graph.get_name_scope() == "aa/bb"
    assert graph.get_name_scope() == ""


def test_graph_name_scope_method():
    graph = tf.Graph()
    with graph.name_scope("x") as outer:
        with graph.name_scope("") as reset:
            pass
    assert (outer, reset) == ("x/", "")


def test_name_scopes_are_per_thread():
    graph = tf.get_default_graph()
    seen = []

    def build():
        with graph.as_default():
            seen.append(tf.constant(1, name="c").op.name)

    with tf.name_scope("main_thread"):
        worker = threading.Thread(target=build)
        worker.start()
        worker.join()
    assert seen == ["c"]


# ---- control dependencies ---------------------------------------------------------------

def _control_names(tensor_or_op):
    op = tensor_or_op.op if isinstance(tensor_or_op, tf.Tensor) else tensor_or_op
    return [c.name for c in op.control_inputs]


def test_control_dependencies_nest_and_none_clears():
    a = tf.constant(1, name="a")
    b = tf.constant(2, name="b")
    with tf.control_dependencies([a]):
        c = tf.constant(3, name="c")
        with tf.control_dependencies([b.op]):
            d = tf.constant(4, name="d")
            with tf.control_dependencies(None):
                e = tf.constant(5, name="e")
                with tf.control_dependencies([c]):
                    f = tf.constant(6, name="f")
        data_input = tf.identity(a)
    assert _control_names(c) == ["a"]
    assert _control_names(d) == ["a", "b"]
    assert _control_names(e) == []
    assert _control_names(f) == ["c"]
    assert _control_names(data_input) == []  # a data input is not added again


def test_an_input_made_in_the_scope_already_carries_its_dependencies():
    a = tf.constant(1, name="a")
    with tf.control_dependencies([a]):
        c = tf.constant(3, name="c")
        i = tf.identity(c, name="i")
    outside = tf.constant(0, name="outside")
    with tf.control_dependencies([a]):
        j = tf.identity(outside, name="j")
    assert _control_names(c) == ["a"]
    assert _control_names(i) == []  # dominated by c, made in the same block (TF's rule)
    assert _control_names(j) == ["a"]


def test_control_dependencies_accept_tensors_and_dedupe():
    a = tf.constant(1, name="a")
    with tf.control_dependencies([a, a.op, a]):
        c = tf.constant(2)
    assert _control_names(c) == ["a"]


def test_control_dependency_errors():
    with pytest.raises(TypeError):
        with tf.control_dependencies([1]):
            pass
    other = tf.Graph()
    with other.as_default():
        x = tf.constant(1)
    with pytest.raises(ValueError, match="not an element of this graph"):
        with tf.control_dependencies([x]):
            pass


def test_group_and_tuple():
    a = tf.constant(1.0, name="a")
    grouped = tf.group(a, [tf.constant(2.0, name="b")])
    assert grouped.type == "NoOp"
    assert grouped.name == "group_deps"
    assert _control_names(grouped) == ["a", "b"]
    gated = tf.tuple([a, None])
    assert gated[1] is None
    assert gated[0].name == "tuple/control_dependency:0"
    assert _control_names(gated[0]) == ["tuple/group_deps"]


def test_group_over_devices_gathers_each_device_first():
    # TF 2.21 builds this tree (checked with tf.compat.v1): one NoOp per device, in device
    # order, under the group's name scope, and the root depends on them only.
    a = tf.constant(1.0, name="a")
    with tf.device("/cpu:0"):
        x = tf.identity(a, name="x")
    with tf.device("/cpu:1"):
        y = tf.identity(a, name="y")
    z = tf.identity(a, name="z")
    root = tf.group(x, y, z)
    assert root.name == "group_deps" and root.device == ""
    gathered = root.control_inputs
    assert [op.name for op in gathered] == ["group_deps/NoOp", "group_deps/NoOp_1",
                                            "group_deps/NoOp_2"]
    assert [op.device for op in gathered] == ["", "/device:CPU:0", "/device:CPU:1"]
    assert [_control_names(op) for op in gathered] == [["z"], ["x"], ["y"]]
    train = tf.group(x, y, name="train")
    assert [op.name for op in train.control_inputs] == ["train/NoOp", "train/NoOp_1"]
    one_device = tf.group(x)
    assert one_device.device == "/device:CPU:0" and _control_names(one_device) == ["x"]
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        assert sess.run(root) is None


# ---- devices ----------------------------------------------------------------------------

def _device_under(*specs):
    def build(remaining):
        if not remaining:
            return tf.constant(1).op.device
        with tf.device(remaining[0]):
            return build(remaining[1:])
    return build(list(specs))


@pytest.mark.parametrize("specs, expected", [
    (["/cpu:1"], "/device:CPU:1"),
    (["/CPU:1"], "/device:CPU:1"),
    (["cpu:0"], "/device:CPU:0"),
    (["/device:GPU:0"], "/device:GPU:0"),
    (["/gpu:*"], "/device:GPU:*"),
    (["/job:localhost/replica:0/task:0/device:CPU:0"],
     "/job:localhost/replica:0/task:0/device:CPU:0"),
    (["/job:worker", "/cpu:2"], "/job:worker/device:CPU:2"),
    (["/job:worker", None], ""),
    (["/cpu:0", "/gpu:1"], "/device:GPU:1"),
    (["/cpu:0", "/job:a"], "/job:a/device:CPU:0"),
    (["/task:1"], "/task:1"),
    ([""], ""),
    (["/cpu:1", ""], "/device:CPU:1"),
    (["/cpu:1", "/gpu:*"], "/device:GPU:1"),  # each part merges on its own
    (["/gpu:1", "/cpu:*"], "/device:CPU:1"),
    (["/job:a/task:1/cpu:1", "/job:b/replica:2"], "/job:b/replica:2/task:1/device:CPU:1"),
    (["/device:CPU:1", "/job:w"], "/job:w/device:CPU:1"),
])
def test_device_scopes_give_canonical_names(specs, expected):
    assert _device_under(*specs) == expected


def test_device_scope_ends_with_its_block():
    with tf.device("/job:worker"):
        with tf.device(None):
            pass
        inside = tf.constant(1).op.device
    assert inside == "/job:worker"
    assert tf.constant(1).op.device == ""


def test_device_functions():
    seen = []

    def choose(op):
        seen.append((op.name, op.device))
        return "/cpu:3" if op.type == "Const" else "/gpu:0"

    with tf.device(choose):
        alone = tf.constant(1, name="alone")
    with tf.device("/job:w"):
        with tf.device(choose):
            const = tf.constant(1, name="k")
            ident = tf.identity(const, name="i")
    assert alone.op.device == "/cpu:3"  # a function's result is kept as written, as in TF
    # Scopes apply innermost first: the function sees no device yet, and the outer string
    # scope then fills in the parts its result leaves open.
    assert const.op.device == "/job:w/device:CPU:3"
    assert ident.op.device == "/job:w/device:GPU:0"
    assert seen == [("alone", ""), ("k", ""), ("i", "")]


@pytest.mark.parametrize("outer, inner, expected", [
    (lambda op: "/job:z", "/cpu:2", "/job:z"),  # the outer function replaces everything
    (lambda op: "/gpu:0", None, "/device:CPU:2"),  # None hides the outer scopes
    ("/cpu:1", lambda op: "cpu:0", "/device:CPU:0"),
    ("/cpu:2", lambda op: op.device, "/device:CPU:2"),
    ("/cpu:2", lambda op: "", "/device:CPU:2"),
    ("/cpu:2", lambda op: None, "/device:CPU:2"),
    ("/job:w", lambda op: "/CPU:1", "/job:w/device:CPU:1"),
])
def test_device_functions_nested_with_strings(outer, inner, expected):
    with tf.device(outer):
        with tf.device(inner):
            with tf.device("/cpu:2" if inner is None else ""):
                device = tf.constant(1).op.device
    assert device == expected


def test_device_spec_objects_are_accepted():
    from sessionlib.framework.device_spec import DeviceSpec

    with tf.device(DeviceSpec(device_type="GPU", device_index=1)):
        assert tf.constant(1).op.device == "/device:GPU:1"


def test_bad_device_specs():
    with pytest.raises(ValueError):
        with tf.device("/foo:1"):
            pass
    with pytest.raises(TypeError):
        with tf.device(3):
            pass


def test_tensor_device_is_its_op_device():
    with tf.device("/cpu:0"):
        t = tf.placeholder(tf.float32)
    assert t.device == t.op.device == "/device:CPU:0"


# ---- default graph ----------------------------------------------------------------------

def test_as_default_nests_and_restores():
    base = tf.get_default_graph()
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default() as entered:
        assert entered is g1
        assert tf.get_default_graph() is g1
        with g2.as_default():
            assert tf.get_default_graph() is g2
        assert tf.get_default_graph() is g1
    assert tf.get_default_graph() is base


def test_reset_default_graph_replaces_the_base_graph():
    before = tf.get_default_graph()
    tf.constant(1)
    tf.reset_default_graph()
    after = tf.get_default_graph()
    assert after is not before
    assert after.get_operations() == []


def test_reset_default_graph_inside_as_default_is_an_assertion_error():
    with tf.Graph().as_default():
        with pytest.raises(AssertionError):
            tf.reset_default_graph()


def test_each_thread_has_its_own_default_graph():
    graph = tf.Graph()
    results = {}

    def probe():
        results["default"] = tf.get_default_graph()
        results["stable"] = tf.get_default_graph() is results["default"]
        tf.constant(1, name="thread_const")
        results["ops"] = [op.name for op in tf.get_default_graph().get_operations()]

    with graph.as_default():
        worker = threading.Thread(target=probe)
        worker.start()
        worker.join()
    assert results["default"] is not graph
    assert results["default"] is not tf.get_default_graph()
    assert results["stable"]
    assert results["ops"] == ["thread_const"]
    assert tf.get_default_graph().get_operations() == []


# ---- finalize and version ---------------------------------------------------------------

def test_finalize():
    graph = tf.Graph()
    assert not graph.finalized
    with graph.as_default():
        tf.constant(1)
    graph.finalize()
    assert graph.finalized
    with graph.as_default():
        with pytest.raises(RuntimeError, match="finalized"):
            tf.constant(2)
    assert len(graph.get_operations()) == 1


def test_version_grows_with_each_op():
    graph = tf.Graph()
    assert graph.version == 0
    with graph.as_default():
        tf.constant(1)
        assert graph.version == 1
        tf.constant(2)
    assert graph.version == 2


# ---- lookups ----------------------------------------------------------------------------

def test_lookups_by_name():
    const = tf.constant(1, name="c")
    graph = tf.get_default_graph()
    assert graph.get_operation_by_name("c") is const.op
    assert graph.get_tensor_by_name("c:0") is const
    assert graph.as_graph_element("c") is const.op
    assert graph.as_graph_element("c:0") is const
    assert graph.as_graph_element(b"c:0") is const
    assert graph.get_operations() == [const.op]


@pytest.mark.parametrize("method, name, error", [
    ("get_operation_by_name", "nope", KeyError),
    ("get_operation_by_name", "c:0", ValueError),
    ("get_operation_by_name", 1, TypeError),
    ("get_tensor_by_name", "nope:0", KeyError),
    ("get_tensor_by_name", "c:1", KeyError),
    ("get_tensor_by_name", "c", ValueError),
    ("get_tensor_by_name", "c:x", ValueError),
    ("get_tensor_by_name", 1, TypeError),
])
def test_lookup_errors(method, name, error):
    tf.constant(1, name="c")
    with pytest.raises(error):
        getattr(tf.get_default_graph(), method)(name)


def test_as_graph_element_of_another_graph_is_a_value_error():
    other = tf.Graph()
    with other.as_default():
        x = tf.constant(1)
    with pytest.raises(ValueError):
        tf.get_default_graph().as_graph_element(x)
    with pytest.raises(TypeError):
        tf.get_default_graph().as_graph_element(1.5)


# ---- Operation and Tensor ---------------------------------------------------------------

def test_operation_api():
    a = tf.constant(1.0, name="a")
    with tf.control_dependencies([tf.no_op(name="n")]):
        b = tf.identity(a, name="b")
    op = b.op
    assert op.name == "b"
    assert op.type == "Identity"
    assert op.inputs == [a]
    assert op.outputs == [b]
    assert [c.name for c in op.control_inputs] == ["n"]
    assert op.device == ""
    assert op.graph is tf.get_default_graph()
    assert op.get_attr("T") is tf.float32
    node = op.node_def
    assert node.name == "b" and node.op == "Identity"
    assert list(node.input) == ["a", "^n"]
    assert node.attr["T"].type == tf.float32.as_datatype_enum
    with pytest.raises(ValueError):
        op.get_attr("nope")
    assert tf.no_op().outputs == []


def test_tensor_api():
    with tf.device("/cpu:0"):
        p = tf.placeholder(tf.float32, [2, None], name="p")
    assert p.name == "p:0"
    assert p.op.name == "p"
    assert p.dtype is tf.float32
    assert p.shape == tf.TensorShape([2, None])
    assert p.get_shape().as_list() == [2, None]
    assert p.graph is tf.get_default_graph()
    assert p.device == "/device:CPU:0"
    assert p.value_index == 0
    assert str(p) == 'Tensor("p:0", shape=(2, None), dtype=float32, device=/device:CPU:0)'
    assert str(tf.placeholder(tf.int32, name="u")) == 'Tensor("u:0", dtype=int32)'
    assert repr(tf.constant(1.0, name="k")) == "<sessionlib.Tensor 'k:0' shape=() dtype=float32>"


def test_tensor_identity_semantics():
    a = tf.constant(1.0)
    b = tf.constant(1.0)
    assert a == a and a != b
    assert {a: 1, b: 2}[a] == 1
    with pytest.raises(TypeError):
        bool(a)


def test_set_shape_narrows_and_checks():
    p = tf.placeholder(tf.float32, [None, 3])
    p.set_shape([2, None])
    assert p.shape.as_list() == [2, 3]
    with pytest.raises(ValueError):
        p.set_shape([4, 3])


def test_consumers():
    a = tf.constant(1.0, name="a")
    b = tf.identity(a, name="b")
    c = tf.identity(a, name="c")
    assert a.consumers() == [b.op, c.op]


def test_inputs_from_another_graph_are_rejected():
    other = tf.Graph()
    with other.as_default():
        x = tf.constant(1.0)
    with pytest.raises(ValueError):
        tf.get_default_graph().create_op("Identity", [x])


def test_collections():
    graph = tf.get_default_graph()
    a = tf.constant(1.0, name="scope/a")
    b = tf.constant(1.0, name="b")
    graph.add_to_collection("things", a)
    graph.add_to_collections(["things", "more"], b)
    assert graph.get_collection("things") == [a, b]
    assert graph.get_collection("things", scope="scope") == [a]
    assert sorted(graph.get_all_collection_keys()) == ["more", "things"]
    graph.get_collection_ref("more").append(a)
    assert graph.get_collection("more") == [b, a]
    graph.clear_collection("more")
    assert graph.get_collection("more") == []


def test_convert_to_tensor():
    t = tf.convert_to_tensor([1.0, 2.0], name="v")
    assert t.op.type == "Const" and t.op.name == "v"
    assert t.dtype is tf.float32
    assert np.array_equal(t.op.get_attr("value"), [1.0, 2.0])
    assert tf.convert_to_tensor(t) is t
    with pytest.raises(ValueError):
        tf.convert_to_tensor(t, dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.convert_to_tensor(tf.no_op())


def test_building_from_many_threads_gives_unique_names():
    graph = tf.Graph()

    def build():
        with graph.as_default():
            for _ in range(200):
                tf.constant(1, name="c")

    workers = [threading.Thread(target=build) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    names = [op.name for op in graph.get_operations()]
    assert len(names) == 800
    assert len(set(names)) == 800
    assert graph.version == 800


def test_graph_keys_constants():
    assert graph_lib.GraphKeys.GLOBAL_VARIABLES == "variables"
    assert tf.GraphKeys.TRAINABLE_VARIABLES == "trainable_variables"
