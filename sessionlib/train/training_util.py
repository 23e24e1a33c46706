"""The global step: ``tf.train.get_global_step``, ``create_global_step`` and
``get_or_create_global_step``.

The global step is an int64 scalar variable named ``global_step``, kept in the graph's
``GLOBAL_STEP`` collection (and ``GLOBAL_VARIABLES``), not trainable, as in TF. Optimizers
increment it after each step when it is passed to ``minimize(global_step=...)``.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys

__all__ = ["get_global_step", "create_global_step", "get_or_create_global_step",
           "assert_global_step", "global_step"]


def global_step(sess, global_step_tensor):
    """The value of the global step, as a Python int (``tf.train.global_step``).

    Args:
      sess: the Session to run it in.
      global_step_tensor: the global step Variable or Tensor.

    Returns:
      An int.
    """
    return int(sess.run(global_step_tensor))


def assert_global_step(global_step_tensor):
    """Raises TypeError unless `global_step_tensor` is an integer scalar Variable or Tensor."""
    from sessionlib.ops import variables

    if not isinstance(global_step_tensor, (variables.Variable, graph_lib.Tensor)):
        raise TypeError(f"Existing \"global_step\" must be a Variable or Tensor: "
                        f"{global_step_tensor}.")
    if not global_step_tensor.dtype.is_integer:
        raise TypeError(f"Existing \"global_step\" does not have integer type: "
                        f"{global_step_tensor.dtype}")
    shape = global_step_tensor.shape
    if shape.rank is not None and shape.rank != 0:
        raise TypeError(f"Existing \"global_step\" is not scalar: {shape}")


def get_global_step(graph=None):
    """The global step variable of `graph` (default: the default graph), or None.

    It is the one variable in the ``GLOBAL_STEP`` collection or, with none there, the tensor
    named ``global_step:0``.

    Raises:
      TypeError: if the global step is not an integer scalar.
    """
    graph = graph or graph_lib.get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) == 1:
        step = found[0]
    elif not found:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except (KeyError, ValueError):
            return None
    else:
        import logging

        logging.error("Multiple tensors in global_step collection.")
        return None
    assert_global_step(step)
    return step


def create_global_step(graph=None):
    """Creates the global step variable of `graph`: int64, scalar, starting at 0.

    Returns:
      The new Variable, named ``global_step``.

    Raises:
      ValueError: if the graph already has a global step.
    """
    from sessionlib.ops import variables

    graph = graph or graph_lib.get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default(), graph.control_dependencies(None), graph.name_scope(None):
        return variables.Variable(
            0, dtype=dtypes.int64, trainable=False, name="global_step",
            collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    """The global step of `graph`, created first when there is none.

    Raises:
      TypeError: if an existing global step is not an integer scalar.
    """
    graph = graph or graph_lib.get_default_graph()
    step = get_global_step(graph)
    if step is None:
        step = create_global_step(graph)
    return step


# ---- the global step's read tensor (hooks share it, as TF's do) ----------------------------

GLOBAL_STEP_READ_KEY = "global_step_read_op_cache"


def _get_global_step_read(graph=None):
    """The cached read tensor of the global step of `graph`, or None.

    Raises:
      RuntimeError: if the cache collection holds more than one tensor.
    """
    graph = graph or graph_lib.get_default_graph()
    found = graph.get_collection(GLOBAL_STEP_READ_KEY)
    if len(found) > 1:
        raise RuntimeError(f"There are multiple items in collection {GLOBAL_STEP_READ_KEY}. "
                           f"There should be only one.")
    return found[0] if found else None


def _get_or_create_global_step_read(graph=None):
    """A tensor holding a copy of the global step (``global_step/add:0``), made once per graph.

    Hooks fetch it in every run: a copy (``+ 0``) rather than the variable, so a fetch never
    aliases the variable that the train op updates in the same run. TF wraps the read in a
    ``cond`` on ``is_variable_initialized``; sessionlib has no ``cond``, and the hooks only
    fetch it after the monitored session initialized the variables.

    Returns:
      The tensor, or None when the graph has no global step.
    """
    graph = graph or graph_lib.get_default_graph()
    read = _get_global_step_read(graph)
    if read is not None:
        return read
    step = get_global_step(graph)
    if step is None:
        return None
    from sessionlib.ops import variables

    with graph.as_default(), graph.control_dependencies(None), graph.name_scope(None):
        with graph.name_scope(step.op.name + "/"):
            value = step.read_value() if isinstance(step, variables.Variable) else step
            read = value + 0
    graph.add_to_collection(GLOBAL_STEP_READ_KEY, read)
    return read
