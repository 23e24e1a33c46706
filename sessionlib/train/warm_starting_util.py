"""``tf.train.warm_start``: initialise a new model's variables from an older checkpoint.

Warm-starting selects variables (a regex over the trainable ones, regex scopes over the
global ones, or a list of Variables), optionally renames them to the checkpoint's names, and
hands them to `init_from_checkpoint`, which replaces their initializers by checkpoint reads:
running the usual initializer then loads the old values. Call it before the session runs the
initializers, as in TF.

Not supported: vocabulary remapping (a `VocabInfo` in `var_name_to_vocab_info` raises
NotImplementedError; TF needs its ``LoadAndRemapMatrix`` op for it), object-based (TF 2)
checkpoints, and partitioned variables as one whole (each part is looked up by its own name).
"""

import collections
import logging

from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.ops import variables as variables_lib
from sessionlib.train import checkpoint_utils

__all__ = ["VocabInfo", "warm_start"]


class VocabInfo(collections.namedtuple("VocabInfo", [
        "new_vocab", "new_vocab_size", "num_oov_buckets", "old_vocab", "old_vocab_size",
        "backup_initializer", "axis"])):
    """How to remap the rows (axis 0) or columns (axis 1) of a variable between vocabularies.

    Args:
      new_vocab: the path of the new vocabulary file.
      new_vocab_size: how many entries of it are used.
      num_oov_buckets: the out-of-vocabulary buckets after the vocabulary.
      old_vocab: the path of the checkpoint's vocabulary file.
      old_vocab_size: how many entries of it were used (-1: all).
      backup_initializer: the initializer of the entries without an old value.
      axis: 0 (rows) or 1 (columns).

    Raises:
      ValueError: for another axis.
    """

    __slots__ = ()

    def __new__(cls, new_vocab, new_vocab_size, num_oov_buckets, old_vocab, old_vocab_size=-1,
                backup_initializer=None, axis=0):
        if axis not in (0, 1):
            raise ValueError(f"The only supported values for the axis argument are 0 and 1.  "
                             f"Provided axis: {axis}")
        return super().__new__(cls, new_vocab, new_vocab_size, num_oov_buckets, old_vocab,
                               old_vocab_size, backup_initializer, axis)


def _selected_variables(vars_to_warm_start):
    """``{variable name: Variable}`` of the variables `vars_to_warm_start` selects."""
    graph = graph_lib.get_default_graph()
    if vars_to_warm_start is None or isinstance(vars_to_warm_start, str):
        # A regex (and None, which matches everything) looks at trainable variables only.
        found = graph.get_collection(GraphKeys.TRAINABLE_VARIABLES, vars_to_warm_start)
    elif isinstance(vars_to_warm_start, (list, tuple)):
        if all(isinstance(item, str) for item in vars_to_warm_start):
            found = []
            for scope in vars_to_warm_start:
                found += graph.get_collection(GraphKeys.GLOBAL_VARIABLES, scope)
        elif all(isinstance(item, variables_lib.Variable) for item in vars_to_warm_start):
            found = list(vars_to_warm_start)
        else:
            raise ValueError(f"If `vars_to_warm_start` is a list, it must be all `Variable` "
                             f"or all `str`.  Given types are "
                             f"{[type(item) for item in vars_to_warm_start]}")
    else:
        raise ValueError(f"`vars_to_warm_start must be a `list` or `str`.  Given type is "
                         f"{type(vars_to_warm_start)}")
    selected = {}
    for variable in found:
        selected.setdefault(variable.op.name, variable)
    return selected


def warm_start(ckpt_to_initialize_from, vars_to_warm_start=".*", var_name_to_vocab_info=None,
               var_name_to_prev_var_name=None):
    """Makes the selected variables of the default graph initialise from a checkpoint.

    Args:
      ckpt_to_initialize_from: a checkpoint prefix or a directory (its latest checkpoint).
      vars_to_warm_start: a regex over the trainable variables' names (``'.*'``: all of
        them), a list of regex scopes over the global variables, a list of Variables, or None
        (only the variables of `var_name_to_vocab_info`, so none here).
      var_name_to_vocab_info: ``{variable name: VocabInfo}``; vocabulary remapping is not
        supported, so it must be empty.
      var_name_to_prev_var_name: ``{variable name: name in the checkpoint}`` for renamed
        variables.

    Raises:
      NotImplementedError: if `var_name_to_vocab_info` is not empty.
      ValueError: for a bad `vars_to_warm_start`, a name of `var_name_to_prev_var_name` that
        selects no variable, or a variable the checkpoint lacks or holds in another shape.
    """
    if var_name_to_vocab_info:
        raise NotImplementedError(
            "warm_start with var_name_to_vocab_info (vocabulary remapping) is not supported; "
            f"given VocabInfo for {sorted(var_name_to_vocab_info)}")
    prev_names = dict(var_name_to_prev_var_name or {})
    selected = _selected_variables(vars_to_warm_start)
    assignment = {}
    used_prev_names = set()
    for var_name, variable in selected.items():
        prev_name = prev_names.get(var_name)
        if prev_name:
            used_prev_names.add(var_name)
        if not vars_to_warm_start:
            continue
        source = prev_name or var_name
        if source in assignment:
            # One checkpoint tensor initialises two variables: one mapping cannot say that,
            # so flush the mapping so far first.
            checkpoint_utils.init_from_checkpoint(ckpt_to_initialize_from, assignment)
            assignment = {}
        assignment[source] = variable
    if assignment:
        checkpoint_utils.init_from_checkpoint(ckpt_to_initialize_from, assignment)
    logging.info("Warm-started %d variables.", len(selected) if vars_to_warm_start else 0)
    unused = set(prev_names) - used_prev_names
    if unused:
        raise ValueError(f"You provided the following variables in var_name_to_prev_var_name "
                         f"that were not used: {unused}.  Perhaps you misspelled them?  Here "
                         f"is the list of viable variable names: {list(selected)}")
