"""The same-node path of the Ray runtime: a step's messages and tensors in shared memory.

Design. A Ray actor call costs about a millisecond (two gRPC hops and a serialization each
way), more than TF's own distributed target takes for a whole small step, and Ray's object
store copies a large tensor in and out. Between processes of one node the local worker runtime
already has what a step needs (``runtime/channel.py``, ``runtime/shm.py``), so on a node they
share, the client and the device actors use it, and Ray keeps what it is good at: it starts,
names and finds the actors, detects their failures, and carries everything across nodes.

* Attach. For each device actor on the client's own node, the client makes a lane block
  (`LANES` lanes, one segment named after the client's pid, as every segment is) and asks the
  actor once, through Ray, to serve it (`RayDevice.attach_lanes`, which calls `serve`). The
  actor maps the block and the client's rendezvous (`channel.Rendezvous`, one per client
  process) and runs one thread per lane. An actor that cannot map them (another host, another
  /dev/shm) says so, and that device stays on Ray. The link is kept per (device, actor pid)
  for the client process's life, so later sessions reuse it, and an actor restarted with a
  new pid gets a new one.
* Run. A step whose partitions all have links runs here (`run_step`): each partition gets one
  lane message ``(step key, run id, step id, time left, feed descriptors, run slots,
  generation, kernel threads)``; feeds are published through the client's `TensorStore`
  (small ones inline), fetches come back as descriptors of the actor's store, handed over in
  place when the step owns them. The kernel threads are the node's cores shared by the
  session's devices there: an actor outlives the session that made it, and the share it got
  then (all cores, for a one-device session) would oversubscribe the node now.
  Cross-device tensors go through the client's rendezvous as between worker processes: the
  producer's arena block (its kernels allocate outputs that leave the device there,
  ``ray_device.install``) is published in place and the consumer maps it, so a 64 MB tensor
  is not copied at all. A step that finds no free lane or run slot, or that has a
  partition on another node, runs on Ray as before, and so does a run that records step
  stats (Ray's path gathers them; a traced run is not a latency case); nothing else differs.
* Faults and clean-up. Every wait is a slice of `_WAIT_SLICE_S`: between slices the client
  checks the pids of the actors it waits for (``/proc``: a zombie counts as dead), its
  cancellation and the run's deadline. A dead actor fails the run with UnavailableError naming
  its device, the run's other partitions are told to stop (their lanes' cancel words, and an
  abort of the run's rendezvous slots that wakes their `_Recv`s with AbortedError), and the
  client unlinks the dead actor's segments and its own lane block for it. The actor's lane
  threads check the client's pid while idle, and a run's kernels see a dead client as a
  cancellation: when the client dies the actor ends the run, stops serving it and unlinks its
  segments (names carry the creator's pid; shm's start-up sweep is the backup). Lanes or run
  slots of a run the client gave up on are reused only once the actor answered them.

Not done: actors that share a node but serve a client on another node still move tensors
between them through Ray (the rendezvous belongs to a client on their node).
"""

import atexit
import collections
import itertools
import os
import threading
import time

from sessionlib import errors
from sessionlib.runtime import channel, partition, settings, shm, worker_runtime

__all__ = ["ENABLED", "LANES", "links_for", "forget_all", "run_step", "overdue", "serve",
           "serving", "client_stats", "actor_stats"]

# Read once per process: SESSIONLIB_RAY_FAST_PATH=0 keeps every step on Ray (benchmarks compare
# the two paths).
ENABLED = settings.ray_fast_path()
LANES = 4              # steps of one client in flight on one device at once on this path
_WAIT_SLICE_S = 0.05   # the longest wait between liveness, cancellation and deadline checks
_GRACE_S = 1.0         # how long the other partitions may take to stop after one failed
_DEADLINE_MARGIN_S = 0.25   # a device's own deadline error (naming its op) arrives first
_CLIENT_CHECK_S = 0.5  # how often an actor looks whether a client it serves is alive

