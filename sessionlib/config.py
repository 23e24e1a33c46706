"""``tf.config``: the machine's devices (``list_logical_devices``, ``list_physical_devices``).

Only the device queries; they report CPU:0 and the emulated GPUs of
``SESSIONLIB_EMULATED_GPUS`` (see ``sessionlib/client/local_devices.py``).
"""

from sessionlib.client.local_devices import (LogicalDevice, PhysicalDevice,  # noqa: F401
                                             list_logical_devices, list_physical_devices)

__all__ = ["LogicalDevice", "PhysicalDevice", "list_logical_devices", "list_physical_devices"]
