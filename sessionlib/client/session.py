"""`Session` and `InteractiveSession`: TF 1's client API over sessionlib's runtime.

One `Session.run` goes: map the fetches (`fetch.FetchPlan`, cached for hashable structures),
check and convert the feeds, ask the session's runtime for the compiled step of the (feeds,
fetches, targets) key (the runtime's step cache answers, or compiles it), run the step with a
`RunContext` holding the session's resources, cancellation, deadline and a fresh step id, and
rebuild the fetch structure around the values. The session never asks which runtime it has
(``sessionlib/runtime/__init__.py`` describes the interface); it keeps the front end: mapping,
validation, life cycle and run defaults.
"""

import collections
import collections.abc
import itertools
import threading
import time
import weakref

import numpy as np

from sessionlib import dtypes, errors
from sessionlib import runtime as runtime_lib
from sessionlib.client import fetch as fetch_lib
from sessionlib.client import partial_run as partial_run_lib
from sessionlib.framework import default_session as default_session_lib
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import tensor_util
from sessionlib.framework.graph import Operation, Tensor
from sessionlib.runtime import context as context_lib
from sessionlib.runtime import tracing as tracing_lib

__all__ = ["Session", "InteractiveSession", "BaseSession"]

_step_ids = itertools.count(1)
_live_sessions = weakref.WeakSet()
# Reentrant: `close()` takes it, and `__del__` (a garbage collection inside a locked block
# of this very thread) may call `close()`.
_live_sessions_lock = threading.RLock()


def _config_protos():
    from sessionlib.protos import config_pb2

    return config_pb2


def _check_run_protos(options, run_metadata):
    """Raises TypeError unless `options` is a `RunOptions` (or None) and `run_metadata` a
    `RunMetadata` (or None). Callers skip it when both are None, so a plain run pays nothing.
    """
    config_pb2 = _config_protos()
    if options is not None and not isinstance(options, config_pb2.RunOptions):
        raise TypeError(f"options must be a RunOptions proto, got {type(options).__name__}")
    if run_metadata is not None and not isinstance(run_metadata, config_pb2.RunMetadata):
        raise TypeError(f"run_metadata must be a RunMetadata proto, got "
                        f"{type(run_metadata).__name__}")


def _fetch_cache_key(fetches, depth=0):
    """A hashable key that equals another's only for fetches of the same structure and types.

    The fetches themselves are no key: a namedtuple equals the plain tuple of its items, and
    ``True == 1``, but they must not share a plan. Returns None for structures that are not
    worth caching (mappings other than dict and OrderedDict), or that nest too deep for a
    `FetchPlan` (which then says so).
    """
    fetch_type = type(fetches)
    if fetch_type is Tensor or fetch_type is Operation or fetch_type is str:
        return fetches
    if depth > fetch_lib.MAX_FETCH_DEPTH:
        return None
    if isinstance(fetches, (list, tuple)):
        items = [_fetch_cache_key(item, depth + 1) for item in fetches]
        if None in items:
            return None
        return (fetch_type, *items)
    if fetch_type is dict or fetch_type is collections.OrderedDict:
        items = []
        for name, value in fetches.items():
            value_key = _fetch_cache_key(value, depth + 1)
            if value_key is None:
                return None
            items.append((type(name), name, value_key))
        return (fetch_type, *items)
    if isinstance(fetches, collections.abc.Mapping):
        return None
    return (fetch_type, fetches)


