"""``tf.test``: the GPU queries TF 1 programs make before they pick devices.

``is_gpu_available()`` and ``gpu_device_name()`` answer for the emulated GPUs of
``SESSIONLIB_EMULATED_GPUS``; ``is_built_with_cuda()`` is False (see
``sessionlib/client/local_devices.py``).
"""

from sessionlib.client.local_devices import (gpu_device_name, is_built_with_cuda,  # noqa: F401
                                             is_built_with_gpu_support, is_gpu_available)

__all__ = ["gpu_device_name", "is_built_with_cuda", "is_built_with_gpu_support",
           "is_gpu_available"]
