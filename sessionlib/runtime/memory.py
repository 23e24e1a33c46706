"""Device memory: limits, TF's OOM message, and the live-tensor report.

Design. Each device of a session has a memory account (``_core/device_memory.pyx``): a numpy
allocation handler that the step installs around its kernels, so every array a kernel
allocates (an output, a variable's value, a queue's element, a value kept for a later step)
is charged to the device until it is freed, and a request over the limit fails before any
memory is taken. This module holds what is not the hot path:

* Limits. `default_memory_limit` is the one definition of the defaults: a CPU device may use
  the machine's memory; the emulated GPUs share half of it equally, each at most a quarter
  (k GPUs: each ``machine / (2 * max(k, 2))``). `memory_limits` applies TF's settings to a
  session's devices: ``gpu_options.experimental.virtual_devices[*].memory_limit_mb`` (the
  lists flattened in order: GPU i gets the i-th figure), else
  ``gpu_options.per_process_gpu_memory_fraction`` (of the default), else the default.
  ``gpu_options.allow_growth`` is accepted and changes nothing: memory is always taken as
  tensors are allocated. The CPU devices take the same fields from
  ``ConfigProto.pluggable_device_options`` (TF's `GPUOptions` for other device kinds).
* OOM. `oom_error` turns the MemoryError of a refused request into TF's
  ``ResourceExhaustedError`` ("OOM when allocating tensor with shape[...] and type float on
  DEVICE by allocator cpu"), with the allocator's figures. The live-tensor report (the largest
  tensors the device holds, by producing node) is built where the run failed, while its
  tensors are still there, and travels behind `REPORT_MARK` in the message; the session keeps
  it when ``RunOptions.report_tensor_allocations_upon_oom`` asks for it, and otherwise ends
  the message with TF's hint (`finish_message`).
"""

import os

import numpy as np

from sessionlib import errors
from sessionlib.runtime import devices

__all__ = ["default_memory_limit", "memory_limits", "allocator_name", "oom_error",
           "live_tensors", "finish_message", "REPORT_MARK", "human_bytes"]

# Separates the OOM message from its live-tensor report until the session finishes it.
REPORT_MARK = "\x1e"
_REPORT_TOP = 10

_HINT = ("Hint: If you want to see a list of allocated tensors when OOM happens, add "
         "report_tensor_allocations_upon_oom to RunOptions for current allocation info. This "
         "isn't available when running in Eager mode.\n")

# TF's DataTypeString where it differs from numpy's name.
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half", "object": "string",
                  "bytes": "string", "str": "string"}


