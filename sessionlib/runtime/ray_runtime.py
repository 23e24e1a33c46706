"""The Ray runtime: a session's devices are named, detached actors of a Ray cluster.

Design. ``Session(target='ray://<address>')`` gets a `RayRuntime`, the third implementation of
the runtime interface (``runtime/interface.py``); the client does not change. Ray is an
optional extra (``pip install 'sessionlib[ray]'``) and is imported only for such a target.

* Target. ``ray://local`` starts a Ray instance for this process (no dashboard, quiet logs,
  every core of the machine); ``ray://auto`` and ``ray://<host>:<port>`` join a running
  cluster (what ``ray.init(address=...)`` accepts). A process joins one cluster: a second,
  different address fails with FailedPreconditionError. An unreachable address fails with
  UnavailableError within the connect timeout: ``ConfigProto.operation_timeout_in_ms`` when
  set, else `DEFAULT_CONNECT_TIMEOUT_S`. The address is probed with a TCP connect first, and
  ``ray.init`` runs in a helper thread that the client stops waiting for at the timeout, so
  a cluster that accepts the connection but never answers does not hang the session either.
* Devices. TF's distributed names, ``/job:worker/replica:0/task:<k>/device:CPU:<j>``:
  ``device_count['CPU']`` devices on each task (see Tasks below). Each device is one actor of
  `ray_device.RayDevice`, named after the device in the `NAMESPACE` namespace, detached, and
  made on first need (``get_if_exists``): later sessions, from this client or another one,
  reuse it, and with it the resources in its containers (variables live on their actor, as
  on a TF worker). An actor takes no CPU slot (``num_cpus=0``): devices are not Ray tasks to
  schedule, and a cluster with few CPUs must still hold them all.
* Compile. The step is pruned, placed and partitioned as for worker processes
  (``runtime/partition.py``); each partition is installed once on its actor, as the same plain
  values a worker process gets, with the actor handles of the devices it sends to.
* Run. Feeds read by several devices are put into the object store once (`ray.put`); each
  partition gets one call (step key, run id, step id, time left, feed slots, feed values or
  refs). Cross-device tensors go from the producing actor straight to the consuming one
  (``RayDevice.deliver``; Ray moves them through the object store), never through the
  client. The client waits for the replies in slices, watching the session's cancellation and
  the run's deadline; a dead actor makes the run fail with UnavailableError naming the
  device, and the other devices of the run are told to abort (their `_Recv`s fail with
  AbortedError), given `_GRACE_S` to answer, and then given up on.
* Same node. A Ray actor call costs about a millisecond here (twice TF's whole distributed
  step for a small graph), and the object store copies a large tensor in and out, so per-step
  Ray calls cannot match a local runtime. The devices on the client's own node therefore also
  serve it through the local worker runtime's shared-memory machinery
  (``runtime/ray_fastpath.py``): one lane message per partition and step, feeds and fetches
  as tensor-store descriptors, cross-device tensors through the client's rendezvous and the
  producer's arena, with no copy. Ray keeps what it does well: it starts, names and finds
  the actors, reports their deaths (their pids are watched between wait slices on the lanes),
  and carries every step with a partition on another node, which runs as described above.
  A step that finds no free lane falls back to Ray too; nothing else differs, and the client
  cannot tell the paths apart (``SESSIONLIB_RAY_FAST_PATH=0`` turns the same-node path off).
* Reset. `reset` clears the named containers (or all of them) on every device actor of the
  cluster; the client closes the sessions on the target.

Tasks. ``ConfigProto.cluster_def`` (its job "worker") says how many tasks: task k runs on the
k-th alive node, the client's node first (on a one-node cluster every task shares the node).

Not done yet: placement-group bundles for tasks, emulated GPUs, step stats in traces
(partition graphs are filled), memory accounting, and session-handle tensors kept on the
devices.

A fourth backend would provide the same five device operations (``runtime/__init__.py``):
install a plan, run it on a small message, move a tensor from a `_Send` to its `_Recv`,
resource containers, and close; `ray_device.RayDevice` is that list written for Ray.
"""

import itertools
import marshal
import socket
import threading
import time
import uuid
import weakref

