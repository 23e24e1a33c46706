"""The executors' own contracts: plan validation at bind time, and the run context."""

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import context as context_lib
from sessionlib.runtime import executor as executor_lib
from sessionlib.runtime import plan as plan_lib


def _plan():
    x = tf.placeholder(tf.float32, [2], name="x")
    y = tf.concat([x, x], 0)  # a generic (attrs-taking) kernel
    order = plan_lib.prune([x], [y], [])
    plan, _, _ = plan_lib.compile_plan(order, [x], [y], fuse=False)
    return plan


def test_cython_bind_rejects_a_plan_with_too_few_attrs():
    # The Cython loop reads attrs without bounds checks: bind must validate them.
    plan = _plan()
    plan.attrs = plan.attrs[:-1]
    with pytest.raises(ValueError, match="attrs"):
        executor_lib.get_executor("cython").bind(plan)


def test_cython_bound_plan_does_not_follow_later_changes_to_the_plan():
    plan = _plan()
    bound = executor_lib.get_executor("cython").bind(plan)
    num_slots = plan.num_slots
    plan.in_slots[:] = 10 ** 6  # would read far outside the slot list if it were shared
    plan.attrs.clear()
    slots = [None] * num_slots
    slots[0] = np.ones(2, np.float32)
    ctx = context_lib.RunContext(context_lib.ResourceContainer(),
                                 context_lib.CancellationManager(), None, 1)
    executor_lib.get_executor("cython").run_plan(bound, slots, ctx, RuntimeError)
    assert any(isinstance(v, np.ndarray) and v.shape == (4,) for v in slots)


class _RecordingCondition:
    """A Condition that counts notify_all calls."""

    def __init__(self):
        self._condition = threading.Condition()
        self.notified = 0

    def __enter__(self):
        return self._condition.__enter__()

    def __exit__(self, *exc):
        return self._condition.__exit__(*exc)

    def notify_all(self):
        self.notified += 1
        self._condition.notify_all()


def test_cancel_wakes_a_waiter_after_another_waiter_on_the_same_condition_left():
    # Two runs can wait on one condition (two dequeues of one queue). When the first leaves,
    # the second must still be woken by cancel() rather than only by its polling timeout.
    manager = context_lib.CancellationManager()
    condition = _RecordingCondition()
    manager._register(condition)
    manager._register(condition)
    manager._unregister(condition)
    manager.cancel()
    assert condition.notified == 1


@pytest.mark.parametrize("opt_out", [False, True])
def test_malloc_tuning_waits_for_the_first_session(opt_out):
    # `import sessionlib` has no process-wide side effect; the first session tunes malloc,
    # unless SESSIONLIB_MALLOC_TUNING=0.
    code = textwrap.dedent("""
        import sessionlib as tf
        from sessionlib._core import fused
        print(fused._malloc_tuning)
        tf.Session().close()
        print(fused._malloc_tuning)
    """)
    env = dict(os.environ, SESSIONLIB_MALLOC_TUNING="0" if opt_out else "1")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.stdout.split() == ["None", "False" if opt_out else "True"], result.stderr
