"""Device names: parsing, canonical spelling and merging of `tf.device` scopes.

TF writes what a scope asked for, in canonical form: ``'/cpu:1'`` becomes ``'/device:CPU:1'``,
and a fully specified name stays as written (in canonical form). Placement later resolves a
partial spec such as ``'/device:CPU:1'`` to a full name,
``'/job:localhost/replica:0/task:0/device:CPU:1'``.
"""

import functools
import re

__all__ = ["DeviceSpec", "canonical_name", "merge_device", "full_name", "LOCAL_PREFIX"]

LOCAL_PREFIX = "/job:localhost/replica:0/task:0"

_SHORT_DEVICE = re.compile(r"^(cpu|gpu|CPU|GPU|xpu|XPU|tpu|TPU):(\d+|\*)$")


class DeviceSpec:
    """A parsed device name: any of job, replica, task, device_type and device_index may be None.

    Args:
      job, replica, task, device_type, device_index: the parts; None means unspecified.
    """

    __slots__ = ("job", "replica", "task", "device_type", "device_index")

    def __init__(self, job=None, replica=None, task=None, device_type=None, device_index=None):
        self.job = job
        self.replica = None if replica is None else int(replica)
        self.task = None if task is None else int(task)
        self.device_type = None if device_type is None else device_type.upper()
        self.device_index = None if device_index is None else int(device_index)

    @classmethod
    def from_string(cls, spec):
        """Parses ``'/job:x/replica:0/task:0/device:CPU:1'``, ``'/cpu:0'``, ``'CPU:0'`` etc.

        Raises:
          ValueError: if `spec` is not a device name.
        """
        if not isinstance(spec, str):
            raise TypeError(f"A device name must be a string, got {type(spec).__name__}")
        parsed = cls()
        for part in spec.split("/"):
            if not part:
                continue
            pieces = part.split(":")
            key = pieces[0].lower()
            if key == "job" and len(pieces) == 2:
                parsed.job = pieces[1]
            elif key == "replica" and len(pieces) == 2:
                parsed.replica = int(pieces[1])
            elif key == "task" and len(pieces) == 2:
                parsed.task = int(pieces[1])
            elif key == "device" and len(pieces) in (2, 3):
                parsed.device_type = pieces[1].upper()
                if len(pieces) == 3 and pieces[2] != "*":
                    parsed.device_index = int(pieces[2])
            elif len(pieces) in (1, 2) and _SHORT_DEVICE.match(part if len(pieces) == 2 else
                                                              part + ":*"):
                parsed.device_type = pieces[0].upper()
                if len(pieces) == 2 and pieces[1] != "*":
                    parsed.device_index = int(pieces[1])
            else:
                raise ValueError(f"Unknown device specification: {spec!r}")
        return parsed

    def merged_into(self, outer):
        """This spec with its unspecified parts taken from `outer` (inner scopes win).

        Each part is merged on its own, as TF does: ``'/gpu:*'`` inside ``'/cpu:1'`` gives
        ``'/device:GPU:1'``.
        """
        return DeviceSpec(
            self.job if self.job is not None else outer.job,
            self.replica if self.replica is not None else outer.replica,
            self.task if self.task is not None else outer.task,
            self.device_type if self.device_type is not None else outer.device_type,
            self.device_index if self.device_index is not None else outer.device_index,
        )

    def to_string(self):
        parts = []
        if self.job is not None:
            parts.append(f"/job:{self.job}")
        if self.replica is not None:
            parts.append(f"/replica:{self.replica}")
        if self.task is not None:
            parts.append(f"/task:{self.task}")
        if self.device_type is not None:
            index = "*" if self.device_index is None else self.device_index
            parts.append(f"/device:{self.device_type}:{index}")
        return "".join(parts)

    def __repr__(self):
        return f"DeviceSpec({self.to_string()!r})"


@functools.lru_cache(maxsize=1024)
def canonical_name(spec):
    """The canonical spelling of a device name; '' for an empty or None spec.

    Raises:
      ValueError: if `spec` is not a device name.
    """
    if not spec:
        return ""
    return DeviceSpec.from_string(spec).to_string()


@functools.lru_cache(maxsize=1024)
def merge_device(outer, inner):
    """The device of an op created in scope `inner` nested inside scope `outer` (strings),
    in canonical form."""
    if not outer:
        return canonical_name(inner)
    if not inner:
        return canonical_name(outer)
    return DeviceSpec.from_string(inner).merged_into(DeviceSpec.from_string(outer)).to_string()


def full_name(device_type, index):
    """The full local name of a device, e.g. ``/job:localhost/replica:0/task:0/device:CPU:1``."""
    return f"{LOCAL_PREFIX}/device:{device_type}:{index}"
