"""The ``checkpoint`` state file and the lookup of checkpoints by prefix (TF's
``checkpoint_management``): `get_checkpoint_state`, `update_checkpoint_state`,
`latest_checkpoint`, `checkpoint_exists`, `get_checkpoint_mtimes`, `remove_checkpoint`,
`generate_checkpoint_state_proto`.

A directory's ``checkpoint`` file is a ``CheckpointState`` in protobuf text format, as TF
writes it, so TF and sessionlib read each other's. It is written to a temporary file and renamed
into place: a reader sees the old state or the new one, never a torn file. Relative paths in it
are relative to the directory holding it.

Pure file work on the client (no graph, no session).
"""

import glob
import os
import uuid

from google.protobuf import text_format

from sessionlib.protos import checkpoint_state_pb2
from sessionlib.framework import tensor_bundle

__all__ = ["get_checkpoint_state", "update_checkpoint_state", "latest_checkpoint",
           "checkpoint_exists", "get_checkpoint_mtimes", "remove_checkpoint",
           "generate_checkpoint_state_proto"]

CheckpointState = checkpoint_state_pb2.CheckpointState


def _state_path(checkpoint_dir, latest_filename):
    return os.path.join(os.fspath(checkpoint_dir), latest_filename or "checkpoint")


def generate_checkpoint_state_proto(save_dir, model_checkpoint_path,
                                    all_model_checkpoint_paths=None,
                                    all_model_checkpoint_timestamps=None,
                                    last_preserved_timestamp=None):
    """The ``CheckpointState`` proto naming `model_checkpoint_path` as the newest checkpoint.

    Args:
      save_dir: the directory of the state file. When it is relative, relative checkpoint
        paths are rewritten relative to it (so ``'ckpt/model-1'`` in ``'ckpt'`` becomes
        ``'model-1'``, which `get_checkpoint_state` resolves back against the directory).
      model_checkpoint_path: the newest checkpoint's prefix.
      all_model_checkpoint_paths: the prefixes kept, oldest first; `model_checkpoint_path`
        is appended when it is not the last one.
      all_model_checkpoint_timestamps: their times (seconds since the epoch), one per path.
      last_preserved_timestamp: the time of the last checkpoint preserved by
        keep_checkpoint_every_n_hours.

    Returns:
      The ``CheckpointState``.

    Raises:
      ValueError: if the timestamps and the paths differ in number.
    """
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    if all_model_checkpoint_timestamps and len(all_model_checkpoint_timestamps) != len(paths):
        raise ValueError(f"Checkpoint timestamps, if provided, must match checkpoint paths "
                         f"(got paths {paths} and timestamps "
                         f"{list(all_model_checkpoint_timestamps)})")
    save_dir = os.fspath(save_dir)
    if not os.path.isabs(save_dir):
        def relative(path):
            return path if os.path.isabs(path) else os.path.relpath(path, save_dir)
        model_checkpoint_path = relative(model_checkpoint_path)
        paths = [relative(path) for path in paths]
    state = CheckpointState(model_checkpoint_path=model_checkpoint_path,
                            all_model_checkpoint_paths=paths)
    if all_model_checkpoint_timestamps is not None:
        state.all_model_checkpoint_timestamps.extend(all_model_checkpoint_timestamps)
    if last_preserved_timestamp is not None:
        state.last_preserved_timestamp = last_preserved_timestamp
    return state


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None, save_relative_paths=False):
    """Writes the ``checkpoint`` state file of `save_dir` (atomically).

    Args:
      save_dir: the directory.
      model_checkpoint_path: the newest checkpoint's prefix.
      all_model_checkpoint_paths: the prefixes kept, oldest first; the newest is appended
        when missing.
      latest_filename: the state file's name (default ``'checkpoint'``).
      all_model_checkpoint_timestamps: their times (seconds since the epoch).
      last_preserved_timestamp: the time of the last checkpoint preserved by
        keep_checkpoint_every_n_hours.
      save_relative_paths: write paths relative to `save_dir`.

    Raises:
      RuntimeError: if `latest_filename` would overwrite a checkpoint file.
      ValueError: if the timestamps and the paths differ in number.
    """
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths = [path for path in paths if path != model_checkpoint_path]
        paths.append(model_checkpoint_path)
    state_path = _state_path(save_dir, latest_filename)
    if save_relative_paths:
        def relative(path):
            return os.path.relpath(path, save_dir) if os.path.isabs(path) else path
        model_checkpoint_path = relative(model_checkpoint_path)
        paths = [relative(path) for path in paths]
    if os.path.abspath(state_path) == os.path.abspath(model_checkpoint_path):
        raise RuntimeError(f"Save path '{model_checkpoint_path}' conflicts with path used for "
                           "checkpoint state.  Please use a different save path.")
    state = generate_checkpoint_state_proto(save_dir, model_checkpoint_path, paths,
                                            all_model_checkpoint_timestamps,
                                            last_preserved_timestamp)
    os.makedirs(os.path.dirname(os.path.abspath(state_path)), exist_ok=True)
    temp = f"{state_path}.tmp{uuid.uuid4().hex}"
    with open(temp, "w", encoding="utf-8") as out:
        out.write(text_format.MessageToString(state))
    os.replace(temp, state_path)


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """Reads the ``checkpoint`` state file of `checkpoint_dir`.

    Args:
      checkpoint_dir: the directory.
      latest_filename: the state file's name (default ``'checkpoint'``).

    Returns:
      A ``CheckpointState`` with absolute paths (relative ones are resolved against the
      directory), or None if there is no state file or it does not parse.
    """
    checkpoint_dir = os.fspath(checkpoint_dir)
    path = _state_path(checkpoint_dir, latest_filename)
    try:
        with open(path, encoding="utf-8") as state_file:
            text = state_file.read()
    except OSError:
        return None
    state = CheckpointState()
    try:
        text_format.Parse(text, state)
    except text_format.ParseError:
        return None
    if not state.model_checkpoint_path:
        return None
    if not os.path.isabs(state.model_checkpoint_path):
        state.model_checkpoint_path = os.path.join(checkpoint_dir, state.model_checkpoint_path)
    for index, item in enumerate(state.all_model_checkpoint_paths):
        if not os.path.isabs(item):
            state.all_model_checkpoint_paths[index] = os.path.join(checkpoint_dir, item)
    return state


