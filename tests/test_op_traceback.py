"""`Operation.traceback` and `Operation._defined_at()`: where the user's code built each op."""

import os
import sys
import weakref

import sessionlib as tf

_PACKAGE_DIR = os.path.dirname(os.path.abspath(tf.__file__)) + os.sep


def _here():
    """(filename, lineno, function name) of the caller's current line."""
    frame = sys._getframe(1)
    return frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name


def test_the_last_frame_is_the_users_line():
    a = tf.constant(1.0)
    where, total = _here(), tf.add(a, 2.0, name="total")
    last = total.op.traceback[-1]
    assert tuple(last[:3]) == where
    filename, lineno, name, line = last
    assert (last.filename, last.lineno, last.name, last.line) == (filename, lineno, name, line)
    assert "tf.add(a, 2.0" in line


def test_the_innermost_user_frame_is_the_one_kept():
    def build():
        return _here(), tf.constant(3.0)

    where_built, constant = build()
    frames = constant.op.traceback
    assert [tuple(frame[:3]) for frame in frames] == [where_built]


def test_sessionlib_frames_are_left_out():
    x = tf.placeholder(tf.float32, [2])
    # An operator, a Variable and tf.tuple build their ops several calls deep in sessionlib.
    made = [(_here(), (x * 2.0).op)]
    made.append((_here(), tf.Variable([1.0, 2.0]).initializer))
    made.append((_here(), tf.tuple([x])[0].op))
    for where, op in made:
        frames = op.traceback
        assert frames, op.name
        assert not any(frame.filename.startswith(_PACKAGE_DIR) for frame in frames), op.name
        assert tuple(frames[-1][:3]) == where, op.name


def test_defined_at_names_the_users_file_and_line():
    where, op = _here(), tf.no_op(name="marker")
    assert op._defined_at() == f"{where[0]}:{where[1]}"


def test_imported_ops_point_at_the_import():
    with tf.Graph().as_default():
        tf.identity(tf.constant([1.0, 2.0], name="a"), name="b")
        graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default() as graph:
        where, _ = _here(), tf.import_graph_def(graph_def, name="imported")
        for op in graph.get_operations():
            assert tuple(op.traceback[-1][:3]) == where, op.name
            assert op._defined_at() == f"{where[0]}:{where[1]}"


def test_recording_keeps_no_frame_alive():
    class Marker:
        pass

    def build():
        marker = Marker()
        tf.constant(1.0)
        return weakref.ref(marker)

    # Had an op kept the frame of `build`, its local `marker` would still be alive here.
    assert build()() is None


def test_code_without_source_gives_no_line():
    namespace = {"tf": tf}
    exec("op = tf.no_op()", namespace)
    assert namespace["op"].traceback == [("<string>", 1, "<module>", None)]
    assert namespace["op"]._defined_at() == "<string>:1"
