"""``tf.saved_model.main_op``: the usual main op of a SavedModel."""

from sessionlib.framework import graph as graph_lib
from sessionlib.ops import control_flow_ops, variables

__all__ = ["main_op", "main_op_with_restore"]


def main_op():
    """An op initializing the global and local variables and the tables (TF's default main
    op for a SavedModel).

    Returns:
      The grouped Operation.
    """
    graph = graph_lib.get_default_graph()
    # The table initializers by their collection: tf.tables_initializer groups the same ops.
    tables = graph.get_collection(graph_lib.GraphKeys.TABLE_INITIALIZERS)
    return control_flow_ops.group(variables.global_variables_initializer(),
                                  variables.local_variables_initializer(),
                                  control_flow_ops.group(*tables, name="init_all_tables"))


def main_op_with_restore(restore_op_name):
    """`main_op`, then the restore op named `restore_op_name`.

    Args:
      restore_op_name: the name (or the Operation) of a Saver's restore op.

    Returns:
      The grouped Operation.
    """
    graph = graph_lib.get_default_graph()
    with graph.control_dependencies([main_op()]):
        restore = (graph.as_graph_element(restore_op_name, allow_tensor=False)
                   if isinstance(restore_op_name, str) else restore_op_name)
        return control_flow_ops.group(restore)