_lock = threading.Lock()
_links = {}            # (device name, actor pid) -> _Link (client side)
_hub = None            # the client's rendezvous and run slots
_client_counts = collections.Counter()
_actor_counts = collections.Counter()
_served = {}           # client pid -> _Client (actor side)
_process_threads = 0   # the elementwise and BLAS threads of this actor process, once set
_left_actors = set()   # pids of linked actors still alive when the client left their cluster


def _alive(pid):
    """Whether process `pid` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2][1:2] not in (b"Z", b"X")
    except OSError:
        return shm._pid_alive(pid) if not os.path.isdir("/proc/self") else False


def client_stats():
    """Counters of this client process: ``lane_runs`` (steps run on this path) and
    ``ray_runs`` (steps of sessions with links that ran on Ray)."""
    with _lock:
        return dict(_client_counts)


def serving():
    """Whether this actor serves a client through shared memory now."""
    return bool(_served)


def actor_stats():
    """Counters of this actor process: ``lane_runs``, ``shm_sends`` (tensors it sent through
    a rendezvous), ``clients`` (the client processes it serves now) and ``leases`` (the
    tensors it published that no reader has released yet)."""
    with _lock:
        return dict(_actor_counts, clients=len(_served), leases=shm.store().outstanding_leases)


# ---- client side -----------------------------------------------------------------------------

class _Hub:
    """The client's rendezvous (one block of run slots) for cross-device tensors."""

    def __init__(self):
        self.rendezvous = channel.Rendezvous()
        self.free = list(range(channel.SLOTS_PER_BLOCK - 1, -1, -1))
        self.quarantined = []     # (run slots, lanes still to answer)
        self.generations = itertools.count(1)

    def next_generation(self):
        value = next(self.generations) & 0xFFFFFFFF
        return value or next(self.generations) & 0xFFFFFFFF

    def acquire(self, num_edges):
        """Run slots for a step of `num_edges` edges, or None when too few are free."""
        needed = channel.slots_for_edges(num_edges)
        with _lock:
            if self.quarantined:
                still = []
                for run_slots, lanes in self.quarantined:
                    if all(link.dead or lane.response_ready() for link, lane in lanes):
                        self.free.extend(run_slots)
                    else:
                        still.append((run_slots, lanes))
                self.quarantined = still
            if len(self.free) < needed:
                return None
            return tuple(self.free.pop() for _ in range(needed))

    def release(self, run_slots, abandoned):
        with _lock:
            if abandoned:
                self.quarantined.append((run_slots, abandoned))
            else:
                self.free.extend(run_slots)


class _Link:
    """The lanes of one device actor on the client's node."""

    def __init__(self, device, pid, block):
        self.device = device
        self.pid = pid
        self.block = block
        self.free = list(block.lanes)
        self.draining = []        # lanes of runs the client gave up on, until they answer
        self.dead = False

    def acquire(self):
        with _lock:
            if self.draining:
                for lane in [lane for lane in self.draining if lane.response_ready()]:
                    self.draining.remove(lane)
                    _discard(lane.wait_response(0.0, 0.0))
                    self.free.append(lane)
            return self.free.pop() if self.free else None

    def release(self, lane):
        with _lock:
            self.free.append(lane)

    def abandon(self, lane):
        with _lock:
            self.draining.append(lane)

    def alive(self):
        if not self.dead and not _alive(self.pid):
            self.died()
        return not self.dead

    def died(self):
        """Forgets the dead actor and removes what it and this link left in /dev/shm."""
        with _lock:
            if self.dead:
                return
            self.dead = True
            _links.pop((self.device, self.pid), None)
        self.block.unlink()
        shm.unlink_segments_of(self.pid)
        shm.store().forget_process(self.pid)


def _discard(data):
    """Releases the fetched tensors of a reply nobody reads (their producer keeps them leased
    until a view of them dies)."""
    try:
        reply = channel.decode(data)
        if reply[0] == "ok":
            for _, descriptor in reply[1]:
                shm.store().open(descriptor)
    except (ValueError, TypeError, IndexError, errors.OpError):
        pass


