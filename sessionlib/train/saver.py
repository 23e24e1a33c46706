"""``tf.train.Saver``: saves and restores variables as TF V2 checkpoints.

Design. As in TF, a Saver builds ops into the graph once and runs them through the session:
a string constant ``save/Const`` that `save` and `restore` feed with the checkpoint prefix, a
``SaveV2`` op whose inputs read the variables, and a ``RestoreV2`` op whose outputs are
assigned to them (``save/restore_all``). The names are TF's, and `saver_def` describes them as
TF's ``SaverDef`` does.

Devices. The variables are grouped by the device of their handle. With one group, one
``SaveV2``/``RestoreV2`` pair runs on that device. With several (a multi-device session), the
save is sharded automatically, as TF's ``sharded=True``: each device's ``SaveV2`` writes that
device's variables to ``<prefix>_temp_<uuid>/part-0000i-of-0000N`` from the device's own
worker, ``MergeV2Checkpoints`` (on the first group's device) renames the data files into place
and writes one index, and each device's ``RestoreV2`` reads only its own variables. No
variable's value travels through the client. ``sharded=True`` with one device writes one shard.
Variables on an emulated GPU are saved and restored by the CPU of their task, as TF's
``set_cpu0`` does: checkpoint IO has no GPU kernel.

Shapes. The restore passes each variable's full shape as TF's ``shape_and_slices`` spec
(``"2 3 -:-"``), so a checkpoint tensor of another shape fails with InvalidArgumentError; a
scalar variable (which the spec cannot express) is checked by reshaping to ``[]``. With
``reshape=True`` the spec is empty and the value is reshaped to the variable's shape.

Retention. `save` records the checkpoint in `last_checkpoints` and the directory's
``checkpoint`` state file (text proto) and deletes the files of checkpoints beyond
`max_to_keep`, except one every `keep_checkpoint_every_n_hours`.

Meta graphs. ``write_meta_graph=True`` writes ``<prefix>.meta`` through
``sessionlib.train.export_meta_graph`` (``train/meta_graph_io.py``), with this saver's
``SaverDef``. A Saver made from a ``SaverDef`` (``Saver(saver_def=...)``, as
``tf.train.import_meta_graph`` makes one) builds nothing: it runs the ops the proto names, in
the name scope `name` when given (the import scope). Savers in the ``savers`` collection are
written to a meta graph as ``SaverDef`` protos and rebuilt on import.
"""

import numbers
import os
import time
import uuid

from sessionlib import dtypes
from sessionlib.framework import device_spec
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import meta_graph
from sessionlib.ops import array_ops, checkpoint_ops, control_flow_ops
from sessionlib.ops import variables as variables_lib
from sessionlib.protos import saver_pb2
from sessionlib.train import checkpoint_management

__all__ = ["Saver"]

SaverDef = saver_pb2.SaverDef
_SAVERS_COLLECTION = "savers"


def _meta_graph_exporter():
    """``sessionlib.train.export_meta_graph`` when it exists, else None."""
    from sessionlib import train  # the package imports this module: import late

    return getattr(train, "export_meta_graph", None)


def _var_name(variable):
    return variable.op.name


def _variables_by_name(var_list):
    """Returns an ordered dict ``name -> Variable`` from a list or dict `var_list`."""
    if isinstance(var_list, dict):
        items = list(var_list.items())
    else:
        items = []
        for variable in var_list:
            if isinstance(variable, (list, tuple)):
                raise TypeError("var_list may not contain nested lists; pass a flat list")
            if not isinstance(variable, variables_lib.Variable):
                raise TypeError(f"Variable to save is not a Variable: {variable}")
            items.append((_var_name(variable), variable))
    by_name = {}
    for name, variable in items:
        if not isinstance(name, str):
            raise TypeError(f"A name in var_list must be a string, got {name!r}")
        if not isinstance(variable, variables_lib.Variable):
            raise TypeError(f"Variable to save is not a Variable: {variable}")
        if name in by_name:
            raise ValueError(f"At least two variables have the same name: {name}")
        by_name[name] = variable
    return by_name


def _scoped_saver_def(saver_def, scope):
    """A copy of `saver_def` with its names under name scope `scope`."""
    scoped = SaverDef()
    scoped.CopyFrom(saver_def)
    scoped.filename_tensor_name = meta_graph.prepend_name_scope(
        saver_def.filename_tensor_name, scope)
    scoped.save_tensor_name = meta_graph.prepend_name_scope(saver_def.save_tensor_name, scope)
    scoped.restore_op_name = meta_graph.prepend_name_scope(saver_def.restore_op_name, scope)
    return scoped


