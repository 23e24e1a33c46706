"""``tf.train.replica_device_setter``: a device function for between-graph replication.

Variable ops (the op types of `STANDARD_PS_OPS`, or the caller's `ps_ops`) go to the
parameter-server job, spread over its tasks by a strategy (round robin by default); every other
op goes to the worker device. Devices set inside the ``tf.device`` block win part by part
(``merge_devices``), as in TF. Ops created under ``colocate_with`` (a variable's assign and
read ops) follow their variable, because colocation clears the device functions around it.

The function only names devices. A local session knows the ``/job:localhost`` devices alone, so
a graph placed on ``/job:ps`` fails when it runs there, as in TF; on one machine,
``ps_device='/cpu:0', worker_device='/cpu:1'`` spreads a graph over a session's CPU devices.
"""

import logging

from sessionlib.framework import device_spec
from sessionlib.train.cluster_spec import ClusterSpec

__all__ = ["replica_device_setter", "STANDARD_PS_OPS"]

# TF's default list of the op types that hold state and so belong on a parameter server.
STANDARD_PS_OPS = ("Variable", "VariableV2", "AutoReloadVariable", "MutableHashTable",
                   "MutableHashTableV2", "MutableHashTableOfTensors",
                   "MutableHashTableOfTensorsV2", "MutableDenseHashTable",
                   "MutableDenseHashTableV2", "VarHandleOp",
                   "BoostedTreesEnsembleResourceHandleOp",
                   "BoostedTreesQuantileStreamResourceHandleOp",
                   "ResourceConditionalAccumulator", "DecisionTreeResource")


class _RoundRobinStrategy:
    """Task 0, 1, ..., num_tasks - 1, 0, ... for successive parameter-server ops."""

    def __init__(self, num_tasks):
        self._num_tasks = num_tasks
        self._next_task = 0

    def __call__(self, unused_op):
        task = self._next_task
        self._next_task = (self._next_task + 1) % self._num_tasks
        return task


class _ReplicaDeviceChooser:
    """The device function `replica_device_setter` returns (see there)."""

    def __init__(self, ps_device, worker_device, merge_devices, ps_ops, ps_strategy):
        self._ps_device = ps_device
        self._worker_device = worker_device
        self._merge_devices = merge_devices
        self._ps_ops = frozenset(ps_ops)
        self._ps_strategy = ps_strategy

    def device_function(self, op):
        """The device of `op`: its parameter-server or worker device, merged with its own.

        Args:
          op: the Operation being placed (its ``device`` is what inner scopes gave it).

        Returns:
          A device string.
        """
        if op.device and not self._merge_devices:
            return op.device
        own = device_spec.DeviceSpec.from_string(op.device or "")
        if self._ps_device and op.type in self._ps_ops:
            chosen = device_spec.DeviceSpec.from_string(self._ps_device)
            # A task of the ps job is only chosen when the op is not pinned to another job.
            if chosen.job and own.job in (None, chosen.job):
                chosen.task = self._ps_strategy(op)
        else:
            chosen = device_spec.DeviceSpec.from_string(self._worker_device or "")
        return own.merged_into(chosen).to_string()


def replica_device_setter(ps_tasks=0, ps_device="/job:ps", worker_device="/job:worker",
                          merge_devices=True, cluster=None, ps_ops=None, ps_strategy=None):
    """A device function for ``tf.device`` placing variables on parameter servers.

    Args:
      ps_tasks: how many parameter-server tasks; ignored when `cluster` is given.
      ps_device: the parameter-server device (job); its task is chosen per op by
        `ps_strategy` when it names a job.
      worker_device: the device of every other op.
      merge_devices: merge the devices set inside the block into the chosen ones (when False,
        an op that already has a device keeps it unchanged).
      cluster: a `ClusterSpec` or its dict; the number of tasks of `ps_device`'s job there
        replaces `ps_tasks`.
      ps_ops: the op types placed on parameter servers (default `STANDARD_PS_OPS`).
      ps_strategy: a callable from Operation to task index (default: round robin over the
        tasks).

    Returns:
      The device function, or None when there are no parameter-server tasks.

    Raises:
      TypeError: if `ps_strategy` is not callable.
    """
    if cluster is not None:
        jobs = (cluster if isinstance(cluster, ClusterSpec) else ClusterSpec(cluster)).as_dict()
        ps_job = device_spec.DeviceSpec.from_string(ps_device or "").job
        if jobs.get(ps_job) is None:
            return None
        ps_tasks = len(jobs[ps_job])
    if ps_tasks == 0:
        return None
    if not merge_devices:
        logging.warning("DEPRECATION: It is recommended to set merge_devices=true in "
                        "replica_device_setter")
    if ps_strategy is None:
        ps_strategy = _RoundRobinStrategy(ps_tasks)
    if not callable(ps_strategy):
        raise TypeError("ps_strategy must be callable")
    chooser = _ReplicaDeviceChooser(ps_device, worker_device, merge_devices,
                                    STANDARD_PS_OPS if ps_ops is None else ps_ops, ps_strategy)
    return chooser.device_function
