"""Traced runs of functions: the nodes an ``If`` branch or a ``While`` cond and body ran.

Design. A function op's kernel runs its function's sub-plan (``plan.FunctionPlan``) with the
executor; the step's traced loop times the op as one node. In a traced run (FULL_TRACE) the
run context carries a `FunctionTrace` (``RunContext.function_trace``; None otherwise, so an
untraced loop runs exactly as fast as before), and the kernels run their sub-plans through it
with the executor's traced loop (`run_plan_traced`). Each executed function node becomes one
row of the step stats, on the device of the function op, named as the function's op is
(``loop/add``: repeated once per iteration, as TF 1's step stats repeat a node per execution
in a frame), with TF's timeline label plus where it ran:
``"loop/add = AddV2(loop/x, loop/add/y) [loop iteration 3]"``; nested calls name every
enclosing call (``"[loop iteration 3; loop/cond then branch]"``). Brackets, as the loop's own
``[25 iterations]`` note: TF's Timeline parses ``"name = Op(inputs)"`` greedily up to the
last parenthesis, so it reads these labels right too. The rows carry the
executor's trace clock, as the step's own rows do, so the loop's row spans its iterations'
rows and a timeline can draw the loop as one group (``client/timeline.py``).

Function rows carry timing and output descriptions, not the device's memory figures: the
traced loop measures memory per step node (restarting the account's peak at each), so the
loop's own row holds the peak over its whole run.

Caps keep a long loop's trace small: each loop call records its first
`LOOP_ITERATIONS_TRACED` iterations in full and only counts the rest (the loop's label says
``[1000000 iterations, first 100 traced]``), and one run records at most
`FUNCTION_ROWS_TRACED` function rows (nested loops multiply).

Never import the framework (device workers use this module) or the executors (the kernels
hand theirs in).
"""

import numpy as np

__all__ = ["FunctionTrace", "LOOP_ITERATIONS_TRACED", "FUNCTION_ROWS_TRACED", "merged_rows",
           "rows_of_reply"]

# The iterations of one loop call whose nodes a traced run records in full.
LOOP_ITERATIONS_TRACED = 100
# The most function rows one traced run records.
FUNCTION_ROWS_TRACED = 20000


class FunctionTrace:
    """The function rows of one traced run (of one device: each worker has its own).

    Attributes:
      names, labels: per row, the node name and its timeline label.
      times: per recorded call, an int64 ``[nodes, 4]`` array (the traced loop's rows).
      outputs: per row, its ``(dtype, shape, nbytes)`` output descriptions.
      owners: per row, the name of the outermost function op it ran in (a step's node: its
        device is the row's).
      frames: the calls being recorded, outermost first: ``(op name, where)`` pairs such as
        ``("loop", "iteration 3")``.
    """

    __slots__ = ("names", "labels", "times", "outputs", "owners", "frames", "rows")

    def __init__(self):
        self.names = []
        self.labels = []
        self.times = []
        self.outputs = []
        self.owners = []
        self.frames = []
        self.rows = 0

    def recording(self):
        """Whether one more call may be recorded (the run's row cap is not reached)."""
        return self.rows < FUNCTION_ROWS_TRACED

    def run(self, executor, function, bound, slots, ctx, failure_type, frame):
        """Runs `function` (bound as `bound`) over `slots` with the executor's traced loop
        and records its nodes under `frame` (``(op name, where)``).

        The context's annotations are the call's own while it runs (a nested loop's
        iteration count goes into the label of that call's row of the loop).

        Raises:
          failure_type: as the executor's loops do.
        """
        count = len(function.plan)
        times = np.zeros((count, 4), dtype=np.int64)
        outputs = [()] * count
        outer_annotations = ctx.annotations
        ctx.annotations = {}
        self.frames.append(frame)
        try:
            executor.run_plan_traced(bound, slots, ctx, failure_type, times, outputs)
        finally:
            annotations = ctx.annotations
            ctx.annotations = outer_annotations
            self.frames.pop()
        suffix = " [" + "; ".join(f"{name} {where}" for name, where in self.frames
                                  + [frame]) + "]"
        names = function.plan.names
        labels = function.labels
        for index in range(count):
            name = names[index]
            label = labels[index] if labels else f"{name} = {function.plan.op_types[index]}()"
            note = annotations.get(name)
            self.labels.append(f"{label} [{note}]{suffix}" if note else label + suffix)
        self.names.extend(names[:count])
        self.owners.extend([(self.frames or [frame])[0][0]] * count)
        self.times.append(times)
        self.outputs.extend(outputs)
        self.rows += count

    def run_untraced(self, executor, bound, slots, ctx, failure_type):
        """Runs a call past the caps: untraced, and nothing nested in it is recorded."""
        ctx.function_trace = None
        try:
            executor.run_plan(bound, slots, ctx, failure_type)
        finally:
            ctx.function_trace = self

    def times_array(self):
        """All recorded rows' times, ``[rows, 4]``."""
        if not self.times:
            return np.zeros((0, 4), dtype=np.int64)
        return np.concatenate(self.times)