def _shape_spec(variable):
    """TF's ``"<full shape> <full slice>"`` spec of a variable, or "" when it cannot say."""
    shape = variable.shape
    if shape.ndims is None or shape.ndims == 0 or not shape.is_fully_defined():
        return ""
    dims = [int(dim) for dim in shape.as_list()]
    return " ".join(str(dim) for dim in dims) + " " + ":".join("-" for _ in dims)


def _save_device(device):
    """The device whose ``SaveV2``/``RestoreV2`` handle a variable on `device` (TF's
    ``set_cpu0``): the variable's own device when it is a CPU (each CPU worker writes its own
    variables), else the CPU:0 of its task, since checkpoint IO has no GPU kernel; the values
    of an emulated GPU's variables reach it through shared memory, never the client."""
    if not device:
        return ""
    spec = device_spec.DeviceSpec.from_string(device)
    if spec.device_type is None or spec.device_type.upper() == "CPU":
        return device
    return device_spec.DeviceSpec(job=spec.job, replica=spec.replica, task=spec.task,
                                  device_type="CPU", device_index=0).to_string()


class Saver:
    """Saves and restores variables (TF's ``tf.compat.v1.train.Saver``).

    Args:
      var_list: the variables to save: a list (saved under their op names) or a dict
        ``name -> Variable``; by default all global variables.
      reshape: restore a value of another shape but the same size by reshaping it.
      sharded: write one data shard per device (always done when the variables span
        several devices).
      max_to_keep: how many recent checkpoints to keep (None or 0: all).
      keep_checkpoint_every_n_hours: also keep one checkpoint every this many hours.
      name: the name scope of the saver's ops (default ``'save'``); with `saver_def`, the
        scope its names were imported under (they are prefixed with it, as in TF).
      restore_sequentially: accepted; restores of one device run as one op.
      saver_def: an existing ``SaverDef`` to use instead of building ops: the saver runs the
        ops it names (``tf.train.import_meta_graph`` makes its Saver so).
      builder: must be None (TF's custom builders are not supported).
      defer_build: build the ops only when `build` is called.
      allow_empty: allow saving nothing (`save` then returns None).
      write_version: must be ``SaverDef.V2``.
      pad_step_number: write the global step with 8 digits (``model-00000007``).
      save_relative_paths: write relative paths in the ``checkpoint`` state file.
      filename: the default prefix when `save`/`restore` get none through the graph.

    Raises:
      ValueError: if there is nothing to save and `allow_empty` is False, or two variables
        share a name.
      TypeError: if `var_list` holds something other than variables.
    """

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=SaverDef.V2, pad_step_number=False, save_relative_paths=False,
                 filename=None):
        if builder is not None:
            raise NotImplementedError("Saver(builder=...) is not supported")
        if write_version != SaverDef.V2:
            raise NotImplementedError("Only V2 checkpoints (write_version=SaverDef.V2) are "
                                      "supported")
        if defer_build and var_list:
            raise ValueError("If `var_list` is provided then build cannot be deferred. Either "
                             "set defer_build=False or var_list=None.")
        self._var_list = var_list
        self._reshape = reshape
        self._sharded = sharded
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._name = name
        self._restore_sequentially = restore_sequentially
        self.saver_def = saver_def
        self._allow_empty = allow_empty
        self._is_built = False
        self._is_empty = None
        self._write_version = write_version
        self._pad_step_number = pad_step_number
        self._filename = filename
        self._save_relative_paths = save_relative_paths
        self._last_checkpoints = []
        self._checkpoints_to_be_deleted = []
        self._next_checkpoint_time = time.time() + keep_checkpoint_every_n_hours * 3600
        self._last_preserved_timestamp = None
        self._graph = None
        if saver_def is not None:
            if name:
                # `name` is the import scope of the ops the SaverDef names (TF's overloading).
                self.saver_def = _scoped_saver_def(saver_def, name)
            self._check_saver_def()
            self._is_built = True
            self._is_empty = False
            self._graph = graph_lib.get_default_graph()
        elif not defer_build:
            self.build()

    # ---- building ---------------------------------------------------------------------------

    def build(self):
        """Builds the save and restore ops (once); `defer_build=True` leaves this to you."""
        if self._is_built:
            return
        self._is_built = True
        graph = graph_lib.get_default_graph()
        self._graph = graph
        var_list = self._var_list
        if var_list is None:
            var_list = variables_lib.global_variables()
        by_name = _variables_by_name(var_list)
        if not by_name:
            self._is_empty = True
            if self._allow_empty:
                return
            raise ValueError("No variables to save")
        self._is_empty = False
        # Group by the device that saves them, keeping the first-seen order of devices and of
        # variables.
        groups = {}
        for name, variable in by_name.items():
            groups.setdefault(_save_device(variable.device), []).append((name, variable))
        sharded = self._sharded or len(groups) > 1
        with graph.control_dependencies(None), graph.name_scope(self._name or "save"):
            filename = array_ops.constant(self._filename or "model", dtype=dtypes.string,
                                          name="Const")
            if sharded:
                save_tensor = self._build_sharded_save(graph, filename, groups)
            else:
                save_tensor = self._build_save(graph, filename, groups)
            restores = [self._build_restore(graph, filename, device, items)
                        for device, items in groups.items()]
            restore_op = control_flow_ops.group(*restores, name="restore_all")
        self.saver_def = SaverDef(filename_tensor_name=filename.name,
                                  save_tensor_name=save_tensor.name,
                                  restore_op_name=restore_op.name,
                                  max_to_keep=self._max_to_keep or 0, sharded=sharded,
                                  keep_checkpoint_every_n_hours=(
                                      self._keep_checkpoint_every_n_hours),
                                  version=self._write_version)

    def _save_inputs(self, items):
        names = [name for name, _ in items]
        # A plain read on the variable's device (create_resource_op places it there).
        tensors = [variable.value() for _, variable in items]
        return names, [""] * len(items), tensors

    def _build_save(self, graph, filename, groups):
        (device, items), = groups.items()
        names, specs, tensors = self._save_inputs(items)
        with graph.device(device or None):
            save = checkpoint_ops.save_v2(filename, names, specs, tensors, name="SaveV2")
        with graph.control_dependencies([save]):
            return array_ops.identity(filename, name="control_dependency")

    def _build_sharded_save(self, graph, filename, groups):
        # TF's _AddShardedSaveOpsForV2: shards under a unique temporary directory, merged.
        temp_prefix = checkpoint_ops.string_join(
            [filename, f"_temp_{uuid.uuid4().hex}/part"], name="StringJoin")
        shard_prefixes, saves = [], []
        num_shards = len(groups)
        for shard, (device, items) in enumerate(groups.items()):
            names, specs, tensors = self._save_inputs(items)
            with graph.device(device or None):
                shard_prefix = checkpoint_ops.sharded_filename(temp_prefix, shard, num_shards,
                                                               name="ShardedFilename")
                saves.append(checkpoint_ops.save_v2(shard_prefix, names, specs, tensors,
                                                    name="SaveV2"))
            shard_prefixes.append(shard_prefix)
        first_device = next(iter(groups)) or None
        with graph.control_dependencies(saves), graph.device(first_device):
            merge = checkpoint_ops.merge_v2_checkpoints(
                array_ops.stack(shard_prefixes, name="checkpoint_prefixes"), filename,
                name="MergeV2Checkpoints")
            with graph.control_dependencies([merge]):
                return array_ops.identity(filename, name="Identity")

    def _build_restore(self, graph, filename, device, items):
        names = [name for name, _ in items]
        specs = ["" if self._reshape else _shape_spec(variable) for _, variable in items]
        with graph.device(device or None):
            restored = checkpoint_ops.restore_v2(filename, names, specs,
                                                 [variable.dtype.base_dtype for _, variable in items],
                                                 name="RestoreV2")
        assigns = []
        for (name, variable), value in zip(items, restored):
            shape = variable.shape
            if shape.is_fully_defined() and (self._reshape or shape.ndims == 0):
                value = array_ops.reshape(value, shape.as_list())
            assigns.append(variable._resource_op("AssignVariableOp", [value], "Assign"))
        return control_flow_ops.group(*assigns, name="restore_shard")

    def _check_saver_def(self):
        if not isinstance(self.saver_def, SaverDef):
            raise ValueError("saver_def must be a SaverDef proto")
        if self.saver_def.version != SaverDef.V2:
            raise NotImplementedError("Only V2 checkpoints are supported")
        self._max_to_keep = self.saver_def.max_to_keep
        self._keep_checkpoint_every_n_hours = self.saver_def.keep_checkpoint_every_n_hours
        self._sharded = self.saver_def.sharded

    # ---- the SaverDef -----------------------------------------------------------------------

    def as_saver_def(self):
        """The ``SaverDef`` naming this saver's filename tensor, save tensor and restore op."""
        return self.saver_def

    def to_proto(self, export_scope=None):
        """The ``SaverDef``, with `export_scope` stripped from its names.

        Returns:
          The proto, or None when the saver's ops are not all under `export_scope`.
        """
        if not export_scope:
            return self.saver_def
        names = (self.saver_def.filename_tensor_name, self.saver_def.save_tensor_name,
                 self.saver_def.restore_op_name)
        if not all(name.startswith(export_scope) for name in names):
            return None
        saver_def = SaverDef()
        saver_def.CopyFrom(self.saver_def)
        saver_def.filename_tensor_name = meta_graph.strip_name_scope(names[0], export_scope)
        saver_def.save_tensor_name = meta_graph.strip_name_scope(names[1], export_scope)
        saver_def.restore_op_name = meta_graph.strip_name_scope(names[2], export_scope)
        return saver_def

    @staticmethod
    def from_proto(saver_def, import_scope=None):
        """A Saver running the ops `saver_def` names, under `import_scope`."""
        return Saver(saver_def=saver_def, name=import_scope)

    # ---- checkpoints kept -------------------------------------------------------------------

    @property
    def last_checkpoints(self):
        """The prefixes of the checkpoints kept (not deleted), oldest first."""
        return [path for path, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints):
        """Replaces `last_checkpoints` (their times become unknown: now).

        Raises:
          TypeError: if `last_checkpoints` is not a list.
        """
        if not isinstance(last_checkpoints, list):
            raise TypeError("last_checkpoints must be a list")
        self._last_checkpoints = [(path, time.time()) for path in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        """Replaces `last_checkpoints` with ``(prefix, timestamp)`` pairs, oldest first.

        Raises:
          TypeError: if the argument is not a list.
        """
        if not isinstance(last_checkpoints_with_time, list):
            raise TypeError("last_checkpoints_with_time must be a list")
        self._last_checkpoints = [(path, float(stamp))
                                  for path, stamp in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths):
        """Resumes the bookkeeping of a previous run: keeps the given prefixes that still
        exist, with their files' modification times (e.g. a state file's
        ``all_model_checkpoint_paths`` after a crash)."""
        existing = [path for path in checkpoint_paths
                    if checkpoint_management.checkpoint_exists(path)]
        times = checkpoint_management.get_checkpoint_mtimes(existing)
        self.set_last_checkpoints_with_time(list(zip(existing, times)))

    def _record_last_checkpoint(self, latest):
        if not self.saver_def.max_to_keep:
            return
        self._last_checkpoints = [(path, stamp) for path, stamp in self._last_checkpoints
                                  if path != latest]
        self._last_checkpoints.append((latest, time.time()))
        while len(self._last_checkpoints) > self.saver_def.max_to_keep:
            self._checkpoints_to_be_deleted.append(self._last_checkpoints.pop(0))

    def _maybe_delete_old_checkpoints(self, meta_graph_suffix):
        while self._checkpoints_to_be_deleted:
            path, stamp = self._checkpoints_to_be_deleted.pop(0)
            # Keep one checkpoint every keep_checkpoint_every_n_hours, as TF does.
            if self._keep_checkpoint_every_n_hours and stamp > self._next_checkpoint_time:
                self._next_checkpoint_time += self._keep_checkpoint_every_n_hours * 3600
                self._last_preserved_timestamp = stamp
                continue
            checkpoint_management.remove_checkpoint(path, meta_graph_suffix=meta_graph_suffix)

    # ---- save and restore -------------------------------------------------------------------

    def _session_check(self, sess):
        if self._graph is not None and getattr(sess, "graph", self._graph) is not self._graph:
            raise ValueError("The session's graph is not the graph the Saver was built in")

    def save(self, sess, save_path, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True,
             strip_default_attrs=False, save_debug_info=False):
        """Saves the variables.

        Args:
          sess: the Session holding the variables.
          save_path: the checkpoint prefix (its directory must exist).
          global_step: appended as ``-N``: an int, or a tensor or variable evaluated in `sess`.
          latest_filename: the state file's name (default ``'checkpoint'``).
          meta_graph_suffix: the meta graph file's suffix.
          write_meta_graph: also write the meta graph, ``<prefix>.<suffix>``.
          write_state: update `last_checkpoints`, the state file, and delete old checkpoints.
          strip_default_attrs, save_debug_info: passed to the meta graph exporter.

        Returns:
          The checkpoint prefix written, or None when there is nothing to save.

        Raises:
          ValueError: if the directory of `save_path` does not exist, or the names collide.
          TypeError: if `sess` is not a Session.
        """
        if not self._is_built:
            raise RuntimeError("The Saver is not built: call build() first (defer_build=True)")
        if self._is_empty:
            return None
        if not hasattr(sess, "run"):
            raise TypeError(f"'sess' must be a Session; {sess}")
        self._session_check(sess)
        latest_filename = latest_filename or "checkpoint"
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        save_path = os.fspath(save_path)
        if global_step is not None:
            if not isinstance(global_step, numbers.Integral):
                global_step = sess.run(global_step)
            step = int(global_step)
            checkpoint_file = (f"{save_path}-{step:08d}" if self._pad_step_number
                               else f"{save_path}-{step}")
        else:
            checkpoint_file = save_path
            if os.path.basename(save_path) == latest_filename and not self.saver_def.sharded:
                raise ValueError(f"'latest_filename' collides with 'save_path': "
                                 f"'{latest_filename}' and '{save_path}'")
        save_dir = os.path.dirname(save_path)
        if save_dir and not os.path.isdir(save_dir):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        graph = self._graph
        filename_tensor = graph.get_tensor_by_name(self.saver_def.filename_tensor_name)
        save_tensor = graph.get_tensor_by_name(self.saver_def.save_tensor_name)
        written = sess.run(save_tensor, {filename_tensor: checkpoint_file})
        written = written.decode() if isinstance(written, bytes) else str(written)
        if write_state:
            self._record_last_checkpoint(written)
            checkpoint_management.update_checkpoint_state(
                save_dir or ".", written, self.last_checkpoints or [written],
                latest_filename=latest_filename,
                all_model_checkpoint_timestamps=[stamp for _, stamp in self._last_checkpoints]
                or None,
                last_preserved_timestamp=self._last_preserved_timestamp,
                save_relative_paths=self._save_relative_paths)
            self._maybe_delete_old_checkpoints(meta_graph_suffix)
        if write_meta_graph and _meta_graph_exporter() is not None:
            self.export_meta_graph(f"{checkpoint_file}.{meta_graph_suffix}",
                                   strip_default_attrs=strip_default_attrs,
                                   save_debug_info=save_debug_info)
        return written

    def export_meta_graph(self, filename=None, collection_list=None, as_text=False,
                          export_scope=None, clear_devices=False, clear_extraneous_savers=False,
                          strip_default_attrs=False, save_debug_info=False):
        """Writes the graph and this saver's SaverDef as a MetaGraphDef (TF's method).

        Args:
          filename: the file to write (binary, or text with `as_text`); None writes nothing.
          collection_list, as_text, export_scope, clear_devices, clear_extraneous_savers,
            strip_default_attrs, save_debug_info: as ``tf.train.export_meta_graph``'s.

        Returns:
          The ``MetaGraphDef``.
        """
        exporter = _meta_graph_exporter()
        if exporter is None:
            raise NotImplementedError("tf.train.export_meta_graph is not available yet")
        return exporter(filename=filename, saver_def=self.saver_def,
                        collection_list=collection_list, as_text=as_text, graph=self._graph,
                        export_scope=export_scope, clear_devices=clear_devices,
                        clear_extraneous_savers=clear_extraneous_savers,
                        strip_default_attrs=strip_default_attrs,
                        save_debug_info=save_debug_info)

    def restore(self, sess, save_path):
        """Restores the variables from a checkpoint.

        Args:
          sess: the Session to restore into.
          save_path: the checkpoint prefix (as `save` or `latest_checkpoint` returns it).

        Raises:
          ValueError: if `save_path` is None or names no checkpoint.
          NotFoundError: naming a variable the checkpoint lacks.
          InvalidArgumentError: if a saved tensor's shape or dtype differs from its variable's.
          DataLossError: if the checkpoint is truncated or corrupt.
        """
        if self._is_empty:
            return
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        save_path = os.fspath(save_path)
        if not checkpoint_management.checkpoint_exists(save_path):
            raise ValueError(f"The passed save_path is not a valid checkpoint: {save_path}")
        self._session_check(sess)
        graph = self._graph
        filename_tensor = graph.get_tensor_by_name(self.saver_def.filename_tensor_name)
        sess.run(graph.get_operation_by_name(self.saver_def.restore_op_name),
                 {filename_tensor: save_path})


# Savers go into a MetaGraphDef's "savers" collection as SaverDef protos (as in TF).
meta_graph.register_proto_function(
    _SAVERS_COLLECTION, proto_type=SaverDef,
    to_proto=lambda saver, export_scope=None: saver.to_proto(export_scope=export_scope),
    from_proto=Saver.from_proto)