from sessionlib import errors
from sessionlib.runtime import context, interface, partition, ray_fastpath
from sessionlib.runtime.interface import fetched_value
from sessionlib.runtime.ray_device import pack as _pack, unpack as _unpack

__all__ = ["SCHEME", "NAMESPACE", "DEFAULT_CONNECT_TIMEOUT_S", "is_ray_target", "connect",
           "shutdown", "device_names", "RayRuntime", "RayStep", "reset"]

SCHEME = "ray://"
NAMESPACE = "sessionlib"
DEFAULT_CONNECT_TIMEOUT_S = 30.0
# Starting a device actor starts a Python process on its node, which takes seconds on a busy
# node: the wait for a new actor is at least this long, whatever the connect timeout.
START_TIMEOUT_S = 120.0
JOB = "worker"
_WAIT_SLICE_S = 0.1
_GRACE_S = 1.0            # how long the other devices may take to stop after one failed
_MAX_CONCURRENCY = 64     # runs, deliveries and aborts an actor serves at once

# A prefix unique to this client process: step keys and run ids are unique in the cluster.
_CLIENT = uuid.uuid4().hex[:12]
_dumps, _loads = marshal.dumps, marshal.loads
_step_keys = itertools.count(1)
_run_ids = itertools.count(1)
_lock = threading.Lock()
_connected = None        # the address this process joined ('local' for its own instance)
_actor_class = None


def is_ray_target(target):
    """Whether `target` (a str) names a Ray cluster."""
    return target.startswith(SCHEME)


