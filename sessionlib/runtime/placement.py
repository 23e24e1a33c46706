"""Placement: which device runs each op, by TF 2.21's placer rules (one task).

Design. TF places the *whole* graph at once (not the ops of one step), in two stages, and so
does `Placer`, so that ``log_device_placement`` prints the device TF would print for every
node:

1. Colocation groups (TF's ``ColocationGraph``), a union-find over the graph's ops:

   * an op joins the op that feeds it a resource (a variable or queue handle) or a reference
     it takes as a reference (``Assign``'s first input); such an edge makes the consumer
     take the resource's requested device (an explicit device of its own is overridden);
   * an op joins the groups its ``_class`` attr names (``["loc:@name"]``, which
     `tf.colocate_with` writes and imported GraphDefs carry).

   A group merges its members' requested devices part by part; two different ids (or types)
   are an error, or with ``allow_soft_placement`` leave the part open. Its device types are
   those every member has a kernel for.

2. Assignment, in graph order, skipping *generators* (an op with no inputs and one
   non-reference output: a constant, a placeholder, ``VarHandleOp``):

   * a group already assigned keeps its device;
   * otherwise the candidates are the devices matching the group's requested device (all
     devices when none) with a kernel for the group, best type first (GPU before CPU, see
     `device_type_priority`), then by name: the op takes the first one, the *default
     device*, not its input's device;
   * but a *metadata* op (``Shape``, ``Size``, ``Rank``), or an ``Identity`` with one input
     and one consumer whose requested devices are equal, goes with its input if it can;
   * then the generators: with their consumers when all of them are on one device the
     generator can use, else on their default device.

   Under ``allow_soft_placement`` a group whose requested device does not exist (or has no
   kernel for it) goes to the best device of its task, and each op so moved is logged
   through the ``sessionlib`` logger, once.

Growth. When the graph grows, TF places it again and keeps only its stateful ops where they
were; `Placer` does the same when a step asks for an op it has not placed yet (a stateless op
may then move, e.g. a constant that gained a consumer on another device; compiled steps are
dropped when the graph changes anyway). Steps whose ops are all placed keep their devices
however much the graph grew meanwhile, so a graph that grows while steps run is not placed
again on every run. TF fails the run for any op of the graph that cannot be placed; here only
a step that needs such an op fails.

Device types. `kernel_device_types` (an argument of `Placer`) says which device types have a
kernel for an op; by default every type does. A session passes the module's
`kernel_device_types`: an emulated GPU (``runtime/devices.py``) runs only the ops TF has a GPU
kernel for, so such an op pinned to a GPU is TF's "no supported kernel for GPU devices"
``InvalidArgumentError`` unless soft placement moves it, and variables made without a device
land on GPU:0, as in TF. The preference for a type is
`device_type_priority`, as TF's device factories' priorities: GPU, then CPU.
"""

import logging
import threading

from sessionlib import dtypes, errors
from sessionlib.framework import device_spec
from sessionlib.runtime import kernel_table

__all__ = ["Placer", "logger", "device_type_priority", "warn_unknown_device_count_keys",
           "kernel_device_types", "METADATA_OPS"]

logger = logging.getLogger("sessionlib")

# TF's node classes whose ops work on a tensor's metadata only (graph.cc's NC_METADATA): they
# go with their input rather than to the default device.
METADATA_OPS = frozenset({"Shape", "Size", "Rank"})
_IDENTITY_OPS = frozenset({"Identity", "RefIdentity"})
# Ops that take a resource without being colocated with it (TF's input colocation exemption).
_EXEMPT_FROM_RESOURCE_COLOCATION = frozenset({"IdentityN"})

# The device types `device_count` may name; another key is ignored with a warning.
KNOWN_DEVICE_TYPES = ("CPU", "GPU")

_TYPE_PRIORITY = {"GPU": 210, "CPU": 70}


def device_type_priority(device_type):
    """How strongly the placer prefers `device_type` for an op with no requested device (TF's
    device factory priorities: a GPU before the CPU)."""
    return _TYPE_PRIORITY.get(device_type, 0)


