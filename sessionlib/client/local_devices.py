"""What this process's machine offers, as TF's ``tf.config`` and ``tf.test`` GPU queries see it.

Design. TF answers these questions from the devices it finds on the machine, before any
session exists. sessionlib's machine has its CPU and, with ``SESSIONLIB_EMULATED_GPUS=k``, k
emulated GPUs (``runtime/devices.py``: each a worker process once a session uses it). So
these functions read the variable (through ``runtime/settings.py``) and start nothing; a
session's own ``device_count`` may still ask for other counts, and `Session.list_devices`
reports what a session really has. sessionlib has no CUDA: `is_built_with_cuda` is False, and
an emulated GPU has no compute capability, so `is_gpu_available` with a minimum capability is
False as well.
"""

import collections

from sessionlib.runtime import settings

__all__ = ["LogicalDevice", "PhysicalDevice", "list_logical_devices", "list_physical_devices",
           "is_gpu_available", "gpu_device_name", "is_built_with_cuda",
           "is_built_with_gpu_support"]

LogicalDevice = collections.namedtuple("LogicalDevice", ["name", "device_type"])
PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])


def _counts():
    return (("CPU", 1), ("GPU", settings.emulated_gpus()))


def list_logical_devices(device_type=None):
    """The machine's logical devices (``tf.config.list_logical_devices``).

    Args:
      device_type: ``'CPU'`` or ``'GPU'`` to list one type only; None for all.

    Returns:
      `LogicalDevice`\\ s such as ``LogicalDevice(name='/device:GPU:0', device_type='GPU')``:
      CPU:0, then one per emulated GPU (``SESSIONLIB_EMULATED_GPUS``).
    """
    return [LogicalDevice(f"/device:{kind}:{i}", kind) for kind, count in _counts()
            for i in range(count) if device_type in (None, kind)]


def list_physical_devices(device_type=None):
    """The machine's physical devices (``tf.config.list_physical_devices``), e.g.
    ``PhysicalDevice(name='/physical_device:GPU:0', device_type='GPU')``.

    Args:
      device_type: ``'CPU'`` or ``'GPU'`` to list one type only; None for all.
    """
    return [PhysicalDevice(f"/physical_device:{kind}:{i}", kind) for kind, count in _counts()
            for i in range(count) if device_type in (None, kind)]


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
    """Whether the machine has a GPU (``tf.test.is_gpu_available``): an emulated one counts.

    Args:
      cuda_only: accepted for TF compatibility (TF's answer does not depend on it either).
      min_cuda_compute_capability: a ``(major, minor)`` minimum; emulated GPUs have none, so
        any minimum gives False.
    """
    del cuda_only
    if min_cuda_compute_capability:
        return False
    return settings.emulated_gpus() > 0


def gpu_device_name():
    """``'/device:GPU:0'`` when the machine has a GPU, else ``''`` (``tf.test``)."""
    return "/device:GPU:0" if settings.emulated_gpus() > 0 else ""


def is_built_with_cuda():
    """False: sessionlib's GPUs are emulated (``tf.test.is_built_with_cuda``)."""
    return False


def is_built_with_gpu_support():
    """False, as `is_built_with_cuda`."""
    return False
