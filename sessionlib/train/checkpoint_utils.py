"""Reading checkpoints outside a session, and initialising variables from one: TF's
``load_checkpoint``, ``list_variables``, ``load_variable`` and ``init_from_checkpoint``; and
``checkpoints_iterator``, which waits for each new checkpoint of a directory (evaluation loops).

`load_checkpoint` returns a `CheckpointReader` over the V2 format of
``framework/tensor_bundle.py`` (plain file reads on the client: these inspect a file, they
touch no variable). `init_from_checkpoint` builds graph ops instead, as TF's does: it replaces
each mapped variable's initializer by a ``RestoreV2`` read on the variable's device, so running
the usual initializer loads the checkpoint's value.

Each function accepts a checkpoint prefix or a directory (whose ``checkpoint`` state file names
the latest prefix).
"""

import logging
import os
import time

from sessionlib.framework import tensor_bundle
from sessionlib.ops import array_ops, checkpoint_ops
from sessionlib.ops import variables as variables_lib
from sessionlib.train import checkpoint_management

__all__ = ["CheckpointReader", "NewCheckpointReader", "load_checkpoint", "list_variables",
           "load_variable", "init_from_checkpoint", "checkpoints_iterator"]


def _prefix_of(ckpt_dir_or_file):
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = checkpoint_management.latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given "
                             f"directory {path}")
        return latest
    return path


class CheckpointReader:
    """Reads the tensors of one checkpoint (TF's ``CheckpointReader``/``NewCheckpointReader``).

    Args:
      prefix: the checkpoint prefix.

    Raises:
      NotFoundError: if there is no checkpoint with that prefix.
      DataLossError: if its index is truncated or corrupt.
    """

    def __init__(self, prefix):
        self._reader = tensor_bundle.BundleReader(prefix)

    def get_tensor(self, tensor_str):
        """The value of tensor `tensor_str`, a numpy array (bytes for a string scalar).

        Raises:
          NotFoundError: naming the tensor if the checkpoint lacks it.
        """
        value = self._reader.read(tensor_str)
        return value[()] if value.ndim == 0 and value.dtype == object else value

    def has_tensor(self, tensor_str):
        """Whether the checkpoint holds `tensor_str`."""
        return self._reader.has_tensor(tensor_str)

    def get_variable_to_shape_map(self):
        """``{name: shape as a list of ints}`` of every tensor."""
        return {name: self._reader.shape(name) for name in self._reader.names()}

    def get_variable_to_dtype_map(self):
        """``{name: DType}`` of every tensor."""
        return {name: self._reader.dtype(name) for name in self._reader.names()}

    def debug_string(self):
        """One line per tensor, ``name (dtype) [shape]``, as bytes."""
        lines = [f"{name} ({self._reader.dtype(name).name}) {self._reader.shape(name)}"
                 for name in self._reader.names()]
        return ("\n".join(lines) + "\n").encode()


def load_checkpoint(ckpt_dir_or_file):
    """A `CheckpointReader` for a checkpoint prefix or the latest one of a directory.

    Raises:
      ValueError: if a directory holds no checkpoint.
      NotFoundError: if the prefix names no checkpoint.
    """
    return CheckpointReader(_prefix_of(ckpt_dir_or_file))


def NewCheckpointReader(filepattern):  # noqa: N802 - TF's name
    """TF1's ``tf.train.NewCheckpointReader``: a `CheckpointReader` for a prefix."""
    return CheckpointReader(filepattern)


def list_variables(ckpt_dir_or_file):
    """``[(name, shape), ...]`` of the checkpoint's tensors, sorted by name."""
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return [(name, shapes[name]) for name in sorted(shapes)]


def load_variable(ckpt_dir_or_file, name):
    """The value of tensor `name` (a trailing ``':0'`` is ignored) in the checkpoint."""
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


def _scope_variables(scope):
    """The global variables whose op names start with `scope` + '/', keyed by the rest."""
    prefix = scope if scope.endswith("/") else scope + "/"
    return {variable.op.name[len(prefix):]: variable
            for variable in variables_lib.global_variables()
            if variable.op.name.startswith(prefix)}


def _find_variable(name):
    found = [variable for variable in variables_lib.global_variables()
             if variable.op.name == name]
    if not found:
        raise ValueError(f"Tensor {name} is not found in the graph's variables")
    return found[0]