def kernel_device_types(op):
    """The device types with a kernel for `op`, as TF registers them (the `Placer`'s
    ``kernel_device_types`` of a session): every op runs on the CPU; on an emulated GPU only
    where TF has a GPU kernel (``kernel_table.supports_device``, which knows the CPU-only
    kernels and the dtypes a GPU variable lacks). An op whose kernel TF prefers on the CPU
    (``kernel_table.prefers_cpu``: the tf.data iterator ops) is kept there.
    """
    kernel = op._opdef.kernel
    if kernel_table.prefers_cpu(kernel):
        return ("CPU",)
    dtype = op._attrs.get("dtype")
    dtype_name = getattr(dtype, "name", None)
    return tuple(device_type for device_type in KNOWN_DEVICE_TYPES
                 if kernel_table.supports_device(kernel, device_type, dtype_name))


def warn_unknown_device_count_keys(device_count):
    """Warns through the ``sessionlib`` logger about `device_count` keys that name no device
    type sessionlib has (``{'TPU': 1}``, ``{'cpu': 2}``); such keys change nothing.

    Args:
      device_count: the ``ConfigProto.device_count`` map (or a dict).

    Returns:
      The unknown keys, sorted.
    """
    unknown = sorted(key for key in dict(device_count) if key not in KNOWN_DEVICE_TYPES)
    for key in unknown:
        logger.warning("ConfigProto.device_count has the unknown device type %r (known: %s); "
                       "it is ignored", key, ", ".join(KNOWN_DEVICE_TYPES))
    return unknown


# ---- parsed device names: (job, replica, task, type, id), None where unspecified ----------

_JOB, _REPLICA, _TASK, _TYPE, _ID = range(5)
_EMPTY = (None, None, None, None, None)


def _parse(name):
    spec = device_spec.DeviceSpec.from_string(name)
    return (spec.job, spec.replica, spec.task, spec.device_type, spec.device_index)


def _spec_string(parsed):
    """TF's ``ParsedNameToString``: only the parts that are set, ``*`` for an open type/id."""
    job, replica, task, kind, index = parsed
    text = ""
    if job is not None:
        text += f"/job:{job}"
    if replica is not None:
        text += f"/replica:{replica}"
    if task is not None:
        text += f"/task:{task}"
    if kind is not None or index is not None:
        text += f"/device:{kind or '*'}:{'*' if index is None else index}"
    return text


class _MergeError(Exception):
    pass


def _merge(target, other, soft):
    """TF's ``MergeDevNames``: `other`'s parts filled into `target`.

    A conflict in job, replica or task is an error; in type or id it is an error too, unless
    `soft`, which leaves the conflicting part (and the id, for a type) unspecified.
    """
    merged = list(target)
    for part, what in ((_JOB, "jobs"), (_REPLICA, "replicas"), (_TASK, "tasks")):
        if other[part] is not None:
            if merged[part] is not None and merged[part] != other[part]:
                raise _MergeError(f"Cannot merge devices with incompatible {what}: "
                                  f"'{_spec_string(target)}' and '{_spec_string(other)}'")
            merged[part] = other[part]
    for part, what in ((_TYPE, "types"), (_ID, "ids")):
        if other[part] is None:
            continue
        if merged[part] is not None and merged[part] != other[part]:
            if not soft:
                raise _MergeError(f"Cannot merge devices with incompatible {what}: "
                                  f"'{_spec_string(target)}' and '{_spec_string(other)}'")
            merged[_ID] = None
            if part == _TYPE:
                merged[_TYPE] = None
            return tuple(merged)
        merged[part] = other[part]
    return tuple(merged)


def _compatible(a, b):
    return all(x is None or y is None or x == y for x, y in zip(a, b))


def _matches(spec, device):
    return all(want is None or want == have for want, have in zip(spec, device))


class _Group:
    """The state of one colocation group, kept at its union-find root (TF's ``Member``)."""

    __slots__ = ("requested", "resource", "types", "assigned", "rank")

    def __init__(self, requested, resource, types):
        self.requested = requested
        self.resource = resource
        self.types = types
        self.assigned = None
        self.rank = 0


def _is_generator(op):
    """TF's ``IsGeneratorNode``: no inputs and a single output that is not a reference."""
    return (not op._inputs and len(op._outputs) == 1
            and not op._outputs[0].dtype._is_ref_dtype)


def _is_resource_generator(op):
    return (not op._inputs and len(op._outputs) == 1
            and (op._outputs[0].dtype is dtypes.resource or op._outputs[0].dtype._is_ref_dtype))