def links_for(ray, devices, actors, pids, nodes, timeout_s):
    """``({device: link}, threads)``: the links of the devices whose actors run on this
    client's node and serve it through shared memory (attached now when new; the others
    stay on Ray), and the kernel threads each of them gets in this session's runs (the
    node's cores shared by the session's devices there)."""
    global _hub
    here = ray.get_runtime_context().get_node_id()
    threads = max(1, (os.cpu_count() or 1) // max(1, sum(node == here for node in nodes)))
    if not ENABLED:
        return {}, threads
    for link in list(_links.values()):
        link.alive()        # forgets the actors that died since (and their segments)
    found, asked = {}, []
    for device, actor, pid, node in zip(devices, actors, pids, nodes):
        if node != here or not _alive(pid):
            continue
        link = _links.get((device, pid))
        if link is not None:
            found[device] = link
            continue
        with _lock:
            if _hub is None:
                _hub = _Hub()
        block = channel.LaneBlock(None, LANES, channel.GROWN_SLOT_BYTES)
        asked.append((device, pid, block, actor.attach_lanes.remote(
            os.getpid(), block.name, LANES, channel.GROWN_SLOT_BYTES, _hub.rendezvous.name)))
    for device, pid, block, ref in asked:
        try:
            reply = ray.get(ref, timeout=timeout_s)
        except Exception:  # noqa: BLE001 - that device stays on Ray, whose errors name it
            reply = ("error",)
        if reply[0] == "ok" and reply[1] == pid:
            link = found[device] = _Link(device, pid, block)
            with _lock:
                _links[(device, pid)] = link
        else:
            block.unlink()
    return found, threads


def forget_all(actors_ended=False, wait_s=5.0):
    """Drops every link (the client left the cluster): unlinks the lane blocks.

    Args:
      actors_ended: the client stopped its own Ray instance, which kills the actors without
        letting them clean up: their segments are unlinked too once they are gone (waiting
        up to `wait_s` for that).
    """
    global _hub
    with _lock:
        links = list(_links.values())
        _links.clear()
        hub, _hub = _hub, None
    give_up = time.monotonic() + wait_s
    for link in links:
        link.dead = True
        link.block.unlink()
        if actors_ended:
            while _alive(link.pid) and time.monotonic() < give_up:
                time.sleep(0.01)
        if _alive(link.pid):
            # Its cluster may stop after the client left it (a test's cluster does): the
            # actor's segments are looked at again at exit.
            with _lock:
                _left_actors.add(link.pid)
        else:
            shm.unlink_segments_of(link.pid)
    if hub is not None:
        hub.rendezvous.unlink()


def _unlink_segments_of_dead_actors():
    """At exit: the segments of the actors this client used that died since (while no run
    noticed, or after the client left their cluster)."""
    for pid in {link.pid for link in list(_links.values())} | _left_actors:
        if not _alive(pid):
            shm.unlink_segments_of(pid)


atexit.register(_unlink_segments_of_dead_actors)


def run_step(step, feed_values, ctx, run_id):
    """Runs `step` (a `ray_runtime.RayStep`) once on this path.

    Returns:
      ``[(part, reply or exception)]`` as the Ray path's gather gives them, or None when the
      step cannot run here now (it then runs on Ray).
    """
    links = step.runtime.fast_links
    if not links:
        return None
    chosen = [links.get(part.device) for part in step.parts]
    if None in chosen or any(link.dead for link in chosen):
        with _lock:
            _client_counts["ray_runs"] += 1
        return None
    num_edges = step.parted.num_edges
    hub = _hub
    run_slots, generation = (), 0
    if num_edges:
        run_slots = hub.acquire(num_edges) if hub is not None else None
        if run_slots is None:
            return None
        generation = hub.next_generation()
    lanes = []
    for link in chosen:
        lane = link.acquire()
        if lane is None:
            for link_, lane_ in zip(chosen, lanes):
                link_.release(lane_)
            if run_slots:
                hub.release(run_slots, ())
            with _lock:
                _client_counts["ray_runs"] += 1
            return None
        lanes.append(lane)
    with _lock:
        _client_counts["lane_runs"] += 1
    store = shm.store()
    deadline = ctx.deadline
    time_left = None if deadline is None else max(0.0, deadline - time.monotonic())
    pending = []   # (part, link, lane, feeds) posted and not answered yet
    try:
        for part, link, lane in zip(step.parts, chosen, lanes):
            feeds = [(slot, store.publish(feed_values[index])) for index, slot in part.feeds]
            message = (step.key, run_id, ctx.step_id, time_left, feeds, run_slots,
                       generation, step.runtime.fast_threads)
            lane.post_request(channel.encode(message, store, lane.capacity))
            pending.append((part, link, lane, feeds))
        if len(pending) == 1:
            # The latency case: one reply, waited for on the lane with no other bookkeeping.
            part, link, lane, _ = pending[0]
            data = lane.wait_response(_WAIT_SLICE_S)
            if data is not None:
                pending.clear()
                link.release(lane)
                return [(part, _reply(part, data, store))]
        replies = _gather(pending, ctx, hub, run_slots, generation, num_edges, store)
    except BaseException:
        # (Ctrl-C, or /dev/shm full): the lanes posted go back once they answered, those
        # not posted at once, and the partitions that run are stopped.
        for link, lane in zip(chosen[len(pending):], lanes[len(pending):]):
            link.release(lane)
        _abandon(pending, hub, run_slots, generation, num_edges)
        raise
    finally:
        if run_slots:
            hub.release(run_slots, [(link, lane) for _, link, lane, _ in pending])
    return replies


def _abandon(pending, hub, run_slots, generation, num_edges):
    """Stops the partitions of `pending` (their lanes' cancel words, the run's rendezvous
    slots) and leaves their lanes to drain."""
    for _, link, lane, _ in pending:
        lane.cancel()
        link.abandon(lane)
    if run_slots:
        hub.rendezvous.abort(run_slots, generation, num_edges)


def _reply(part, data, store):
    """A lane's reply in the Ray path's form: fetched descriptors opened (writable: the
    producer handed them over)."""
    try:
        reply = channel.decode(data, store)
        if reply[0] != "ok":
            return reply
        return ("ok", [(index, store.open(descriptor, writable=True))
                       for index, descriptor in reply[1]])
    except errors.OpError as err:    # a fetched tensor's segment is gone
        return err
    except (ValueError, TypeError, IndexError, KeyError) as err:
        return worker_runtime.malformed_reply(part, f"{type(err).__name__}: {err}")


def overdue(ctx, now, grace_deadline):
    """``(error class, what)`` once the client stops waiting for a run's partitions (on
    either path): the run's deadline, with a margin, or the grace after a failure passed;
    else None."""
    if ctx.deadline is not None and now > ctx.deadline + _DEADLINE_MARGIN_S:
        return errors.DeadlineExceededError, "did not answer before the run's deadline"
    if grace_deadline is not None and now > grace_deadline:
        return errors.AbortedError, ("did not stop in time after the step failed or was "
                                     "cancelled")
    return None


def _gather(pending, ctx, hub, run_slots, generation, num_edges, store):
    """``[(part, reply or exception)]``: waits in slices for every partition, stopping the
    others when one fails, dies, is cancelled or is late. `pending` keeps the partitions
    given up on (their lanes are left to drain)."""
    replies = []
    aborted = False
    grace_deadline = None

    def abort():
        for _, _, lane, _ in pending:
            lane.cancel()
        if run_slots:
            hub.rendezvous.abort(run_slots, generation, num_edges)

    while pending:
        progressed = False
        for index, item in enumerate(list(pending)):
            part, link, lane, _ = item
            data = lane.wait_response(_WAIT_SLICE_S if index == 0 and not progressed else 0.0,
                                      -1.0 if index == 0 else 0.0)
            if data is None:
                continue
            progressed = True
            pending.remove(item)
            link.release(lane)
            reply = _reply(part, data, store)
            replies.append((part, reply))
            if (isinstance(reply, BaseException) or reply[0] != "ok") and not aborted:
                aborted = True
                abort()
                grace_deadline = time.monotonic() + _GRACE_S
        if not pending or progressed:
            continue
        for item in list(pending):
            part, link, lane, feeds = item
            if not link.alive():
                pending.remove(item)
                for _, descriptor in feeds:   # the dead actor holds no view of them
                    store.cancel(descriptor)
                replies.append((part, errors.UnavailableError(
                    None, None, f"Device {part.device} is unavailable: its actor (pid "
                    f"{link.pid}) died")))
                if not aborted:
                    aborted = True
                    abort()
                    grace_deadline = time.monotonic() + _GRACE_S
        now = time.monotonic()
        if pending and ctx.cancellation.cancelled and not aborted:
            aborted = True
            abort()
            grace_deadline = now + _GRACE_S
        if not pending:
            break
        late = overdue(ctx, now, grace_deadline)
        if late is None:
            continue
        for part, _, _, _ in pending:
            replies.append((part, late[0](None, None, f"Device {part.device} {late[1]}")))
        _abandon(pending, hub, run_slots, generation, num_edges)
        break
    return replies


# ---- actor side ------------------------------------------------------------------------------

class _Client:
    """A client process this actor serves: its rendezvous, its lanes, whether it lives."""

    def __init__(self, pid, rendezvous):
        self.pid = pid
        self.rendezvous = rendezvous
        self.blocks = []
        self.checked_at = time.monotonic()
        self.dead = False

    def gone(self):
        """Whether the client died (looked at once per `_CLIENT_CHECK_S` at most)."""
        if self.dead:
            return True
        now = time.monotonic()
        if now - self.checked_at >= _CLIENT_CHECK_S:
            self.checked_at = now
            if not _alive(self.pid):
                self._drop()
        return self.dead

    def _drop(self):
        with _lock:
            if self.dead:
                return
            self.dead = True
            if _served.get(self.pid) is self:
                del _served[self.pid]
        # The client cannot clean up after itself any more: its segments go now.
        shm.unlink_segments_of(self.pid)
        shm.store().forget_process(self.pid)


def serve(device, client_pid, block_name, count, slot_bytes, rendezvous_name):
    """Serves the lane block `block_name` of client `client_pid` (a thread per lane).

    Returns:
      ``("ok", pid of this actor)`` or ``("error", message)``.
    """
    try:
        if type(client_pid) is not int or not _alive(client_pid):
            return ("error", f"client {client_pid!r} is not a live process here")
        with _lock:
            client = _served.get(client_pid)
        rendezvous = None
        if client is None or client.rendezvous.name != rendezvous_name:
            rendezvous = channel.Rendezvous(rendezvous_name)
        block = channel.LaneBlock(block_name, count, slot_bytes)
    except (OSError, ValueError, errors.OpError) as err:
        return ("error", f"{type(err).__name__}: {err}")
    if rendezvous is not None:
        # Only once the new segments are mapped: a bad request changes nothing.
        if client is not None:
            # The client left the cluster and came back with a new rendezvous: the lanes
            # of its old one (unlinked by now) stop.
            client.dead = True
        client = _Client(client_pid, rendezvous)
        with _lock:
            _served[client_pid] = client
    client.blocks.append(block)
    for lane in block.lanes:
        threading.Thread(target=_serve_lane, args=(device, client, lane),
                         name=f"sessionlib-lane-{client_pid}-{lane.index}",
                         daemon=True).start()
    return ("ok", os.getpid())


def _serve_lane(device, client, lane):
    from sessionlib.runtime import failures

    threads = [0]     # the OpenMP threads of this lane's thread (a per-thread setting)
    region, request, store = lane.region, lane.request, shm.store()
    last = region.load(request)
    while True:
        seq = region.wait_post(request, last, channel.WORKER_SPIN_S, 0.0)
        while seq == last:
            if client.gone():
                return
            seq = region.wait_post(request, last, 0.0, _CLIENT_CHECK_S)
        last = seq
        try:
            reply = _run(device, client, lane, store, threads,
                         *channel.decode(region.read(request), store))
        except BaseException as err:  # noqa: BLE001 - every failure goes back as a reply
            code, text = failures.error_code_of(err)
            reply = ("err", code, text, -1, -1)
        try:
            data = channel.encode(reply, store, lane.capacity)
        except BaseException as err:  # noqa: BLE001
            data = channel.encode(("err", errors.INTERNAL, f"cannot encode the reply: {err}",
                                   -1, -1), None, lane.capacity)
        lane.post_response(data)


def _use_threads(count, lane_threads):
    """Gives this lane thread's kernels `count` threads (OpenMP, the elementwise kernels and,
    for the process, BLAS), where they have another count now.

    Raises:
      ValueError: for a count that is not an int from 1 to 1024 (an untrusted message).
    """
    global _process_threads
    if count == lane_threads[0]:
        return
    if type(count) is not int or not 1 <= count <= 1024:
        raise ValueError(f"bad kernel thread count {count!r}")
    from sessionlib._core import channel as core_channel
    from sessionlib._core import elementwise

    core_channel.set_omp_threads(count)
    lane_threads[0] = count
    with _lock:
        if count == _process_threads:
            return
        _process_threads = count
    from sessionlib.runtime import worker

    elementwise.set_num_threads(count)
    worker.limit_blas_threads(count)


def _run(device, client, lane, store, lane_threads, key, run_id, step_id, time_left, feeds,
         run_slots, generation, threads):
    """One lane message: runs the step through `RayDevice.run_step`; returns the reply."""
    # The session says how many threads its devices on this node get (the cores shared by
    # them): an actor made by an earlier session with fewer devices would take too many.
    _use_threads(threads, lane_threads)
    with _lock:
        _actor_counts["lane_runs"] += 1
    if store._outstanding:
        store.reclaim()
    block = client.rendezvous
    entry = device.installed.get(key)
    num_edges = entry.num_edges if entry is not None else 0
    if entry is not None and (run_slots or num_edges):   # untrusted: slots mapped here
        block.check_slots(run_slots, num_edges)
    opened = [(slot, store.open(descriptor)) for slot, descriptor in feeds]

    made = []

    def rendezvous(entry, deadline, cancellation):
        if not run_slots:
            return None
        check = channel.deadline_check(deadline, lambda: cancellation.cancelled)
        # (A received tensor counts against this device's memory limit, as on Ray's path.)
        made.append(_CountingRendezvous(block, store, run_slots, generation, check,
                                        device.memory))
        return made[-1]

    try:
        reply = device.run_step(key, run_id, step_id, time_left, opened, rendezvous,
                                lambda: lane.cancelled() or client.gone())
    finally:
        # The reservations of the read-only tensors the run sent (`RunRendezvous.finish`):
        # kept, each step's blocks would stay leased and the next step map new ones.
        for sent in made:
            sent.finish()
    del opened
    if reply[0] != "ok":
        if run_slots:
            block.abort(run_slots, generation, num_edges)
        return reply
    # A fetched array the step owns that lies in the arena goes over where it is.
    return ("ok", [(index, store.publish(value, in_place=True, hand_over=True))
                   for index, value in reply[1]])


class _CountingRendezvous(partition.RunRendezvous):
    """`partition.RunRendezvous` that counts its sends (tests look at the route)."""

    __slots__ = ()

    def send(self, edge, value):
        with _lock:
            _actor_counts["shm_sends"] += 1
        partition.RunRendezvous.send(self, edge, value)
