"""Placement: which device runs each op.

Rules, in order (TF's placer, simplified to one task):

1. An explicit device (``tf.device``) is honoured. A spec matching no device of the session is
   an `InvalidArgumentError` naming the op and the device, unless ``allow_soft_placement`` is
   set, in which case the op goes to CPU:0.
2. An op that takes a resource (a variable or queue handle) or a reference tensor (a TF 1
   reference variable's) goes where the resource or the variable lives.
3. Otherwise an op follows its first data input that is not a *generator*, and with no such
   input goes to CPU:0. A generator is an op without inputs, explicit device or state (a
   constant, a placeholder): it is placed with its first consumer instead (TF colocates
   generators the same way), so ``tf.reduce_sum(x_on_cpu1)`` does not make its axis constant
   on CPU:0 and ship it over.

Device types (emulated GPUs, ``runtime/devices.py``). An op may run on a GPU only where TF has
a GPU kernel for it (``kernel_table.supports_device``): pinned to a GPU, an op without one is
TF's ``InvalidArgumentError`` ("no supported kernel for GPU devices is available") unless
``allow_soft_placement`` moves it to the CPU. An op with no device of its own goes to
`Placer.preferred_device`: TF's device-type priority, GPU before CPU, among the types that can
run it (so variables created without a device land on GPU:0, as in TF), where rule 3 would
otherwise send it to CPU:0 or to a device that cannot run it.

Placement is cached per op for the session's lifetime: ops never change device once built.
"""

import logging

from sessionlib import dtypes, errors
from sessionlib.framework import device_spec
from sessionlib.runtime import kernel_table

__all__ = ["Placer", "logger"]

logger = logging.getLogger("sessionlib")


# TF's device-type priority for an op with no device of its own: the first type of this list
# that has the op's kernel wins.
DEVICE_TYPE_PRIORITY = ("GPU", "CPU")


def _dtype_name(op):
    """The name of `op`'s ``dtype`` attribute ('int32'), or None."""
    dtype = op._attrs.get("dtype") if hasattr(op, "_attrs") else None
    return getattr(dtype, "name", None) if dtype is not None else None


def _is_generator(op):
    """An op that can go wherever its consumer goes: no inputs, no device, no state."""
    return not op._inputs and not op.device and not op._opdef.stateful