def checkpoint_exists(checkpoint_prefix):
    """Whether a checkpoint with this prefix exists (a V2 ``.index`` or a V1 file).

    Args:
      checkpoint_prefix: the prefix (a glob pattern is accepted, as in TF).

    Returns:
      A bool.
    """
    checkpoint_prefix = os.fspath(checkpoint_prefix)
    return bool(tensor_bundle.bundle_exists(checkpoint_prefix)
                or glob.glob(tensor_bundle.index_filename(checkpoint_prefix))
                or (os.path.isfile(checkpoint_prefix)))


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint the state file of `checkpoint_dir` names.

    Args:
      checkpoint_dir: the directory.
      latest_filename: the state file's name (default ``'checkpoint'``).

    Returns:
      The prefix, or None if there is no state file or its checkpoint is gone.
    """
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is not None and checkpoint_exists(state.model_checkpoint_path):
        return state.model_checkpoint_path
    return None


def get_checkpoint_mtimes(checkpoint_prefixes):
    """The modification times of the checkpoints that exist among `checkpoint_prefixes`.

    Returns:
      A list of floats (seconds since the epoch), one per existing checkpoint.
    """
    times = []
    for prefix in checkpoint_prefixes:
        for path in (tensor_bundle.index_filename(prefix), prefix):
            if os.path.isfile(path):
                times.append(os.path.getmtime(path))
                break
    return times


def remove_checkpoint(checkpoint_prefix, checkpoint_format_version=2,
                      meta_graph_suffix="meta"):
    """Deletes the files of a checkpoint: its index, its data shards and its ``.meta``.

    The index goes first, so a half-deleted checkpoint no longer claims to exist.
    """
    prefix = os.fspath(checkpoint_prefix)
    paths = [tensor_bundle.index_filename(prefix)]
    paths += sorted(glob.glob(glob.escape(prefix) + ".data-?????-of-?????"))
    paths.append(f"{prefix}.{meta_graph_suffix}")
    for path in paths:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