class BaseSession:
    """The shared implementation of `Session` and `InteractiveSession`."""

    def __init__(self, target="", graph=None, config=None):
        if graph is None:
            graph = graph_lib.get_default_graph()
        elif not isinstance(graph, graph_lib.Graph):
            raise TypeError(f"graph must be a tf.Graph, but got {type(graph)}")
        config_pb2 = _config_protos()
        if config is None:
            config = config_pb2.ConfigProto()
        elif not isinstance(config, config_pb2.ConfigProto):
            raise TypeError(f"config must be a tf.ConfigProto, but got {type(config)}")
        if isinstance(target, bytes):
            target = target.decode("utf-8")
        elif not isinstance(target, str):
            raise TypeError(f"target must be a string, but got {type(target)}")
        if target not in ("", "local") and not runtime_lib.is_cluster_target(target):
            raise errors.NotFoundError(
                None, None,
                f"No session factory registered for the given session options: "
                f"{{target: \"{target}\" config: {config}}} Registered factories are "
                f"{{DIRECT_SESSION}}.")
        self._graph = graph
        self._config = config
        self._target = target.encode("utf-8")
        self._handle = f"session_{id(self):x}_{next(_step_ids)}"
        self._runtime = runtime_lib.create_runtime(graph, config, self._handle, target)
        # Read by every run (its RunContext) and by session handles.
        self._resources = self._runtime.resources
        self._cancellation = context_lib.CancellationManager()
        self._fetch_cache = {}
        self._partial_runs = partial_run_lib.PartialRuns()
        self._closed = False
        self._reset = False
        self._default_timeout_ms = config.operation_timeout_in_ms
        with _live_sessions_lock:
            _live_sessions.add(self)

    # ---- properties ----------------------------------------------------------------------

    @property
    def graph(self):
        """The graph this session runs."""
        return self._graph

    @property
    def graph_def(self):
        """The session graph as a `GraphDef` proto."""
        return self._graph.as_graph_def()

    @property
    def sess_str(self):
        """The target as bytes (``b''`` for the local target)."""
        return self._target

    @property
    def target(self):
        return self._target

    @property
    def config(self):
        return self._config

    def list_devices(self):
        """The devices of this session, as objects with `name`, `device_type`,
        `memory_limit` and `memory_limit_bytes` (and `pid`, the process that runs the device).

        Raises:
          CancelledError: if the session is closed or reset. TF 1's sessions answer a closed
            session's `ListDevices` with a CANCELLED status ("Session has been closed."),
            which is the `OpError` its docstring promises, unlike `run`'s RuntimeError.
        """
        self._check_open_or_cancel()
        return self._runtime.list_devices()

    # ---- life cycle ----------------------------------------------------------------------

    def _check_open(self):
        if self._reset:
            raise errors.CancelledError(None, None, "Session has been reset.")
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")

    def _check_open_or_cancel(self):
        # What TF's C session answers a closed one: CANCELLED, not run's RuntimeError. TF
        # lists devices, and makes and runs a callable without a feed list there; queue
        # runners rely on it to end quietly.
        if self._reset or self._closed:
            raise errors.CancelledError(None, None, "Session has been reset." if self._reset
                                        else "Session has been closed.")

    def close(self):
        """Closes the session: cancels blocked runs and frees its resources.

        Later calls to `run` raise RuntimeError. Closing twice is harmless.
        """
        if self._closed:
            return
        self._closed = True
        self._cancellation.cancel()
        self._runtime.close()
        self._fetch_cache = {}
        self._partial_runs.clear()
        with _live_sessions_lock:
            _live_sessions.discard(self)

    def _mark_reset(self):
        self._reset = True
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn modules down
            pass

    def as_default(self):
        """A context manager making this the default session of the current thread.

        It does not close the session on exit.
        """
        return default_session_lib.default_session_scope(self)

    def __enter__(self):
        self._default_graph_context = self._graph.as_default()
        self._default_graph_context.__enter__()
        self._default_session_context = self.as_default()
        self._default_session_context.__enter__()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        try:
            self._default_session_context.__exit__(exc_type, exc_value, traceback)
            self._default_graph_context.__exit__(exc_type, exc_value, traceback)
        finally:
            self.close()
        return False

    # ---- run -----------------------------------------------------------------------------

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs the ops and evaluates the tensors in `fetches`.

        Args:
          fetches: a graph element (Tensor, Operation, or a name such as ``'c:0'``), or a
            nested list, tuple, namedtuple or dict of them.
          feed_dict: a dict from tensors (or names, or registered types such as SparseTensor)
            to values that replace what the graph would compute.
          options: a `RunOptions` proto.
          run_metadata: a `RunMetadata` proto to fill.

        Returns:
          The fetched values, in the structure of `fetches` (None for Operations, numpy
          scalars for 0-d tensors).

        Raises:
          RuntimeError: if the session is closed.
          TypeError: for a fetch or feed of the wrong type, or `options` / `run_metadata`
            that are not a `RunOptions` / `RunMetadata` proto.
          ValueError: for a fetch or feed that is not in the graph, or a fed value of an
            incompatible shape.
          OpError: when running fails; `.op` is the failing operation.
        """
        self._check_open()
        if options is not None or run_metadata is not None:
            _check_run_protos(options, run_metadata)
        if self._graph._version == 0:
            raise RuntimeError("The Session graph is empty. Add operations to the graph before "
                               "calling run().")
        fetch_plan = self._fetch_plan(fetches)
        feed_tensors, feed_values = self._convert_feeds(feed_dict)
        step = self._runtime.compile(feed_tensors, fetch_plan.tensors, fetch_plan.targets)
        try:
            values = step.run(feed_values, self._run_context(options),
                              None if options is None
                              else tracing_lib.trace_request(options, run_metadata))
        except errors.ResourceExhaustedError as err:
            _finish_oom(err, options)
            raise
        return fetch_plan.build(values, self)

    def _fetch_plan(self, fetches):
        """The `FetchPlan` of `fetches`, cached by the structure's exact shape and types."""
        fetch_type = type(fetches)
        if fetch_type is Tensor or fetch_type is Operation or fetch_type is str:
            key = fetches  # the common case: no key to build
        else:
            key = _fetch_cache_key(fetches)
            if key is None:  # a structure we do not cache: map it each time
                return fetch_lib.FetchPlan(self._graph, fetches)
        try:
            found = self._fetch_cache.get(key)
        except TypeError:  # an unhashable leaf
            return fetch_lib.FetchPlan(self._graph, fetches)
        if found is None:
            found = fetch_lib.FetchPlan(self._graph, fetches)
            if len(self._fetch_cache) > 4096:
                self._fetch_cache.clear()
            self._fetch_cache[key] = found
        return found

    def _feed_key_tensor(self, key):
        if isinstance(key, Tensor) and key.graph is self._graph:
            return key
        try:
            return self._graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
        except Exception as err:  # noqa: BLE001 - every bad key is a TypeError in TF
            message = err.args[0] if err.args else str(err)
            raise TypeError(f"Cannot interpret feed_dict key as Tensor: {message}") from None

    def _convert_feeds(self, feed_dict):
        """Checks the feeds; returns (tensors, numpy values) in feed order."""
        if not feed_dict:
            return (), ()
        if not isinstance(feed_dict, collections.abc.Mapping):
            raise TypeError(f"feed_dict must be a dictionary or collections.abc.Mapping, not "
                            f"{type(feed_dict).__name__}")
        # Keyed by tensor: a tensor fed twice (as a Tensor and by name) takes the later value,
        # as in TF.
        converted = {}
        graph = self._graph
        for key, value in feed_dict.items():
            if type(key) is Tensor and key._op._graph is graph:  # the common case, no lookups
                converted[key] = convert_feed_value(key, value)
                continue
            for sub_key, sub_value in fetch_lib.expand_feed(key, value):
                tensor = self._feed_key_tensor(sub_key)
                converted[tensor] = convert_feed_value(tensor, sub_value)
        return tuple(converted), tuple(converted.values())

    def _run_context(self, options):
        """The `RunContext` of one run: the session's resources and cancellation, a fresh
        step id, and the deadline of `options` or of the session's default timeout."""
        timeout_ms = self._default_timeout_ms
        if options is not None and options.timeout_in_ms > 0:
            timeout_ms = options.timeout_in_ms
        return context_lib.RunContext(
            self._resources, self._cancellation,
            time.monotonic() + timeout_ms / 1000.0 if timeout_ms > 0 else None,
            next(_step_ids))

    # ---- callables -----------------------------------------------------------------------

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        """Returns a function that runs `fetches`, feeding its arguments to `feed_list`.

        A closed session still makes a callable, which raises when called, as TF's does:
        without a `feed_list`, CancelledError (TF runs such a callable in its C session,
        which answers a closed session so); with one, run's RuntimeError (TF's callable then
        calls `run`).

        Args:
          fetches: as for `run`.
          feed_list: the feed keys that the callable's positional arguments feed: tensors,
            names, or what `run` takes as a key for several tensors (a SparseTensor, a tuple
            of tensors), whose argument is then a value of the same structure.
          accept_options: documents that the callable takes `options` and `run_metadata`
            keywords. They are always accepted (TF's callables with a `feed_list` take them
            too), so this flag changes nothing.

        Returns:
          ``callable(*feed_values, options=None, run_metadata=None)``.

        Raises:
          TypeError: if `feed_list` is not a list or tuple; and as `run` does for bad fetches
            or feed keys.
          ValueError: as `run` does.
        """
        if feed_list is not None and not isinstance(feed_list, (list, tuple)):
            raise TypeError(f"Argument `feed_list` must be a list or tuple. Received: "
                            f"feed_list={feed_list}")
        check_open = self._check_open if feed_list is not None else self._check_open_or_cancel
        if self._closed or self._reset:
            if feed_list is None:
                fetch_lib.FetchPlan(self._graph, fetches)  # TF still checks these fetches
            return lambda *feed_args, **kwargs: check_open()
        fetch_plan = fetch_lib.FetchPlan(self._graph, fetches)
        # As in `run`, a key may stand for several tensors (a SparseTensor, a tuple of
        # tensors); its argument is then split across them at each call.
        feed_tensors, composite = [], False
        for key in feed_list or ():
            components = fetch_lib.feed_tensors_for_partial_run(key)
            composite = composite or len(components) != 1 or components[0] is not key
            feed_tensors.extend(self._feed_key_tensor(component) for component in components)
        feed_tensors = tuple(feed_tensors)
        composite_keys = tuple(feed_list) if composite else None
        if len(set(feed_tensors)) != len(feed_tensors):
            names = [t.name for t in feed_tensors]
            duplicate = next(n for n in names if names.count(n) > 1)
            raise ValueError(f"Tensor {duplicate} is fed more than once.")
        fetch_tensors, targets = fetch_plan.tensors, fetch_plan.targets
        runtime, graph = self._runtime, self._graph
        step = runtime.compile(feed_tensors, fetch_tensors, targets)  # now, to fail early
        num_feeds = len(feed_list or ())

        def run_callable(*feed_args, **kwargs):
            nonlocal step
            if len(feed_args) != num_feeds:
                raise TypeError(f"Callable takes {num_feeds} positional arguments, got "
                                f"{len(feed_args)}")
            if composite_keys is not None:
                feed_args = [value for key, arg in zip(composite_keys, feed_args)
                             for _, value in fetch_lib.expand_feed(key, arg)]
            options = run_metadata = None
            trace = None
            if kwargs:  # the common call has none: skip the dict work
                options = kwargs.pop("options", None)
                run_metadata = kwargs.pop("run_metadata", None)
                if kwargs:
                    raise TypeError(f"Unexpected arguments: {list(kwargs)}")
                _check_run_protos(options, run_metadata)
                if options is not None:
                    trace = tracing_lib.trace_request(options, run_metadata)
            check_open()
            values = [convert_feed_value(t, v) for t, v in zip(feed_tensors, feed_args)]
            if step.graph_version != graph._version:  # the graph changed: recompile
                step = runtime.compile(feed_tensors, fetch_tensors, targets)
            results = step.run(values, self._run_context(options), trace)
            return fetch_plan.build(results, self)

        return run_callable

    # ---- partial runs --------------------------------------------------------------------

    def partial_run_setup(self, fetches, feeds=None):
        """Declares a step that later `partial_run` calls feed and fetch piece by piece.

        Args:
          fetches: a graph element or a (nested) list of them, as for `run`.
          feeds: a graph element (a tensor, a name, a SparseTensor) or a list of them.

        Returns:
          A handle (a string) for `partial_run`.

        Raises:
          RuntimeError: if the session is closed or the graph is empty.
          TypeError, ValueError: for fetches or feeds that are not elements of the graph.
        """
        self._check_open()
        return self._partial_runs.setup(self, fetches, feeds)

    def partial_run(self, handle, fetches, feed_dict=None):
        """Feeds more of the partial run `handle` and computes `fetches` from it.

        Each fetch is computed as soon as the feeds it needs are in; intermediate results
        carry over between calls, and every op runs at most once per partial run.

        Args:
          handle: from `partial_run_setup`.
          fetches: declared fetches, in any structure `run` accepts.
          feed_dict: values for declared feeds not fed before.

        Returns:
          The fetched values, in the structure of `fetches`.

        Raises:
          RuntimeError: if the session is closed.
          InvalidArgumentError: for a bogus or finished handle, a feed or fetch that setup
            did not declare or that was already fed or fetched, or a fetch that needs a feed
            not fed yet.
          OpError: when running fails.
        """
        self._check_open()
        return self._partial_runs.run(self, handle, fetches, feed_dict)

    # ---- reset -----------------------------------------------------------------------------

    @staticmethod
    def reset(target, containers=None, config=None):
        """Resets resource containers on `target` and closes its sessions.

        Args:
          target: the execution engine: the local target (''), or a Ray cluster
            (``ray://<address>``: the containers are cleared on every device of the cluster,
            and the sessions on the target are closed, as TF's distributed reset does).
          containers: names of resource containers to clear; None clears all and closes
            every local session (their later runs raise CancelledError).
          config: an optional `ConfigProto`.

        Raises:
          NotFoundError: for an unknown target.
        """
        if isinstance(target, bytes):
            target = target.decode("utf-8")
        if runtime_lib.is_cluster_target(target):
            # As TF's distributed reset: the containers go on every device of the cluster,
            # and the sessions on the target are closed.
            with _live_sessions_lock:
                sessions = [s for s in _live_sessions if s._target == target.encode("utf-8")]
            for session in sessions:
                session._mark_reset()
            runtime_lib.reset_cluster(target, containers, config)
            return
        if target not in ("", "local"):
            raise errors.NotFoundError(None, None, f"No session factory registered for "
                                       f"target {target!r}")
        with _live_sessions_lock:
            sessions = list(_live_sessions)
        for session in sessions:
            if containers is None:
                session._mark_reset()
            else:
                session._runtime.clear_containers(containers)