def machine_memory():
    """The machine's physical memory in bytes."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 16 << 30


def default_memory_limit(device_type, num_devices=1):
    """The default memory limit of a device, in bytes.

    Args:
      device_type: ``"CPU"`` or ``"GPU"``.
      num_devices: how many devices of that type the session has (the emulated GPUs share
        half of the machine's memory: each gets ``machine / (2 * max(num_devices, 2))``).
    """
    total = machine_memory()
    if device_type.upper() == "GPU":
        return total // (2 * max(int(num_devices), 2))
    return total


def device_type(name):
    """The type (``CPU``, ``GPU``) of a full device name."""
    return devices.type_and_index(name)[0]


def _limits_from(options, count, default):
    """The limits of `count` devices from a `GPUOptions` message."""
    figures = []
    experimental = getattr(options, "experimental", None)
    if experimental is not None:
        for virtual in experimental.virtual_devices:
            figures.extend(virtual.memory_limit_mb)
    fraction = options.per_process_gpu_memory_fraction
    limits = []
    for index in range(count):
        if index < len(figures):
            limits.append(int(figures[index] * (1 << 20)))
        elif fraction > 0:
            limits.append(int(fraction * default))
        else:
            limits.append(default)
    return limits


def memory_limits(config, device_names):
    """The memory limit of each of a session's devices, in device order. The devices of one
    task (one machine: a cluster session has several) share its memory, and its GPUs count
    among themselves for the defaults and TF's settings.

    Args:
      config: the session's `ConfigProto` (None: the defaults).
      device_names: full device names.
    """
    # (task, kind) of each device: the task is the name before "/device:".
    parsed = [(name.rpartition("/device:")[0], devices.type_and_index(name)[0])
              for name in device_names]
    counts = {}
    for group in parsed:
        counts[group] = counts.get(group, 0) + 1
    per_group = {}
    for (task, kind), count in counts.items():
        default = default_memory_limit(kind, count)
        if config is None:
            per_group[task, kind] = [default] * count
        else:
            options = config.gpu_options if kind == "GPU" else config.pluggable_device_options
            per_group[task, kind] = _limits_from(options, count, default)
    taken = {}
    limits = []
    for group in parsed:
        position = taken.get(group, 0)
        taken[group] = position + 1
        limits.append(per_group[group][position])
    return limits


def allocator_name(device_name):
    """TF's name of a device's allocator: ``cpu``, or ``GPU_<i>_bfc``."""
    kind, index = devices.type_and_index(device_name)
    return f"GPU_{index}_bfc" if kind == "GPU" else "cpu"


def human_bytes(count):
    """A byte count as TF's ``HumanReadableNumBytes`` writes it (``4B``, ``3.81MiB``)."""
    count = int(count)
    if count < 1024:
        return f"{count}B"
    value = float(count)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024.0
        if value < 1024.0 or unit == "PiB":
            return f"{value:.2f}{unit}"
    return f"{count}B"


def _type_name(dtype):
    try:
        name = np.dtype(dtype).name
    except TypeError:
        return str(dtype)
    if name.startswith(("bytes", "str")):
        return "string"
    return _TF_TYPE_NAMES.get(name, name)


def oom_error(account, cause, tensors=()):
    """TF's OOM error for a kernel's MemoryError, or None when the device's limit did not
    refuse anything (the machine itself is out of memory: the MemoryError stays as it is).

    Args:
      account: the device's `DeviceMemory`.
      cause: the MemoryError (numpy's carries the refused array's ``shape`` and ``dtype``).
      tensors: the device's live tensors as ``(name, nbytes)`` (`live_tensors`), for the
        report behind `REPORT_MARK`.
    """
    failed = account.take_failed()
    if not failed or not isinstance(cause, MemoryError):
        return None
    shape = getattr(cause, "shape", None)
    dtype = getattr(cause, "dtype", None)
    if shape is None or dtype is None:   # a raw buffer: describe it in bytes
        shape, type_name = (failed,), "uint8"
    else:
        type_name = _type_name(dtype)
    in_use, _, limit = account.stats()
    message = (f"OOM when allocating tensor with shape[{','.join(str(int(d)) for d in shape)}]"
               f" and type {type_name} on {account.device} by allocator "
               f"{account.allocator_name}\n"
               f"Allocator {account.allocator_name}: InUse: {in_use} bytes "
               f"({human_bytes(in_use)}), Limit: {limit} bytes ({human_bytes(limit)}), "
               f"requested: {failed} bytes ({human_bytes(failed)})")
    report = _report(account, tensors)
    return errors.ResourceExhaustedError(None, None, message + REPORT_MARK + report)


def _report(account, tensors):
    """TF's list of the largest live tensors of a device (``report_tensor_allocations``)."""
    by_name = {}
    for name, nbytes in tensors:
        by_name[name] = by_name.get(name, 0) + int(nbytes)
    ranked = sorted(by_name.items(), key=lambda item: -item[1])
    lines = [f"Current usage from device: {account.device}, allocator: "
             f"{account.allocator_name}"]
    lines += [f"  {human_bytes(nbytes)} from {name}" for name, nbytes in ranked[:_REPORT_TOP]]
    rest = ranked[_REPORT_TOP:]
    if rest:
        lines.append(f"  Remaining {len(rest)} nodes with "
                     f"{human_bytes(sum(nbytes for _, nbytes in rest))}")
    return "\n".join(lines)


def live_tensors(plan, slots, resources):
    """The tensors a failed run's device still holds, as ``(name, nbytes)``: the values in
    its slots (named after the node that produced them) and its resources' values
    (variables, by shared name). Only called on OOM."""
    producer = {}
    out_ptr, out_slots = plan.out_ptr, plan.out_slots
    names = plan.names
    for node in range(len(names)):
        for position in range(int(out_ptr[node]), int(out_ptr[node + 1])):
            producer[int(out_slots[position])] = names[node]
    found = []
    seen = set()
    for number, value in enumerate(slots):
        if isinstance(value, np.ndarray) and value.nbytes and id(value) not in seen:
            seen.add(id(value))
            found.append((producer.get(number, "_Arg"), value.nbytes))
    if resources is not None:
        for key in resources.keys():
            resource = resources.lookup(key)
            value = getattr(resource, "value", None)
            if isinstance(value, np.ndarray) and id(value) not in seen:
                seen.add(id(value))
                found.append((getattr(resource, "name", None) or str(key), value.nbytes))
    return found


def finish_message(message, report_wanted):
    """The message of an OOM error as the session raises it: the live-tensor report when
    `report_wanted` (``RunOptions.report_tensor_allocations_upon_oom``), else TF's hint."""
    head, _, rest = message.partition(REPORT_MARK)
    report, newline, node_line = rest.partition("\n\t [[")
    node_line = newline + node_line if newline else ""
    if report_wanted:
        return f"{head}\n{report}{node_line}"
    return f"{head}{node_line}\n{_HINT}"