def _ray():
    """The ``ray`` module, or UnimplementedError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise errors.UnimplementedError(
            None, None, "Session targets 'ray://...' run on a Ray cluster, and Ray is not "
            "installed: pip install 'sessionlib[ray]'") from None
    return ray


def connect_timeout_s(config):
    """The connect timeout under `config`: its operation timeout, or the default."""
    timeout_ms = config.operation_timeout_in_ms if config is not None else 0
    return timeout_ms / 1000.0 if timeout_ms > 0 else DEFAULT_CONNECT_TIMEOUT_S


def connect(target, timeout_s=DEFAULT_CONNECT_TIMEOUT_S):
    """Joins the Ray cluster of `target` (once per process); returns the ``ray`` module.

    Args:
      target: ``'ray://local'``, ``'ray://auto'`` or ``'ray://<host>:<port>'``.
      timeout_s: how long to try to reach the cluster.

    Raises:
      UnimplementedError: Ray is not installed.
      InvalidArgumentError: the target has no address.
      FailedPreconditionError: this process already joined another cluster.
      UnavailableError: the cluster cannot be reached within `timeout_s`.
    """
    global _connected
    ray = _ray()
    address = target[len(SCHEME):].strip()
    if not address:
        raise errors.InvalidArgumentError(None, None, f"Target {target!r} names no cluster: "
                                          "use ray://local, ray://auto or ray://host:port")
    if address not in ("local", "auto"):
        _probe(address, timeout_s, target)   # an unreachable address fails fast, always
    with _lock:
        if ray.is_initialized():
            if _connected is None or _connected == address:
                _connected = _connected or address
                return ray
            raise errors.FailedPreconditionError(
                None, None, f"This process already runs on the Ray cluster "
                f"'ray://{_connected}'; it cannot also join {target!r}")
        if address == "local":
            import logging
            import os

            # address="local": a new instance even when another cluster runs here.
            ray.init(address="local", include_dashboard=False, num_cpus=os.cpu_count(),
                     logging_level=logging.ERROR, log_to_driver=False)
        else:
            _init_within(ray, address, timeout_s, target)
        _connected = address
    return ray


def _probe(address, timeout_s, target):
    """Fails fast with UnavailableError when nothing listens at ``host:port``."""
    host, _, port = address.rpartition(":")
    try:
        port = int(port)
    except ValueError:
        raise errors.InvalidArgumentError(None, None, f"Target {target!r}: expected "
                                          "ray://host:port") from None
    try:
        socket.create_connection((host or "127.0.0.1", port), timeout=timeout_s).close()
    except OSError as err:
        raise errors.UnavailableError(None, None, f"Cannot reach the Ray cluster at "
                                      f"{address} ({err})") from None


def _init_within(ray, address, timeout_s, target):
    """``ray.init(address=...)`` that gives up after `timeout_s` (UnavailableError)."""
    outcome = []

    def join():
        try:
            import logging

            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
            outcome.append(None)
        except BaseException as err:  # noqa: BLE001 - reported below
            outcome.append(err)

    helper = threading.Thread(target=join, name="sessionlib-ray-connect", daemon=True)
    helper.start()
    helper.join(timeout_s)
    if not outcome:
        raise errors.UnavailableError(None, None, f"The Ray cluster at {target!r} did not "
                                      f"answer within {timeout_s:g} s")
    if outcome[0] is not None:
        raise errors.UnavailableError(None, None, f"Cannot join the Ray cluster at "
                                      f"{target!r}: {outcome[0]}") from None


def shutdown():
    """Leaves the cluster (and stops this process's own instance for ``ray://local``)."""
    global _connected
    with _lock:
        try:
            import ray
        except ImportError:
            return
        own_instance = _connected == "local"
        if ray.is_initialized():
            ray.shutdown()
        _connected = None
    ray_fastpath.forget_all(actors_ended=own_instance)


def device_names(config):
    """The devices of a session on the cluster: ``device_count['CPU']`` CPUs on each task of
    the job "worker" of ``config.cluster_def`` (one task, task 0, without a cluster_def).

    Raises:
      NotFoundError: for ``device_count={'CPU': 0}``.
      InvalidArgumentError: for a cluster_def without a job "worker", or without tasks.
    """
    count = dict(config.device_count).get("CPU", 1)
    if count < 1:
        raise errors.NotFoundError(None, None, "No CPU devices are available "
                                   "(ConfigProto.device_count['CPU'] is 0)")
    tasks = [0]
    if config.cluster_def.job:
        jobs = {job.name: job for job in config.cluster_def.job}
        if JOB not in jobs or not jobs[JOB].tasks:
            raise errors.InvalidArgumentError(
                None, None, f"On a Ray cluster, ConfigProto.cluster_def must have a job "
                f"'{JOB}' with its tasks; it has {sorted(jobs)}")
        tasks = sorted(jobs[JOB].tasks)
    return [f"/job:{JOB}/replica:0/task:{task}/device:CPU:{index}"
            for task in tasks for index in range(count)]


def _task_of(device):
    return int(device.split("/task:", 1)[1].split("/", 1)[0])


def _task_nodes(ray):
    """The alive nodes of the cluster in task order, as ``(node id, CPUs)``: the driver's
    node first (task 0 runs beside the client when it can), then by node id."""
    here = ray.get_runtime_context().get_node_id()
    nodes = [(node["NodeID"], int(node["Resources"].get("CPU", 1)))
             for node in ray.nodes() if node.get("Alive")]
    return sorted(nodes, key=lambda node: (node[0] != here, node[0]))


def _actor_name(device):
    return "device" + device


def _device_actor(ray, device, threads, node_id):
    """The actor of `device`: the running one, or a new one (named and detached) on the node
    `node_id`."""
    global _actor_class
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    if _actor_class is None:
        from sessionlib.runtime import ray_device

        _actor_class = ray.remote(ray_device.RayDevice)
    return _actor_class.options(
        name=_actor_name(device), namespace=NAMESPACE, lifetime="detached",
        get_if_exists=True, max_concurrency=_MAX_CONCURRENCY, num_cpus=0, max_restarts=0,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False)
    ).remote(device, threads)


def _unavailable(device, cause):
    return errors.UnavailableError(None, None, f"Device {device} is unavailable: its actor "
                                   f"died or its node was lost ({type(cause).__name__})")


def _ask(ray, calls, timeout_s, what):
    """The results of actor calls ``[(device, ref)]``, with errors that name the device."""
    results = []
    deadline = time.monotonic() + timeout_s
    for device, ref in calls:
        try:
            results.append(ray.get(ref, timeout=max(0.0, deadline - time.monotonic())))
        except ray.exceptions.GetTimeoutError:
            raise errors.UnavailableError(None, None, f"Device {device} did not answer "
                                          f"({what}) within {timeout_s:g} s") from None
        except ray.exceptions.RayActorError as err:
            raise _unavailable(device, err) from None
    return results


