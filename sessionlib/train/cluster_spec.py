"""``tf.train.ClusterSpec``: the jobs of a cluster and the network addresses of their tasks.

A job's tasks are a list (task k at index k) or a dict ``{task index: address}`` for sparse
tasks, as in TF. `as_cluster_def` gives the ``ClusterDef`` proto of ``ConfigProto.cluster_def``
(TF's field numbers). Pure data on the client: nothing here connects anywhere.
"""

import operator

from sessionlib.protos import cluster_pb2

__all__ = ["ClusterSpec"]


def _text(value, what):
    """`value` as a str; TypeError for anything but str or bytes."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if not isinstance(value, str):
        raise TypeError(f"{what} {value!r} must be bytes or unicode")
    return value


def _task_index(index):
    """A task index of a dict of tasks; TypeError for anything but an int."""
    try:
        return operator.index(index)
    except TypeError:
        raise TypeError(f"Task index {index!r} must be an integer") from None


class ClusterSpec:
    """The jobs of a cluster and their tasks' addresses.

    Args:
      cluster: ``{job name: [address, ...] or {task index: address}}``, a `ClusterSpec`, or a
        ``ClusterDef`` proto.

    Raises:
      TypeError: for anything else, a job whose tasks are neither a list nor a dict, or a
        job name or task address that is not a string (or a task index not an int).
      ValueError: for a task index given twice in a ``ClusterDef``.
    """

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            jobs = cluster.as_dict()
        elif isinstance(cluster, cluster_pb2.ClusterDef):
            jobs = {}
            for job in cluster.job:
                if job.name in jobs:
                    raise ValueError(f"Duplicated job name: {job.name}")
                jobs[job.name] = dict(job.tasks)
        elif isinstance(cluster, dict):
            jobs = cluster
        else:
            raise TypeError("`cluster` must be a dictionary mapping one or more job names to "
                            "lists of network addresses, or a `ClusterDef` protocol buffer")
        self._jobs = {}
        for job_name, tasks in jobs.items():
            # Names, indices and addresses are checked, never coerced with str()/int(): a
            # cluster of ints (a typo for "host:port") must fail here, as in TF, rather
            # than name hosts "1" and "2".
            job_name = _text(job_name, "Job name")
            if isinstance(tasks, (list, tuple)):
                self._jobs[job_name] = {index: _text(address, "Task address")
                                        for index, address in enumerate(tasks)}
            elif isinstance(tasks, dict):
                self._jobs[job_name] = {_task_index(index): _text(address, "Task address")
                                        for index, address in tasks.items()}
            else:
                raise TypeError(f"The tasks for job {job_name!r} must be a list or a "
                                f"dictionary from integers to strings.")

    @property
    def jobs(self):
        """The job names, sorted."""
        return sorted(self._jobs)

    def _tasks(self, job_name):
        try:
            return self._jobs[job_name]
        except KeyError:
            raise ValueError(f"No such job in cluster: {job_name!r}") from None

    def num_tasks(self, job_name):
        """How many tasks job `job_name` has.

        Raises:
          ValueError: if there is no such job.
        """
        return len(self._tasks(job_name))

    def task_indices(self, job_name):
        """The task indices of job `job_name`, sorted.

        Raises:
          ValueError: if there is no such job.
        """
        return sorted(self._tasks(job_name))

    def task_address(self, job_name, task_index):
        """The address of task `task_index` of job `job_name`.

        Raises:
          ValueError: if there is no such job or task.
        """
        tasks = self._tasks(job_name)
        try:
            return tasks[task_index]
        except KeyError:
            raise ValueError(f"No task with index {task_index} in job {job_name!r}") from None

    def job_tasks(self, job_name):
        """The addresses of job `job_name` by task index, None where an index has no task.

        Raises:
          ValueError: if there is no such job.
        """
        tasks = self._tasks(job_name)
        if not tasks:
            return []
        return [tasks.get(index) for index in range(max(tasks) + 1)]

    def as_dict(self):
        """``{job: [addresses]}``, or ``{job: {index: address}}`` for a job with gaps."""
        result = {}
        for job_name in self.jobs:
            tasks = self._tasks(job_name)
            if sorted(tasks) == list(range(len(tasks))):
                result[job_name] = [tasks[index] for index in range(len(tasks))]
            else:
                result[job_name] = dict(sorted(tasks.items()))
        return result

    def as_cluster_def(self):
        """The ``ClusterDef`` proto of this cluster (jobs and tasks sorted)."""
        cluster_def = cluster_pb2.ClusterDef()
        for job_name in self.jobs:
            job = cluster_def.job.add(name=job_name)
            for index, address in sorted(self._tasks(job_name).items()):
                job.tasks[index] = address
        return cluster_def

    def __bool__(self):
        return bool(self._jobs)

    def __eq__(self, other):
        return isinstance(other, ClusterSpec) and self._jobs == other._jobs

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return f"ClusterSpec({self.as_dict()!r})"