class Session(BaseSession):
    """A TF 1 session: runs the graph it was made for.

    Args:
      target: the execution engine; '' (or 'local') is this process.
      graph: the `Graph` to run; default: the default graph.
      config: a `ConfigProto`.

    Raises:
      TypeError: for a `target`, `graph` or `config` of the wrong type.
      NotFoundError: for an unknown target, or ``device_count={'CPU': 0}``.
    """


class InteractiveSession(BaseSession):
    """A session that makes itself (and its graph) the default when created, for shells.

    `close()` undoes that.
    """

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        self._default_graph_context = self._graph.as_default()
        self._default_graph_context.__enter__()
        self._default_session_context = self.as_default()
        self._default_session_context.__enter__()

    def close(self):
        if not self._closed:
            try:
                self._default_session_context.__exit__(None, None, None)
                self._default_graph_context.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - closing from another thread or at shutdown
                pass
        super().close()


# ---- feeds --------------------------------------------------------------------------------

def convert_feed_value(tensor, value):
    """`value` as the numpy array fed to `tensor`, with TF's checks.

    Raises:
      TypeError: if `value` is a Tensor, or a Python int that does not fit the dtype.
      ValueError: if numpy cannot convert it, or its shape is incompatible with the tensor's
        static shape.
    """
    if isinstance(value, (Tensor, Operation)):
        raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed "
                        "values include Python scalars, strings, lists, numpy ndarrays, or "
                        "TensorHandles. For reference, the tensor object was "
                        f"{value} which was passed to the argument `feed_dict` with key "
                        f"{tensor}.")
    dtype = tensor.dtype
    if dtype is dtypes.string:
        array = _string_array(value)
    else:
        np_type = dtype.as_numpy_dtype
        if type(value) is np.ndarray and value.dtype == np_type:
            array = value
        else:
            if isinstance(value, int) and not isinstance(value, bool) and dtype.is_integer:
                if not dtype.min <= value <= dtype.max:
                    raise TypeError(f"Value {value} of the feed for {tensor.name} does not "
                                    f"fit in dtype {dtype.name}")
            try:
                array = np.asarray(value, dtype=np_type)
            except OverflowError as err:
                raise TypeError(f"Cannot feed {tensor_util.short_repr(value)} to {tensor.name} "
                                f"of dtype {dtype.name}: {err}") from None
            except (TypeError, ValueError) as err:
                # numpy's own error type is what TF raises: ValueError for a string or a
                # ragged list, TypeError for an object numpy cannot read as a number.
                raise type(err)(f"Cannot convert the feed for {tensor.name} to a numpy array "
                                f"of {dtype.name}: {err}") from None
    shape = tensor._shape
    dims = shape._dims
    if dims is not None:
        actual = array.shape
        if len(actual) != len(dims) or any(d is not None and d != a
                                           for d, a in zip(dims, actual)):
            raise ValueError(f"Cannot feed value of shape {actual!r} for Tensor "
                             f"{tensor.name!r}, which has shape {shape}")
    return array


def _string_array(value):
    try:
        return tensor_util.to_numpy(value, dtypes.string)
    except TypeError as err:
        # TF: a number fed to a string tensor is a TypeError.
        raise TypeError(f"Cannot convert the feed to a string tensor: {err}") from None


def _finish_oom(err, options):
    """Completes a device OOM message in place: the live-tensor report when
    ``options.report_tensor_allocations_upon_oom`` asks for it, else TF's hint."""
    from sessionlib.runtime import memory

    message = err.message
    if memory.REPORT_MARK in message:
        err._message = memory.finish_message(
            message, options is not None and options.report_tensor_allocations_upon_oom)
        err.args = (err._message,)