def init_from_checkpoint(ckpt_dir_or_file, assignment_map):
    """Makes variables initialise from a checkpoint instead of their initial values.

    Args:
      ckpt_dir_or_file: a checkpoint prefix or a directory.
      assignment_map: ``{checkpoint name or scope: variable, variable name or scope}``, TF's
        forms: ``'a/b': 'x/y'`` (one tensor to one variable, or a scope to a scope when both
        end in '/'), ``'a/': 'x/'``, ``'/': 'x/'`` (the checkpoint's root), and a Variable as
        the value.

    Raises:
      ValueError: if a checkpoint tensor or a variable is missing, or their shapes differ.
    """
    reader = load_checkpoint(ckpt_dir_or_file)
    prefix = _prefix_of(ckpt_dir_or_file)
    shapes = reader.get_variable_to_shape_map()
    pairs = []
    for source, target in assignment_map.items():
        if isinstance(target, variables_lib.Variable):
            pairs.append((source, target))
        elif source.endswith("/") or source == "/":
            source_scope = "" if source == "/" else source
            for rest, variable in _scope_variables(target.rstrip("/")).items():
                pairs.append((source_scope + rest, variable))
        else:
            pairs.append((source, _find_variable(target)))
    for name, variable in pairs:
        if name not in shapes:
            raise ValueError(f"Tensor {name} is not found in {prefix} checkpoint "
                             f"{sorted(shapes)}")
        if not variable.shape.is_compatible_with(shapes[name]):
            raise ValueError(f"Shape of variable {variable.op.name} ({variable.shape}) doesn't "
                             f"match with shape of tensor {name} ({shapes[name]}) from "
                             f"checkpoint reader.")
        _set_initializer_from_checkpoint(variable, prefix, name)


def _set_initializer_from_checkpoint(variable, prefix, name, transform=None):
    """Makes `variable`'s initializer assign checkpoint tensor `name` (read when it runs).

    `transform`, when given, maps the read tensor to the initial value (built in the same
    scope and on the same device), e.g. to remap vocabulary rows.
    """
    graph = variable.graph
    with graph.control_dependencies(None), graph.name_scope(variable.op.name + "/"):
        with graph.device(variable.device or None):
            value, = checkpoint_ops.restore_v2(prefix, [name], [""], [variable.dtype],
                                               name="checkpoint_initializer")
            if transform is not None:
                value = transform(value)
            if variable.shape.is_fully_defined():
                value = array_ops.reshape(value, variable.shape.as_list())
        variable._initializer_op = variable._resource_op("AssignVariableOp", [value],
                                                         "Assign")
        variable._initial_value = value



def _wait_for_new_checkpoint(checkpoint_dir, last_checkpoint, seconds_to_sleep=1.0,
                             timeout=None):
    """The directory's latest checkpoint once it is not `last_checkpoint`; None on timeout.

    It polls every `seconds_to_sleep` seconds and gives up early when the next poll would
    come after the deadline, as TF does (so a timeout under one second never sleeps).
    """
    deadline = None if timeout is None else time.time() + timeout
    while True:
        latest = checkpoint_management.latest_checkpoint(checkpoint_dir)
        if latest is not None and latest != last_checkpoint:
            logging.info("Found new checkpoint at %s", latest)
            return latest
        if deadline is not None and time.time() + seconds_to_sleep > deadline:
            return None
        time.sleep(seconds_to_sleep)


def checkpoints_iterator(checkpoint_dir, min_interval_secs=0, timeout=None, timeout_fn=None):
    """Yields each new checkpoint prefix of `checkpoint_dir`, waiting for the next one.

    Args:
      checkpoint_dir: the directory whose ``checkpoint`` state file is polled (every second).
      min_interval_secs: the least time between two yields, in seconds.
      timeout: the most seconds to wait for a new checkpoint (None: forever).
      timeout_fn: called on each timeout; the iteration ends when it returns True (or when
        there is no `timeout_fn`) and waits again otherwise.

    Yields:
      Checkpoint prefixes (strings), each newer than the last.
    """
    last = None
    while True:
        found = _wait_for_new_checkpoint(checkpoint_dir, last, timeout=timeout)
        if found is None:
            if timeout_fn is None:
                logging.info("Timed-out waiting for a checkpoint.")
                return
            if timeout_fn():
                return
            continue
        started = time.time()
        last = found
        yield found
        remaining = started + min_interval_secs - time.time()
        if remaining > 0:
            time.sleep(remaining)