def _takes_resource(op, index, tensor):
    """Whether input `index` of `op` is a resource or reference edge (TF's input type)."""
    if op.type in _EXEMPT_FROM_RESOURCE_COLOCATION:
        return False
    if tensor.dtype is dtypes.resource:
        return True
    return tensor.dtype._is_ref_dtype and index in op._opdef.ref_inputs


class Placer:
    """Places the ops of a session's graph on the session's devices.

    Args:
      device_names: the full names of the session's devices, e.g.
        ``['/job:localhost/replica:0/task:0/device:CPU:0', ...]``.
      allow_soft_placement: an op whose requested device does not exist (or has no kernel for
        it) goes to the best device there is instead of failing.
      log_device_placement: print (and log) one line per op as TF does:
        ``name: (Type): /job:localhost/replica:0/task:0/device:CPU:0``.
      kernel_device_types: a function from an `Operation` to the device types that have a
        kernel for it (None, or a function returning None: every type).
    """

    def __init__(self, device_names, allow_soft_placement=False, log_device_placement=False,
                 kernel_device_types=None):
        self._devices = list(device_names)
        self._parsed = {name: _parse(name) for name in self._devices}
        # TF's candidate order: preferred type first, then by name.
        self._ordered = sorted(self._devices, key=lambda name: (
            -device_type_priority(self._parsed[name][_TYPE]), name))
        self._types = tuple(sorted({self._parsed[n][_TYPE] for n in self._devices},
                                   key=lambda t: -device_type_priority(t)))
        self._soft = allow_soft_placement
        self._log = log_device_placement
        self._kernel_device_types = kernel_device_types
        self._lock = threading.RLock()
        self._placed = {}       # op -> full device name
        self._errors = {}       # op -> InvalidArgumentError, raised when a step needs the op
        self._graph = None
        self._version = None
        self._reported = set()  # ops whose soft placement was logged

    @property
    def device_names(self):
        return list(self._devices)

    def device_of(self, op):
        """The full device name for `op` (placing its graph first if needed).

        Raises:
          InvalidArgumentError: for an op that cannot be placed: an explicit device that does
            not exist (without soft placement), or colocation constraints that conflict.
        """
        return self.place([op])[0]

    def place(self, ops):
        """The device of each op in `ops`, as a list (the graph is placed as a whole).

        Raises:
          InvalidArgumentError: as `device_of`, for the first op of `ops` that cannot be
            placed.
        """
        ops = list(ops)
        if not ops:
            return []
        with self._lock:
            graph = ops[0].graph
            # The graph is placed again only when an op asked for has no device yet: a graph
            # that grows while steps run (another thread adding ops) must not make every run
            # place the whole graph again, which would be quadratic in its size.
            if graph is not self._graph or any(
                    op not in self._placed and op not in self._errors for op in ops):
                self._place_graph(graph, ops)
            result = []
            for op in ops:
                error = self._errors.get(op)
                if error is not None:
                    raise error
                result.append(self._placed[op])
            return result

    # ---- the placer ----------------------------------------------------------------------

    def _place_graph(self, graph, extra_ops):
        version = graph.version
        nodes = graph.get_operations()
        known = set(nodes)
        nodes += [op for op in dict.fromkeys(extra_ops) if op not in known]
        index = {op: i for i, op in enumerate(nodes)}
        # Stateful ops keep the device they had (TF's stateful placements); the rest may move.
        pinned = {} if graph is not self._graph else {
            op: device for op, device in self._placed.items()
            if op._opdef.stateful and op in index}
        previous = self._placed if graph is self._graph else {}

        parent = list(range(len(nodes)))
        groups = [self._new_group(op, pinned.get(op)) for op in nodes]
        errors_at = {}

        def root(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def union(x, y):
            """Merges the groups of nodes x and y (TF's ``ColocateNodes``); raises _MergeError."""
            rx, ry = root(x), root(y)
            if rx == ry:
                return
            gx, gy = groups[rx], groups[ry]
            new, old = (ry, rx) if gx.rank < gy.rank else (rx, ry)
            gnew, gold = groups[new], groups[old]
            try:
                requested = _merge(gnew.requested, gold.requested, self._soft)
                resource = _merge(gnew.resource, gold.resource, False)
            except _MergeError as err:
                raise _MergeError(f"Cannot colocate nodes {{{{colocation_node "
                                  f"{nodes[x].name}}}}} and {{{{colocation_node "
                                  f"{nodes[y].name}}}}}: {err}") from None
            types = tuple(t for t in gnew.types if t in gold.types)
            if not types:
                raise _MergeError(
                    f"Cannot colocate nodes {{{{colocation_node {nodes[x].name}}}}} and "
                    f"{{{{colocation_node {nodes[y].name}}}}} because no device type supports "
                    "both of those nodes and the other nodes colocated with them.")
            if gnew.assigned is None:
                gnew.assigned = gold.assigned
            gnew.requested, gnew.resource, gnew.types = requested, resource, types
            if gx.rank == gy.rank:
                gnew.rank += 1
            parent[old] = new

        consumers = [[] for _ in nodes]
        # 1a. Resource and reference edges.
        for j, op in enumerate(nodes):
            for slot, tensor in enumerate(op._inputs):
                i = index.get(tensor.op)
                if i is None:
                    continue
                consumers[i].append(j)
                if not _takes_resource(op, slot, tensor):
                    continue
                src, dst = groups[root(i)], groups[root(j)]
                if not _compatible(src.requested, dst.requested):
                    # The consumer goes where the resource is, whatever it asked for.
                    dst.requested = _merge(src.requested, dst.resource, True)
                try:
                    union(i, j)
                except _MergeError as err:
                    errors_at.setdefault(j, str(err))
            for control in op._control_inputs:
                i = index.get(control)
                if i is not None:
                    consumers[i].append(j)
        # 1b. `_class` attrs: an op joins the groups it names, then its own name's group.
        group_roots = {}
        for j, op in enumerate(nodes):
            specs = op._attrs.get("_class") or ()
            names = [s[len("loc:@"):] for s in (specs if isinstance(specs, (list, tuple))
                                                 else ()) if isinstance(s, str)
                     and s.startswith("loc:@")]
            for name in names + [op.name]:
                first = group_roots.setdefault(name, j)
                if first == j:
                    continue
                try:
                    union(j, first)
                except _MergeError as err:
                    if not self._soft:
                        errors_at.setdefault(j, str(err))

        # 2. Assignment.
        assigned = [None] * len(nodes)
        order = []
        generators = []

        def assign(j, device):
            assigned[j] = device
            group = groups[root(j)]
            if group.assigned is None:
                group.assigned = device
            order.append(j)

        for j, op in enumerate(nodes):
            if j in errors_at:
                continue
            if op in pinned:
                assign(j, pinned[op])
                continue
            if _is_generator(op):
                generators.append(j)
                continue
            candidates = self._candidates(op, groups[root(j)], errors_at, j)
            if candidates is None:
                continue
            device = None
            if op.type in METADATA_OPS or self._identity_follows_input(op, consumers[j],
                                                                        nodes):
                first = (op._inputs[0].op if op._inputs else op._control_inputs[0])
                source = assigned[index[first]] if first in index else None
                if source in candidates:
                    device = source
            assign(j, device or candidates[0])
        for j in generators:
            op = nodes[j]
            candidates = self._candidates(op, groups[root(j)], errors_at, j)
            if candidates is None:
                continue
            device = None
            uses = {assigned[k] for k in consumers[j]}
            if len(uses) == 1:
                (only,) = uses
                if only in candidates:
                    device = only
            assign(j, device or candidates[0])

        self._graph, self._version = graph, version
        self._placed = {nodes[j]: assigned[j] for j in order}
        self._errors = {}
        for j, message in errors_at.items():
            op = nodes[j]
            self._errors[op] = errors.InvalidArgumentError(
                op.node_def, op, f"Cannot assign a device for operation {op.name}: {message}")
        for j in order:
            op = nodes[j]
            device = assigned[j]
            if self._log and previous.get(op) != device:
                line = f"{op.name}: ({op.type}): {device}"
                logger.info(line)
                print(line, flush=True)
            if op.device and op not in self._reported:
                self._report_move(op, device, groups[root(j)])

    def _new_group(self, op, pinned):
        types = self._types
        if self._kernel_device_types is not None:
            supported = self._kernel_device_types(op)
            if supported is not None:
                types = tuple(t for t in self._types if t in set(supported))
        requested = resource = _EMPTY
        if pinned is not None:
            requested = self._parsed[pinned]
        elif op.device:
            try:
                requested = _parse(op.device)
            except (ValueError, TypeError):
                requested = _EMPTY
            if _is_resource_generator(op):
                resource = requested
        group = _Group(requested, resource, types or self._types)
        group.assigned = pinned
        return group

    def _identity_follows_input(self, op, consumer_list, nodes):
        """TF's ``MatchIdentityOperation``: an Identity without a device, with one input edge
        and one output edge whose ends requested the same device."""
        if op.type not in _IDENTITY_OPS or op.device:
            return False
        if len(op._inputs) + len(op._control_inputs) != 1 or len(consumer_list) > 1:
            return False
        source = op._inputs[0].op if op._inputs else op._control_inputs[0]
        # No consumer: the edge goes to the graph's sink, which requests no device.
        target = nodes[consumer_list[0]].device if consumer_list else ""
        return source.device == target

    def _candidates(self, op, group, errors_at, j):
        """The devices `op`'s group may take, best first; None (and an error noted) if none."""
        if group.assigned is not None:
            return [group.assigned]
        usable = [name for name in self._ordered if self._parsed[name][_TYPE] in group.types]
        if group.requested == _EMPTY:
            return usable
        found = [name for name in usable if _matches(group.requested, self._parsed[name])]
        if not found and self._soft:
            for keep in (group.resource, _EMPTY):
                soft = list(group.requested)
                if keep[_TYPE] is None:
                    soft[_TYPE] = None
                if keep[_ID] is None:
                    soft[_ID] = None
                found = [name for name in usable if _matches(soft, self._parsed[name])]
                if found:
                    break
        if found:
            return found
        errors_at[j] = self._no_device_message(op, group)
        return None

    def _no_device_message(self, op, group):
        """TF's message for a group no device can take (without soft placement)."""
        own = _EMPTY
        if op.device:
            try:
                own = _parse(op.device)
            except (ValueError, TypeError):
                pass
        if own == group.requested:
            if not any(_matches(own, self._parsed[n]) for n in self._devices):
                gpu_note = ""
                if own[_TYPE] == "GPU" and "GPU" not in self._types:
                    gpu_note = (" The requested device appears to be a GPU, but CUDA is not "
                                "enabled.")
                return (f"{{{{node {op.name}}}}} was explicitly assigned to {op.device} but "
                        f"available devices are [ {', '.join(sorted(self._devices))} ]. Make "
                        f"sure the device specification refers to a valid device.{gpu_note}")
            if own[_TYPE] is not None:
                return (f"Could not satisfy explicit device specification '{op.device}' "
                        f"because no supported kernel for {own[_TYPE]} devices is available."
                        f"\nOp: {op.type}")
            return f"Could not satisfy explicit device specification '{op.device}'"
        return (f"Could not satisfy explicit device specification '{op.device}' because the "
                f"node {{{{colocation_node {op.name}}}}} was colocated with a group of nodes "
                f"that required incompatible device '{_spec_string(group.requested)}'. All "
                f"available devices [{', '.join(self._devices)}]. ")

    def _report_move(self, op, device, group):
        """Logs an op that did not get the device it asked for (once per op)."""
        try:
            own = _parse(op.device)
        except (ValueError, TypeError):
            return
        if _matches(own, self._parsed[device]):
            return
        self._reported.add(op)
        matching = [n for n in self._devices if _matches(own, self._parsed[n])]
        if not matching:
            reason = "no such device"
        else:
            kinds = {self._parsed[n][_TYPE] for n in matching}
            own_types = self._new_group(op, None).types
            missing = sorted(k for k in kinds if k not in own_types)
            if missing and len(missing) == len(kinds):
                reason = f"no supported kernel for {missing[0]} devices"
            else:
                reason = "colocated with ops placed there (a resource or colocate_with)"
        short = device[len(device_spec.LOCAL_PREFIX) + len("/device:"):] if device.startswith(
            device_spec.LOCAL_PREFIX + "/device:") else device
        logger.warning("%s (%s): requested %s, placed on %s: %s", op.name, op.type, op.device,
                       short, reason)