class ClusterDeviceAttributes(interface.DeviceAttributes):
    """A device of `Session.list_devices()` on a cluster: also its node's address and Ray
    node id."""

    __slots__ = ("address", "node_id")


class RayRuntime(interface.Runtime):
    """A session's devices on a Ray cluster (see the module docstring).

    Args:
      graph, placer, fuse, rewrites: as for `interface.Runtime`.
      session_id: a string unique to the session.
      executor_name: the executor the actors run plans with ('cython' or 'reference').
      timeout_s: how long to wait for the actors to start.

    Raises:
      UnavailableError: an actor cannot be started or reached in time.
    """

    def __init__(self, graph, placer, fuse, session_id, executor_name, rewrites=None,
                 timeout_s=DEFAULT_CONNECT_TIMEOUT_S):
        super().__init__(graph, placer, fuse, rewrites)
        self.ray = ray = _ray()
        self.session_id = f"{_CLIENT}/{session_id}"
        self.executor_name = executor_name
        self.timeout_s = timeout_s
        # Task k runs on the k-th node (modulo the nodes there are: on a one-node cluster all
        # tasks share it); its devices share the node's cores for their kernel threads.
        nodes = _task_nodes(ray)
        tasks = [_task_of(name) for name in self.device_names]
        task_rank = {task: rank for rank, task in enumerate(sorted(set(tasks)))}
        placed = [nodes[task_rank[task] % len(nodes)] for task in tasks]
        per_node = {}
        for node_id, _ in placed:
            per_node[node_id] = per_node.get(node_id, 0) + 1
        self.actors = [_device_actor(ray, name, max(1, cpus // per_node[node_id]), node_id)
                       for name, (node_id, cpus) in zip(self.device_names, placed)]
        self.actor_of = dict(zip(self.device_names, self.actors))
        described = _ask(ray, [(name, actor.describe.remote()) for name, actor
                               in zip(self.device_names, self.actors)],
                         max(timeout_s, START_TIMEOUT_S), "start")
        self.pids = [pid for pid, _, _ in described]
        self.addresses = [address for _, address, _ in described]
        self.nodes = [node for _, _, node in described]
        # The devices on this client's node also serve it through shared memory.
        self.fast_links, self.fast_threads = ray_fastpath.links_for(
            ray, self.device_names, self.actors, self.pids, self.nodes, self.timeout_s)
        self.closed = False
        # Client-side bookkeeping only: the resources live on the actors.
        self.resources = context.ResourceContainer(session_id)
        self.retired_keys = []

    def _device_pids(self):
        return list(self.pids)

    def list_devices(self):
        listed = []
        for device, address, node_id in zip(super().list_devices(), self.addresses,
                                            self.nodes):
            entry = ClusterDeviceAttributes(device.name, device.device_type,
                                            device.memory_limit_bytes, device.incarnation,
                                            device.pid)
            entry.address, entry.node_id = address, node_id
            listed.append(entry)
        return listed

    def _compile_placed(self, order, devices_of_ops, feed_tensors, fetch_tensors, raw):
        """Partitions a placed step and installs each partition on its device's actor.

        Raises:
          UnavailableError: a device actor died.
          NotFoundError: an actor does not know a kernel of the step.
          UnimplementedError: a node holds a Python object that cannot cross to a device.
        """
        from sessionlib.runtime import worker_runtime

        parted = partition.partition(order, devices_of_ops, feed_tensors, fetch_tensors,
                                     self.device_names, self._fuse, self._rewrites)
        self._uninstall_retired()
        key = f"{self.session_id}/{next(_step_keys)}"
        calls = []
        for plan in parted.partitions:
            peers = {edge: self.actor_of[consumer]
                     for edge, (_, producer, consumer) in enumerate(parted.edges, 1)
                     if producer == plan.device}
            payload = worker_runtime._plan_bytes(plan)
            calls.append((plan.device, self.actor_of[plan.device].install.remote(
                self.session_id, key, payload, self.executor_name, peers)))
        try:
            replies = _ask(self.ray, calls, self.timeout_s, "install a step")
        except BaseException:
            self.retired_keys.append(key)
            raise
        for (device, _), reply in zip(calls, replies):
            if reply[0] != "ok":
                self.retired_keys.append(key)
                message = reply[1]
                if message.startswith("NotFoundError: "):
                    raise errors.NotFoundError(None, None, message[len("NotFoundError: "):])
                raise errors.InternalError(None, None, f"Installing a step on {device} "
                                           f"failed: {message}")
        return RayStep(self, key, parted, len(fetch_tensors), order, devices_of_ops, raw)

    def _uninstall_retired(self):
        keys, self.retired_keys[:] = list(self.retired_keys), []
        if keys:
            for actor in self.actors:
                actor.uninstall.remote(keys)

    def clear_containers(self, containers):
        """Clears the named containers (all for None) on this session's devices."""
        _ask(self.ray, [(name, actor.clear.remote(containers)) for name, actor
                        in zip(self.device_names, self.actors)], self.timeout_s,
             "clear containers")

    def close(self):
        """Drops the session's plans on the actors; the devices' resources stay (they are
        shared by the sessions on the target, as TF's are; `Session.reset` clears them)."""
        if self.closed:
            return
        self.closed = True
        self.resources.clear()
        if self.ray.is_initialized():
            for actor in self.actors:
                actor.close_session.remote(self.session_id)
        self._forget_steps()


class _Part:
    __slots__ = ("actor", "plan", "device", "feeds")

    def __init__(self, actor, plan):
        self.actor = actor
        self.plan = plan
        self.device = plan.device
        self.feeds = plan.feeds


class RayStep(interface.Step):
    """A step installed on its device actors; `run` executes it once."""

    def __init__(self, runtime, key, parted, num_fetches, ops, devices_of_ops, raw):
        self.runtime = runtime
        self.key = key
        self.parted = parted
        self.parts = [_Part(runtime.actor_of[plan.device], plan)
                      for plan in parted.partitions]
        self.num_fetches = num_fetches
        self.fed_fetches = parted.fed_fetches
        self.ops = ops
        self.devices = devices_of_ops
        self.raw = raw
        readers = {}
        for part in self.parts:
            for feed_index, _ in part.feeds:
                readers[feed_index] = readers.get(feed_index, 0) + 1
        # Feeds read by several devices go into the object store once.
        self.shared_feeds = sorted(index for index, count in readers.items() if count > 1)
        weakref.finalize(self, runtime.retired_keys.append, key)

    def run(self, feed_values, run_context, trace=None):
        runtime = self.runtime
        if runtime.closed:
            raise errors.CancelledError(None, None, "Session has been closed.")
        ray = runtime.ray
        run_id = f"{_CLIENT}:{next(_run_ids)}"
        deadline = run_context.deadline
        time_left = None if deadline is None else max(0.0, deadline - time.monotonic())
        # A run that records step stats takes Ray's path, which gathers them.
        replies = (None if trace is not None and trace.step_stats
                   else ray_fastpath.run_step(self, feed_values, run_context, run_id))
        if replies is not None:
            return self._done(replies, feed_values, trace)
        values = list(feed_values)
        packed = [_pack(value) for value in values]
        for index in self.shared_feeds:
            if packed[index] is None:     # large, and read by several devices: stored once
                values[index] = ray.put(values[index])
        pending = {}
        for part in self.parts:
            small, slots, large = [], [], []
            for index, slot in part.feeds:
                if packed[index] is None:
                    slots.append(slot)
                    large.append(values[index])
                else:
                    small.append((slot,) + packed[index])
            message = _dumps((self.key, run_id, run_context.step_id, time_left, small, slots))
            pending[part.actor.run.remote(message, *large)] = part
        if len(pending) == 1:
            # The latency case, one device: wait on the one reply (no ray.wait round).
            (ref, part), = pending.items()
            try:
                reply = ray.get(ref, timeout=_WAIT_SLICE_S)
            except ray.exceptions.GetTimeoutError:
                replies = self._gather(ray, run_id, pending, run_context)
            except ray.exceptions.RayActorError as err:
                replies = [(part, _unavailable(part.device, err))]
            except ray.exceptions.RayError as err:
                replies = [(part, errors.InternalError(None, None, f"Device {part.device} "
                                                       f"failed: {err}"))]
            else:
                replies = [(part, reply)]
        else:
            replies = self._gather(ray, run_id, pending, run_context)
        return self._done(replies, feed_values, trace)

    def _done(self, replies, feed_values, trace):
        """The fetched values of the replies (see `_finish`), with the trace filled."""
        fetched = self._finish(replies, feed_values)
        if trace is not None:
            trace.run_metadata.Clear()
            if trace.partition_graphs:
                for part in self.parts:
                    trace.run_metadata.partition_graphs.add().CopyFrom(
                        self.parted.partition_graph(part.device))
        return fetched

    def _gather(self, ray, run_id, pending, ctx):
        """``[(part, reply or exception)]`` of every part: waits in slices, aborting the run
        on the other devices when one fails, is cancelled, or passes the deadline."""
        replies = []
        grace_deadline = None
        aborted = False

        def abort(reason):
            for part in pending.values():
                part.actor.abort.remote(run_id, reason)

        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=_WAIT_SLICE_S)
            for ref in ready:
                part = pending.pop(ref)
                try:
                    reply = ray.get(ref)
                except ray.exceptions.RayActorError as err:
                    reply = _unavailable(part.device, err)
                except ray.exceptions.RayError as err:
                    reply = errors.InternalError(None, None, f"Device {part.device} failed: "
                                                 f"{err}")
                replies.append((part, reply))
                if isinstance(reply, BaseException) or (type(reply) is not bytes
                                                        and reply[0] != "ok"):
                    if not aborted and pending:
                        aborted = True
                        abort(f"The step failed on {part.device}")
                        grace_deadline = time.monotonic() + _GRACE_S
            if not pending:
                break
            now = time.monotonic()
            if ctx.cancellation.cancelled and not aborted:
                aborted = True
                abort("The run was cancelled")
                grace_deadline = now + _GRACE_S
            late = ray_fastpath.overdue(ctx, now, grace_deadline)
            if late is None:
                continue
            if not aborted:
                abort("The run's deadline passed")
            for part in pending.values():
                replies.append((part, late[0](None, None, f"Device {part.device} {late[1]}")))
            break
        return replies

    def _finish(self, replies, feed_values):
        """The fetched values, or the root failure among the replies (raised)."""
        from sessionlib.runtime import failures

        values = [None] * self.num_fetches
        for fetch_index, feed_index in self.fed_fetches:
            values[fetch_index] = feed_values[feed_index]
        failure, rank_of_failure = None, -1
        for part, reply in replies:
            if isinstance(reply, BaseException):
                error, rank = reply, 2
            elif type(reply) is bytes or reply[0] == "ok":
                if type(reply) is bytes:
                    reply = _loads(reply)
                for item in reply[1]:
                    value = item[1] if len(item) == 2 else _unpack(*item[1:])
                    values[item[0]] = value if self.raw else fetched_value(value)
                continue
            else:
                error, rank = failures.ranked_error_of_reply(reply, part.plan.plan, self.ops,
                                                             self.devices)
            if rank > rank_of_failure:
                failure, rank_of_failure = error, rank
        if failure is not None:
            raise failure
        return values


def reset(target, containers=None, config=None):
    """Clears the named containers (all of them for None) on every device of the cluster.

    Raises:
      UnimplementedError, UnavailableError: as `connect`.
    """
    timeout_s = connect_timeout_s(config)
    ray = connect(target, timeout_s)
    calls = []
    for entry in ray.util.list_named_actors(all_namespaces=True):
        if entry.get("namespace") != NAMESPACE or not entry["name"].startswith("device/"):
            continue
        actor = ray.get_actor(entry["name"], namespace=NAMESPACE)
        calls.append((entry["name"][len("device"):], actor.clear.remote(
            None if containers is None else list(containers))))
    try:
        _ask(ray, calls, timeout_s, "reset")
    except errors.UnavailableError:
        pass  # a dead device has no containers left to clear
