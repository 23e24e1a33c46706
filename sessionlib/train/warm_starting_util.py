"""``tf.train.warm_start``: initialise a new model's variables from an older checkpoint.

Warm-starting selects variables (a regex over the trainable ones, regex scopes over the
global ones, or a list of Variables), optionally renames them to the checkpoint's names, and
hands them to `init_from_checkpoint`, which replaces their initializers by checkpoint reads:
running the usual initializer then loads the old values. Call it before the session runs the
initializers, as in TF.

A `VocabInfo` remaps the rows (or columns) of a 2-D variable, an embedding say, from the old
vocabulary to the new one: the entry of each new token comes from the old token's row, and
tokens the old vocabulary lacks, and the out-of-vocabulary buckets, get the backup initializer's
values (zeros by default). The vocabulary files (one token a line) are read when `warm_start`
is called and the mapping is built into the graph as constant indices; the checkpoint itself
is read when the initializer runs, as in TF. Differences from TF: the backup initializer is
called with the variable's whole shape (TF: a 1-D shape, the number of missing values), so
random backups are drawn differently, and a new vocabulary shorter than `new_vocab_size`
raises ValueError in `warm_start` (TF: InvalidArgumentError when the initializer runs).

Not supported: object-based (TF 2) checkpoints, and partitioned variables as one whole (each
part is looked up by its own name).
"""

import collections
import logging

import numpy as np

from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.ops import array_ops, init_ops, math_ops
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


def _vocabulary(path, size):
    """The first `size` tokens (lines) of vocabulary file `path`; all of them if `size` < 0.

    Raises:
      ValueError: if the file has fewer than `size` lines.
    """
    with open(path, encoding="utf-8") as vocab_file:
        tokens = vocab_file.read().split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    if size < 0:
        return tokens
    if len(tokens) < size:
        raise ValueError(f"Vocabulary file {path} has {len(tokens)} entries, fewer than the "
                         f"{size} asked for")
    return tokens[:size]


def _warm_start_with_vocab(variable, ckpt_to_initialize_from, prev_name, vocab_info):
    """Makes 2-D `variable` initialise from checkpoint tensor `prev_name`, its rows
    (``axis=0``) or columns (``axis=1``) remapped from the old vocabulary to the new one."""
    reader = checkpoint_utils.load_checkpoint(ckpt_to_initialize_from)
    prefix = checkpoint_utils._prefix_of(ckpt_to_initialize_from)
    if not reader.has_tensor(prev_name):
        raise ValueError(f"Tensor {prev_name} is not found in {prefix} checkpoint")
    old_shape = reader.get_variable_to_shape_map()[prev_name]
    shape = variable.shape
    if shape.rank != 2 or not shape.is_fully_defined():
        raise ValueError(f"Vocabulary remapping needs a 2-D variable of known shape; "
                         f"{variable.op.name} has shape {shape}")
    shape = shape.as_list()
    axis, other = vocab_info.axis, 1 - vocab_info.axis
    new_tokens = _vocabulary(vocab_info.new_vocab, vocab_info.new_vocab_size)
    old_tokens = _vocabulary(vocab_info.old_vocab, vocab_info.old_vocab_size)
    old_index = {}
    for index, token in enumerate(old_tokens):
        old_index.setdefault(token, index)
    sources = np.array([old_index.get(token, -1) for token in new_tokens]
                       + [-1] * vocab_info.num_oov_buckets, dtype=np.int64)
    if len(old_shape) != 2 or shape[axis] != len(sources) or shape[other] != old_shape[other]:
        raise ValueError(f"Shape of variable {variable.op.name} ({shape}) doesn't match the "
                         f"remapped shape of tensor {prev_name} ({old_shape}) with "
                         f"{len(new_tokens)} vocabulary entries and "
                         f"{vocab_info.num_oov_buckets} OOV buckets along axis {axis}")
    if sources.size and sources.max() >= old_shape[axis]:
        raise ValueError(f"The old vocabulary {vocab_info.old_vocab} has more entries than "
                         f"tensor {prev_name} has along axis {axis} ({old_shape})")
    found = sources >= 0
    found_mask = np.broadcast_to(found[:, None] if axis == 0 else found[None, :], shape)
    backup = vocab_info.backup_initializer or init_ops.zeros_initializer()

    def remap(old_value):
        # Missing entries gather entry 0 and are then replaced by the backup values.
        gathered = array_ops.gather(old_value, np.where(found, sources, 0), axis=axis)
        backup_value = math_ops.cast(backup(shape), variable.dtype.base_dtype)
        return array_ops.where(array_ops.constant(np.ascontiguousarray(found_mask)), gathered,
                               backup_value)

    checkpoint_utils._set_initializer_from_checkpoint(variable, prefix, prev_name, remap)


def warm_start(ckpt_to_initialize_from, vars_to_warm_start=".*", var_name_to_vocab_info=None,
               var_name_to_prev_var_name=None):
    """Makes the selected variables of the default graph initialise from a checkpoint.

    Args:
      ckpt_to_initialize_from: a checkpoint prefix or a directory (its latest checkpoint).
      vars_to_warm_start: a regex over the trainable variables' names (``'.*'``: all of
        them), a list of regex scopes over the global variables, a list of Variables, or None
        (only the variables of `var_name_to_vocab_info`, so none here).
      var_name_to_vocab_info: ``{variable name: VocabInfo}`` of 2-D variables whose rows (or
        columns) follow a vocabulary; these are warm-started whatever `vars_to_warm_start`
        says, if selected or trainable.
      var_name_to_prev_var_name: ``{variable name: name in the checkpoint}`` for renamed
        variables.

    Raises:
      ValueError: for a bad `vars_to_warm_start`, a name of `var_name_to_prev_var_name` or
        `var_name_to_vocab_info` that selects no variable, a variable the checkpoint lacks or
        holds in another shape, or a vocabulary that does not fit its variable.
      OSError: for a vocabulary file that cannot be read.
    """
    prev_names = dict(var_name_to_prev_var_name or {})
    vocab_infos = dict(var_name_to_vocab_info or {})
    selected = _selected_variables(vars_to_warm_start)
    assignment = {}
    used_prev_names, used_vocab_infos = set(), set()
    count = 0
    for var_name, variable in selected.items():
        prev_name = prev_names.get(var_name)
        if prev_name:
            used_prev_names.add(var_name)
        vocab_info = vocab_infos.get(var_name)
        if vocab_info:
            used_vocab_infos.add(var_name)
            count += 1
            _warm_start_with_vocab(variable, ckpt_to_initialize_from, prev_name or var_name,
                                   vocab_info)
            continue
        if not vars_to_warm_start:
            continue
        count += 1
        source = prev_name or var_name
        if source in assignment:
            # One checkpoint tensor initialises two variables: one mapping cannot say that,
            # so flush the mapping so far first.
            checkpoint_utils.init_from_checkpoint(ckpt_to_initialize_from, assignment)
            assignment = {}
        assignment[source] = variable
    if assignment:
        checkpoint_utils.init_from_checkpoint(ckpt_to_initialize_from, assignment)
    logging.info("Warm-started %d variables.", count)
    for what, given, used in (("var_name_to_prev_var_name", prev_names, used_prev_names),
                              ("var_name_to_vocab_info", vocab_infos, used_vocab_infos)):
        unused = set(given) - used
        if unused:
            raise ValueError(f"You provided the following variables in {what} that were not "
                             f"used: {unused}.  Perhaps you misspelled them?  Here is the "
                             f"list of viable variable names: {list(selected)}")