def merged_rows(names, labels, times, outputs, function_trace, offset_ns=0, owners=None):
    """A device's rows with its function rows among them, in start order.

    Args:
      names, labels, times, outputs: the step's own rows (`times`: int64 ``[n, 4]``, or
        ``[n, 7]`` with memory figures: the function rows get zeros there).
      function_trace: a `FunctionTrace`, or None (then the rows come back unchanged).
      offset_ns: added to the function rows' times (to bring them to the clock of `times`).
      owners: when given, only the function rows whose outermost op is in this set (those
        of this device's ops); None: all of them.

    Returns:
      ``(names, labels, times, outputs)``: lists, and `times` an int64 array. A row that
      starts with another keeps its place before it (a loop's row before its first
      iteration's), so that a timeline sees the enclosing row first.
    """
    if function_trace is None or not function_trace.names:
        return names, labels, times, outputs
    rows = [index for index, owner in enumerate(function_trace.owners)
            if owners is None or owner in owners]
    if not rows:
        return names, labels, times, outputs
    all_names = list(names) + [function_trace.names[i] for i in rows]
    all_labels = list(labels) + [function_trace.labels[i] for i in rows]
    all_outputs = list(outputs) + [function_trace.outputs[i] for i in rows]
    times = np.asarray(times, dtype=np.int64)
    function_times = np.zeros((len(rows), times.shape[1]), dtype=np.int64)
    function_times[:, :4] = function_trace.times_array()[rows] + offset_ns
    all_times = np.concatenate([times, function_times])
    # Start order; among equal starts the longer row (the enclosing one) first.
    order = np.lexsort((-(all_times[:, 3] - all_times[:, 0]), all_times[:, 0])).tolist()
    return ([all_names[i] for i in order], [all_labels[i] for i in order], all_times[order],
            [all_outputs[i] for i in order])


class _ReceivedTrace:
    """A worker's function rows as its trace reply carries them (`rows_of_reply`)."""

    def __init__(self, names, labels, times, outputs):
        self.names = names
        self.labels = labels
        self.outputs = outputs
        self.owners = [None] * len(names)
        self._times = times

    def times_array(self):
        return self._times


def rows_of_reply(names, labels, times, outputs, functions):
    """A device worker's traced rows with what its function ops noted and ran (``worker.
    _trace_reply``'s last item: ``(annotations, names, labels, times bytes, outputs)``), as
    `merged_rows` gives them."""
    annotations, function_names, function_labels, function_times, function_outputs = \
        functions
    if annotations:
        labels = [f"{label} [{annotations[name]}]" if name in annotations else label
                  for name, label in zip(names, labels)]
    received = _ReceivedTrace(list(function_names), list(function_labels),
                              np.frombuffer(function_times, dtype=np.int64).reshape(-1, 4),
                              list(function_outputs))
    return merged_rows(names, labels, times, outputs, received)