class Placer:
    """Places ops on the devices of one session.

    Args:
      device_names: the full names of the session's devices, e.g.
        ``['/job:localhost/replica:0/task:0/device:CPU:0', ...]``.
      allow_soft_placement: place ops with an impossible device on CPU:0 instead of failing.
      log_device_placement: log (and print) one line per newly placed op.
    """

    def __init__(self, device_names, allow_soft_placement=False, log_device_placement=False):
        self._devices = list(device_names)
        self._parsed = [device_spec.DeviceSpec.from_string(name) for name in self._devices]
        self._soft = allow_soft_placement
        self._log = log_device_placement
        self._placed = {}

    @property
    def device_names(self):
        return list(self._devices)

    def supports(self, op, device):
        """Whether full device name `device` (a device of this session) has `op`'s kernel."""
        device_type = self._parsed[self._devices.index(device)].device_type
        return kernel_table.supports_device(op._opdef.kernel, device_type, _dtype_name(op))

    def preferred_device(self, op):
        """The device for `op` when nothing else decides: the first device of the
        highest-priority type (`DEVICE_TYPE_PRIORITY`, GPU first) that has the op's kernel.
        An op whose kernel TF prefers on the CPU (``kernel_table.prefers_cpu``) goes to CPU:0.
        Without GPUs this is CPU:0."""
        kernel = op._opdef.kernel
        dtype_name = _dtype_name(op)
        for device_type in (("CPU",) if kernel_table.prefers_cpu(kernel)
                            else DEVICE_TYPE_PRIORITY):
            if not kernel_table.supports_device(kernel, device_type, dtype_name):
                continue
            for name, device in zip(self._devices, self._parsed):
                if device.device_type == device_type:
                    return name
        return self._devices[0]

    def _match(self, spec_string):
        """The first session device matching `spec_string`, or None."""
        spec = device_spec.DeviceSpec.from_string(spec_string)
        for name, device in zip(self._devices, self._parsed):
            if spec.job is not None and spec.job != device.job:
                continue
            if spec.replica is not None and spec.replica != device.replica:
                continue
            if spec.task is not None and spec.task != device.task:
                continue
            if spec.device_type is not None and spec.device_type != device.device_type:
                continue
            if spec.device_index is not None and spec.device_index != device.device_index:
                continue
            return name
        return None

    def _explicit(self, op):
        device = self._match(op.device)
        if device is not None and self.supports(op, device):
            return device
        if self._soft:
            return self.preferred_device(op)
        if device is not None:   # the device exists but cannot run the op (TF's text)
            device_type = self._parsed[self._devices.index(device)].device_type
            raise errors.InvalidArgumentError(
                op.node_def, op,
                f"Cannot assign a device for operation {op.name}: Could not satisfy explicit "
                f"device specification '{op.device}' because no supported kernel for "
                f"{device_type} devices is available.\nRegistered kernels:\n  device='CPU'")
        available = ", ".join(sorted(self._devices))
        hint = ""
        if device_spec.DeviceSpec.from_string(op.device).device_type == "GPU":
            hint = (" The requested device appears to be a GPU, but this session has no "
                    "such GPU: set SESSIONLIB_EMULATED_GPUS or ConfigProto.device_count "
                    "{'GPU': k} to emulate GPUs.")
        raise errors.InvalidArgumentError(
            op.node_def, op,
            f"Cannot assign a device for operation {op.name}: {{{{node {op.name}}}}} was "
            f"explicitly assigned to {op.device} but available devices are [ {available} ]. "
            f"Make sure the device specification refers to a valid device.{hint}")

    def device_of(self, op):
        """The full device name for `op` (placing its unplaced inputs first).

        Raises:
          InvalidArgumentError: for an explicit device that does not exist, without soft
            placement.
        """
        found = self._placed.get(op)
        if found is not None:
            return found
        # Iterative depth-first walk, so that long chains do not hit the recursion limit.
        stack = [op]
        while stack:
            current = stack[-1]
            if current in self._placed:
                stack.pop()
                continue
            if current.device:
                device = self._explicit(current)
            else:
                leaders = [t for t in current._inputs if not _is_generator(t.op)]
                unplaced = [t.op for t in leaders if t.op not in self._placed]
                if unplaced:
                    stack.extend(unplaced)
                    continue
                resource_inputs = [t for t in current._inputs if t.dtype is dtypes.resource
                                   or t.dtype._is_ref_dtype]
                if resource_inputs and resource_inputs[0].op in self._placed:
                    device = self._placed[resource_inputs[0].op]
                elif leaders:
                    device = self._placed[leaders[0].op]
                elif current._inputs and current._inputs[0].op in self._placed:
                    device = self._placed[current._inputs[0].op]
                else:
                    device = self.preferred_device(current)
                if not self.supports(current, device):   # e.g. a string op after a GPU op
                    device = self.preferred_device(current)
            self._record(current, device)
            for tensor in current._inputs:
                if tensor.op not in self._placed and _is_generator(tensor.op):
                    self._record(tensor.op, device)  # an unplaced generator joins its consumer
            stack.pop()
        return self._placed[op]

    def _record(self, op, device):
        self._placed[op] = device
        if self._log:
            line = f"{op.name}: ({op.type}): {device}"
            logger.info(line)
            print(line, flush=True)

    def place(self, ops):
        """The device of each op in `ops`, as a list.

        Consumers are placed before generators, so that each generator can join its first
        consumer (a generator nobody in `ops` consumes goes to CPU:0).
        """
        for op in ops:
            if not _is_generator(op):
                self.device_of(op)
        return [self.device_of(op) for op in ops]
