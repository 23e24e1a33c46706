"""``tf.test``: `TestCase` for TF 1 style test suites, the gradient checker, and the device
queries TF 1 programs make before they pick devices.

`TestCase` is a `unittest.TestCase` (pytest and ``unittest`` both run it) with TF's helpers:
each test starts on a fresh default graph; ``self.session()``, ``self.cached_session()`` and
``self.test_session()`` give a sessionlib `Session` on it; ``self.evaluate(t)`` runs tensors in
the default session; ``assertAllClose`` and friends compare nested structures of arrays and
tensors. ``is_gpu_available()`` and ``gpu_device_name()`` answer for the emulated GPUs of
``SESSIONLIB_EMULATED_GPUS``; ``is_built_with_cuda()`` is False (see
``sessionlib/client/local_devices.py``).
"""

import atexit
import contextlib
import math
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock  # noqa: F401 - tf.test.mock

import numpy as np

from sessionlib import errors
from sessionlib.client.local_devices import (gpu_device_name, is_built_with_cuda,  # noqa: F401
                                             is_built_with_gpu_support, is_gpu_available)
from sessionlib.client.session import Session
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.default_session import get_default_session
from sessionlib.framework.indexed_slices import IndexedSlicesValue
from sessionlib.framework.sparse_tensor import SparseTensorValue
from sessionlib.ops import gradients as gradients_lib
from sessionlib.ops import array_ops, random_ops

__all__ = ["TestCase", "Benchmark", "StubOutForTesting", "main", "get_temp_dir", "compute_gradient", "compute_gradient_error",
           "assert_equal_graph_def", "is_built_with_rocm", "is_built_with_xla", "mock",
           "gpu_device_name", "is_built_with_cuda", "is_built_with_gpu_support",
           "is_gpu_available"]

_process_temp_dir = []


def get_temp_dir():
    """A temporary directory for this process's tests, removed when the process exits."""
    if not _process_temp_dir:
        path = tempfile.mkdtemp(prefix="sessionlib_test_")
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        _process_temp_dir.append(path)
    return _process_temp_dir[0]


def is_built_with_rocm():
    """False: sessionlib has no ROCm build."""
    return False


def is_built_with_xla():
    """False: sessionlib has no XLA."""
    return False


def main(argv=None):
    """Runs the tests of the ``__main__`` module (``tf.test.main()``), after parsing the flags
    that are defined; the other arguments go to `unittest`."""
    from sessionlib.platform import flags

    argv = list(sys.argv if argv is None else argv)
    remaining = flags.FLAGS(argv, known_only=True)
    return unittest.main(module="__main__", argv=remaining, testLoader=_TestLoader())


class _TestLoader(unittest.TestLoader):
    """Leaves out methods marked ``__test__ = False`` (`TestCase.test_session`, a helper
    whose name starts with 'test'), as pytest does."""

    def getTestCaseNames(self, testCaseClass):  # noqa: N802 - unittest's name
        return [name for name in super().getTestCaseNames(testCaseClass)
                if getattr(getattr(testCaseClass, name), "__test__", True)]


# Half precision compares with looser tolerances, as in TF's assertAllClose.
_HALF_TOLERANCE = 1e-3


def _as_plain_array(value):
    """`value` as a numpy array when it is one of numbers or strings (not a ragged list or a
    list holding tensors or dicts), else None."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        return None
    return None if array.dtype == object else array


def _is_structure(value):
    return isinstance(value, (list, tuple, dict)) and not isinstance(
        value, (SparseTensorValue, IndexedSlicesValue))


class TestCase(unittest.TestCase):
    """`unittest.TestCase` with TF 1's graph, session and array-comparison helpers."""

    # TF's seed for tests: each test starts with the same Python, numpy and graph seeds, so
    # its random ops give the same values on every run.
    DEFAULT_GRAPH_SEED = 87654321

    def setUp(self):
        super().setUp()
        random.seed(self.DEFAULT_GRAPH_SEED)
        np.random.seed(self.DEFAULT_GRAPH_SEED)
        graph_lib.reset_default_graph()
        random_ops.set_random_seed(self.DEFAULT_GRAPH_SEED)
        self._cached_session = None
        self._temp_dir = None

    def tearDown(self):
        if getattr(self, "_cached_session", None) is not None:
            self._cached_session.close()
            self._cached_session = None
        super().tearDown()

    # ---- graphs and sessions ----------------------------------------------------------

    def get_temp_dir(self):
        """A temporary directory of this test, removed after it."""
        if getattr(self, "_temp_dir", None) is None:
            self._temp_dir = tempfile.mkdtemp(prefix="sessionlib_test_", dir=get_temp_dir())
            self.addCleanup(shutil.rmtree, self._temp_dir, ignore_errors=True)
        return self._temp_dir

    @contextlib.contextmanager
    def _as_default(self, session):
        with session.graph.as_default(), session.as_default():
            yield session

    @contextlib.contextmanager
    def session(self, graph=None, config=None, use_gpu=True, force_gpu=False):
        """A new `Session` on `graph` (default: the default graph), closed after the block;
        inside, its graph is the default graph and it is the default session.

        `use_gpu` and `force_gpu` are accepted for TF's signature; placement follows the
        graph's device scopes.
        """
        del use_gpu, force_gpu
        session = Session(graph=graph or graph_lib.get_default_graph(), config=config)
        try:
            with self._as_default(session):
                yield session
        finally:
            session.close()

    @contextlib.contextmanager
    def cached_session(self, graph=None, config=None, use_gpu=True, force_gpu=False):
        """The test's one `Session` (made on first use, closed after the test), as the
        default session inside the block.

        Raises:
          ValueError: if `graph` is not the graph of the cached session.
        """
        del use_gpu, force_gpu
        if getattr(self, "_cached_session", None) is None:
            self._cached_session = Session(graph=graph or graph_lib.get_default_graph(),
                                           config=config)
        elif graph is not None and graph is not self._cached_session.graph:
            raise ValueError("The graph used by cached_session must be the graph of its first "
                             "use; use self.session(graph) for another graph.")
        with self._as_default(self._cached_session):
            yield self._cached_session

    def test_session(self, graph=None, config=None, use_gpu=True, force_gpu=False):
        """TF 1's spelling: `cached_session` without a graph, else a new `session`."""
        if graph is None:
            return self.cached_session(config=config, use_gpu=use_gpu, force_gpu=force_gpu)
        return self.session(graph=graph, config=config, use_gpu=use_gpu, force_gpu=force_gpu)

    test_session.__test__ = False  # not a test, despite the name

    def evaluate(self, tensors):
        """The values of `tensors` (any structure `Session.run` accepts), from the default
        session, or from the cached session when there is none."""
        session = get_default_session()
        if session is not None:
            return session.run(tensors)
        with self.cached_session() as session:
            return session.run(tensors)

    def checkedThread(self, target, args=None, kwargs=None):  # noqa: N802 - TF's name
        """A thread running ``target(*args, **kwargs)`` whose exception fails the test when
        the thread is joined (a plain thread's exception would be lost)."""
        return _CheckedThread(self, target, args, kwargs)

    # ---- absltest's assertions, which TF test suites use through tf.test.TestCase -------

    def assertLen(self, container, expected_len, msg=None):  # noqa: N802 - absl's name
        """Asserts ``len(container) == expected_len``."""
        if len(container) != expected_len:
            self.fail(self._message(msg, f"{container!r} has length {len(container)}, "
                                         f"expected {expected_len}"))

    def assertEmpty(self, container, msg=None):  # noqa: N802 - absl's name
        """Asserts that `container` has no elements."""
        self.assertLen(container, 0, msg)

    def assertNotEmpty(self, container, msg=None):  # noqa: N802 - absl's name
        """Asserts that `container` has elements."""
        if not len(container):
            self.fail(self._message(msg, f"{container!r} is empty"))

    def assertBetween(self, value, minv, maxv, msg=None):  # noqa: N802 - absl's name
        """Asserts ``minv <= value <= maxv``."""
        if not minv <= value <= maxv:
            self.fail(self._message(msg, f"{value!r} is not between {minv!r} and {maxv!r}"))

    def assertContainsSubset(self, expected_subset, actual_set, msg=None):  # noqa: N802
        """Asserts that every element of `expected_subset` is in `actual_set`."""
        missing = set(expected_subset) - set(actual_set)
        if missing:
            self.fail(self._message(msg, f"Missing elements {missing!r}"))

    def assertSameElements(self, expected_seq, actual_seq, msg=None):  # noqa: N802
        """Asserts that both hold the same distinct elements (counts ignored)."""
        self.assertEqual(set(expected_seq), set(actual_seq), msg)

    # ---- comparisons -------------------------------------------------------------------

    def _value(self, value):
        if isinstance(value, (graph_lib.Tensor, graph_lib.Operation)) or \
                hasattr(value, "read_value") and hasattr(value, "initializer"):
            value = self.evaluate(value)
        return value

    def _array(self, value):
        value = self._value(value)
        return value if isinstance(value, np.ndarray) else np.array(value)

    def _walk(self, a, b, compare, path):
        """Applies `compare(a_array, b_array, path)` to corresponding leaves."""
        a, b = self._value(a), self._value(b)
        if isinstance(a, dict) or isinstance(b, dict):
            if not (isinstance(a, dict) and isinstance(b, dict)):
                raise self.failureException(f"{path}: a dict compared with {type(b).__name__}"
                                            if isinstance(a, dict) else
                                            f"{path}: {type(a).__name__} compared with a dict")
            if set(a) != set(b):
                raise self.failureException(f"{path}: mismatched keys {sorted(map(str, a))} "
                                            f"!= {sorted(map(str, b))}")
            for key in a:
                self._walk(a[key], b[key], compare, f"{path}[{key!r}]")
            return
        for value in (a, b):
            if isinstance(value, (SparseTensorValue, IndexedSlicesValue)):
                raise TypeError(f"{path}: compare the parts of a {type(value).__name__}")
        if _is_structure(a) and _is_structure(b) and not (
                _as_plain_array(a) is not None and _as_plain_array(b) is not None):
            if len(a) != len(b):
                raise self.failureException(f"{path}: mismatched lengths {len(a)} != {len(b)}")
            for index, (x, y) in enumerate(zip(a, b)):
                self._walk(x, y, compare, f"{path}[{index}]")
            return
        compare(self._array(a), self._array(b), path)

    def _tolerances(self, a, b, rtol, atol, half_rtol=_HALF_TOLERANCE, half_atol=_HALF_TOLERANCE):
        if a.dtype == np.float16 or b.dtype == np.float16:
            return max(rtol, half_rtol), max(atol, half_atol)
        return rtol, atol

    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802 - TF's name
        """Asserts that `a` and `b` (arrays, tensors, or nested lists/tuples/dicts of them)
        have equal shapes and ``|a - b| <= atol + rtol * |b|`` element-wise (NaNs match
        NaNs). float16 values use tolerances of at least 1e-3."""
        def compare(x, y, path):
            if x.shape != y.shape:
                self.fail(self._message(msg, f"{path}: shape mismatch: {x.shape} vs {y.shape}"))
            rtol_used, atol_used = self._tolerances(x, y, rtol, atol)
            if x.dtype == object or y.dtype == object:
                self.fail(self._message(msg, f"{path}: not numbers: {x!r} vs {y!r}"))
            if not np.allclose(x, y, rtol=rtol_used, atol=atol_used, equal_nan=True):
                self.fail(self._message(msg, self._difference(x, y, path, rtol_used,
                                                              atol_used)))

        self._walk(a, b, compare, "")

    def _message(self, msg, text):
        return f"{msg}\n{text}" if msg else text

    def _difference(self, x, y, path, rtol, atol):
        x64, y64 = x.astype(np.complex128 if np.iscomplexobj(x) else np.float64), \
            y.astype(np.complex128 if np.iscomplexobj(y) else np.float64)
        bad = ~np.isclose(x64, y64, rtol=rtol, atol=atol, equal_nan=True)
        indexes = np.argwhere(bad)[:5]
        shown = ", ".join(f"{tuple(i)}: {x64[tuple(i)]} vs {y64[tuple(i)]}" for i in indexes)
        return (f"{path}: not close (rtol={rtol}, atol={atol}): {int(bad.sum())} of {bad.size} "
                f"elements differ; first: {shown}\na = {x!r}\nb = {y!r}")

    def assertAllCloseAccordingToType(self, a, b, rtol=1e-6, atol=1e-6,  # noqa: N802
                                      float_rtol=1e-6, float_atol=1e-6, half_rtol=1e-3,
                                      half_atol=1e-3, bfloat16_rtol=1e-2, bfloat16_atol=1e-2,
                                      msg=None):
        """`assertAllClose` with the tolerances of the least precise float dtype of a and b."""
        del bfloat16_rtol, bfloat16_atol
        x, y = self._array(a), self._array(b)
        if np.float16 in (x.dtype, y.dtype):
            rtol, atol = max(rtol, half_rtol), max(atol, half_atol)
        elif np.float32 in (x.dtype, y.dtype) or np.complex64 in (x.dtype, y.dtype):
            rtol, atol = max(rtol, float_rtol), max(atol, float_atol)
        self.assertAllClose(x, y, rtol=rtol, atol=atol, msg=msg)

    def assertNotAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802
        """Asserts that `assertAllClose(a, b)` would fail."""
        try:
            self.assertAllClose(a, b, rtol=rtol, atol=atol)
        except AssertionError:
            return
        self.fail(self._message(msg, "The two values are close at all elements"))

    def assertAllEqual(self, a, b, msg=None):  # noqa: N802 - TF's name
        """Asserts that `a` and `b` (arrays, tensors, or nested structures of them) have equal
        shapes and equal elements (strings and bytes included)."""
        def compare(x, y, path):
            if x.shape != y.shape:
                self.fail(self._message(msg, f"{path}: shape mismatch: {x.shape} vs {y.shape}"))
            same = x == y
            if not np.all(same):
                if x.dtype.kind == "f" or y.dtype.kind == "f":
                    same = same | (np.isnan(x.astype(float)) & np.isnan(y.astype(float)))
                if not np.all(same):
                    where = np.argwhere(~np.asarray(same))[:5]
                    self.fail(self._message(
                        msg, f"{path}: {int((~np.asarray(same)).sum())} of {x.size} elements "
                             f"differ, first at {[tuple(i) for i in where]}\na = {x!r}\n"
                             f"b = {y!r}"))

        self._walk(a, b, compare, "")

    def assertNotAllEqual(self, a, b, msg=None):  # noqa: N802 - TF's name
        """Asserts that `a` and `b` differ in at least one element (or in shape)."""
        try:
            self.assertAllEqual(a, b)
        except AssertionError:
            return
        self.fail(self._message(msg, "The two values are equal at all elements"))

    def _assert_all(self, a, condition, text, msg):
        x = self._array(a)
        bad = ~condition(x)
        if np.any(bad):
            self.fail(self._message(msg, f"{int(bad.sum())} of {x.size} elements are not "
                                         f"{text}: {x[bad][:5]!r}"))

    def assertAllGreater(self, a, comparison_target):  # noqa: N802 - TF's name
        """Asserts that every element of `a` is > `comparison_target`."""
        self._assert_all(a, lambda x: x > comparison_target, f"> {comparison_target}", None)

    def assertAllLess(self, a, comparison_target):  # noqa: N802 - TF's name
        """Asserts that every element of `a` is < `comparison_target`."""
        self._assert_all(a, lambda x: x < comparison_target, f"< {comparison_target}", None)

    def assertAllGreaterEqual(self, a, comparison_target):  # noqa: N802 - TF's name
        """Asserts that every element of `a` is >= `comparison_target`."""
        self._assert_all(a, lambda x: x >= comparison_target, f">= {comparison_target}", None)

    def assertAllLessEqual(self, a, comparison_target):  # noqa: N802 - TF's name
        """Asserts that every element of `a` is <= `comparison_target`."""
        self._assert_all(a, lambda x: x <= comparison_target, f"<= {comparison_target}", None)

    def assertAllInRange(self, target, lower_bound, upper_bound,  # noqa: N802 - TF's name
                         open_lower_bound=False, open_upper_bound=False):
        """Asserts that every element of `target` lies within the bounds (NaN never does).

        Raises:
          AssertionError: if `target` is not of a real number dtype, or an element is out.
        """
        x = self._array(target)
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            self.fail(f"The value of {target!r} does not have an ordered numeric type "
                      f"(dtype {x.dtype})")
        low = "(" if open_lower_bound else "["
        high = ")" if open_upper_bound else "]"
        self._assert_all(
            x, lambda v: ((v > lower_bound) if open_lower_bound else (v >= lower_bound)) &
            ((v < upper_bound) if open_upper_bound else (v <= upper_bound)),
            f"in {low}{lower_bound}, {upper_bound}{high}", None)

    def assertAllInSet(self, target, expected_set):  # noqa: N802 - TF's name
        """Asserts that every element of `target` is in `expected_set`."""
        x = self._array(target)
        allowed = np.array(list(expected_set))
        self._assert_all(x, lambda v: np.isin(v, allowed), f"in {set(expected_set)}", None)

    def assertNear(self, f1, f2, err, msg=None):  # noqa: N802 - TF's name
        """Asserts ``|f1 - f2| <= err`` for two floats."""
        self.assertTrue(f1 == f2 or math.fabs(f1 - f2) <= err,
                        self._message(msg, f"{f1!r} != {f2!r} +/- {err!r}"))

    def assertArrayNear(self, farray1, farray2, err, msg=None):  # noqa: N802 - TF's name
        """Asserts that two float lists of equal length are element-wise within `err`."""
        self.assertEqual(len(farray1), len(farray2), msg)
        for f1, f2 in zip(farray1, farray2):
            self.assertNear(float(f1), float(f2), err, msg)

    def assertShapeEqual(self, input_a, input_b, msg=None):  # noqa: N802 - TF's name
        """Asserts that numpy array `input_a` has the static shape of tensor `input_b`.

        Raises:
          TypeError: if the arguments are not a numpy array and a Tensor.
        """
        if not isinstance(input_a, np.ndarray):
            raise TypeError("input_a must be a Numpy ndarray.")
        if not isinstance(input_b, graph_lib.Tensor):
            raise TypeError("input_b must be a Tensor.")
        self.assertEqual(list(input_a.shape), input_b.get_shape().as_list(),
                         self._message(msg, "Shape mismatch"))

    def assertDTypeEqual(self, target, expected_dtype):  # noqa: N802 - TF's name
        """Asserts that every array in `target` (one or a structure) has `expected_dtype`."""
        from sessionlib import dtypes

        expected = dtypes.as_dtype(expected_dtype).as_numpy_dtype
        for value in (target if _is_structure(target) else [target]):
            self.assertEqual(self._array(value).dtype, expected)

    def assertStartsWith(self, actual, expected_start, msg=None):  # noqa: N802 - TF's name
        """Asserts that string `actual` starts with `expected_start`."""
        if not actual.startswith(expected_start):
            self.fail(self._message(msg, f"{actual!r} does not start with {expected_start!r}"))

    def assertDeviceEqual(self, device1, device2, msg=None):  # noqa: N802 - TF's name
        """Asserts that two device names are the same once written canonically."""
        from sessionlib.framework.device_spec import canonical_name

        self.assertEqual(canonical_name(device1 or ""), canonical_name(device2 or ""),
                         self._message(msg, f"Devices {device1} and {device2} are not equal"))

    def assertProtoEquals(self, expected_message_maybe_ascii, message, msg=None):  # noqa: N802
        """Asserts that proto `message` equals `expected_message_maybe_ascii`, a proto of the
        same type or its text format."""
        from google.protobuf import text_format

        expected = expected_message_maybe_ascii
        if isinstance(expected, str):
            expected = text_format.Parse(expected, type(message)())
        self.assertEqual(text_format.MessageToString(expected),
                         text_format.MessageToString(message), msg)

    def assertItemsEqual(self, first, second, msg=None):  # noqa: N802 - TF 1's (Python 2) name
        """`assertCountEqual`: the same elements, in any order."""
        self.assertCountEqual(first, second, msg)

    def assertRaisesWithPredicateMatch(self, exception_type,  # noqa: N802 - TF's name
                                       expected_err_re_or_predicate):
        """A context manager asserting that the block raises `exception_type` whose message
        matches the regular expression (searched), or for which the predicate is true."""
        if callable(expected_err_re_or_predicate):
            predicate = expected_err_re_or_predicate
        else:
            pattern = expected_err_re_or_predicate

            def predicate(error):
                return re.search(pattern, str(error)) is not None

        return _RaisesMatching(self, exception_type, predicate)

    def assertRaisesOpError(self, expected_err_re_or_predicate):  # noqa: N802 - TF's name
        """`assertRaisesWithPredicateMatch` for `tf.errors.OpError`."""
        return self.assertRaisesWithPredicateMatch(errors.OpError, expected_err_re_or_predicate)


class _RaisesMatching:
    """The context manager of `TestCase.assertRaisesWithPredicateMatch`."""

    def __init__(self, test_case, exception_type, predicate):
        self._test_case = test_case
        self._exception_type = exception_type
        self._predicate = predicate
        self.exception = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is None:
            self._test_case.fail(f"{self._exception_type.__name__} not raised")
        if not issubclass(exc_type, self._exception_type):
            return False  # a different error propagates unchanged
        if not self._predicate(exc_value):
            self._test_case.fail(f"Exception of type {exc_type.__name__} did not match the "
                                 f"expected message or predicate: {exc_value}")
        self.exception = exc_value
        return True


class _CheckedThread:
    """The thread of `TestCase.checkedThread`: records the target's exception and fails the
    test with it on `join`."""

    def __init__(self, test_case, target, args, kwargs):
        self._test_case = test_case
        self._target = target
        self._args = tuple(args or ())
        self._kwargs = dict(kwargs or {})
        self._exception = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self._target(*self._args, **self._kwargs)
        except Exception as error:  # noqa: BLE001 - handed to the test on join
            self._exception = error

    def start(self):
        """Starts the thread."""
        self._thread.start()

    def join(self, timeout=None):
        """Waits for the thread; fails the test if the target raised."""
        self._thread.join(timeout)
        if self._exception is not None:
            self._test_case.fail(f"Error in checkedThread: {self._exception!r}")

    def is_alive(self):
        """Whether the thread is still running."""
        return self._thread.is_alive()


class Benchmark:
    """TF's benchmark base class: `run_op_benchmark` times a fetch in a session, and
    `report_benchmark` logs a result line."""

    def report_benchmark(self, iters=None, cpu_time=None, wall_time=None, throughput=None,
                         extras=None, name=None, metrics=None):
        """Logs one benchmark result at INFO on the ``sessionlib`` logger."""
        from sessionlib.platform import tf_logging

        tf_logging.info("Benchmark [%s] iters: %s, wall_time: %s, cpu_time: %s, "
                        "throughput: %s, extras: %s, metrics: %s",
                        name or type(self).__name__, iters, wall_time, cpu_time, throughput,
                        extras, metrics)

    def run_op_benchmark(self, sess, op_or_tensor, feed_dict=None, burn_iters=2, min_iters=10,
                         store_trace=False, store_memory_usage=True, name=None, extras=None,
                         mbs=0):
        """Runs `op_or_tensor` `burn_iters` times untimed, then `min_iters` times timed.

        Returns:
          ``{'iters', 'wall_time' (the median seconds per run), 'extras', 'name',
          'throughput' (MB/s for `mbs` megabytes per run, else 0)}``.
        """
        del store_trace, store_memory_usage
        for _ in range(burn_iters):
            sess.run(op_or_tensor, feed_dict=feed_dict)
        times = []
        for _ in range(min_iters):
            start = time.perf_counter()
            sess.run(op_or_tensor, feed_dict=feed_dict)
            times.append(time.perf_counter() - start)
        wall_time = float(np.median(times)) if times else 0.0
        throughput = mbs / wall_time if mbs and wall_time else 0
        result = {"iters": min_iters, "wall_time": wall_time, "extras": dict(extras or {}),
                  "name": name, "throughput": throughput}
        self.report_benchmark(iters=min_iters, wall_time=wall_time, throughput=throughput,
                              extras=extras, name=name)
        return result


class StubOutForTesting:
    """Replaces attributes for a test and puts them back (``tf.test.StubOutForTesting``)."""

    def __init__(self):
        self._saved = []

    def Set(self, parent, child_name, new_child):  # noqa: N802 - TF's name
        """Sets ``parent.child_name = new_child`` until `UnsetAll`."""
        self._saved.append((parent, child_name, getattr(parent, child_name)))
        setattr(parent, child_name, new_child)

    SmartSet = Set

    def UnsetAll(self):  # noqa: N802 - TF's name
        """Restores every replaced attribute, the last replaced first."""
        while self._saved:
            parent, child_name, old_child = self._saved.pop()
            setattr(parent, child_name, old_child)

    SmartUnsetAll = UnsetAll
    CleanUp = UnsetAll


# ---- the gradient checker ----------------------------------------------------------------

def _numpy_dtype(tensor):
    return tensor.dtype.base_dtype.as_numpy_dtype


def _theoretical_jacobian(session, x, x_shape, y, y_shape, feed):
    """The (x size, y size) Jacobian from `tf.gradients`: one backward run per y element."""
    x_size, y_size = int(np.prod(x_shape)), int(np.prod(y_shape))
    jacobian = np.zeros((x_size, y_size), dtype=_numpy_dtype(x))
    dy = array_ops.placeholder(y.dtype.base_dtype, shape=y_shape)
    grad = gradients_lib.gradients(y, x, grad_ys=dy)[0]
    if grad is None:
        return jacobian  # y does not depend on x
    dy_value = np.zeros(y_shape, dtype=_numpy_dtype(y))
    for column in range(y_size):
        dy_value.flat[column] = 1
        value = session.run(grad, feed_dict={**feed, dy: dy_value})
        if hasattr(value, "indices"):  # IndexedSlicesValue
            dense = np.zeros(x_shape, dtype=jacobian.dtype)
            np.add.at(dense, value.indices, value.values)
            value = dense
        jacobian[:, column] = np.reshape(value, -1)
        # Only now: the fetched gradient may share memory with the fed seed (an identity
        # or a gather's gradient hands the seed through).
        dy_value.flat[column] = 0
    return jacobian


def _numerical_jacobian(session, x, x_shape, x_value, y, y_shape, delta, feed):
    """The (x size, y size) Jacobian from central differences, one x element at a time."""
    x_size, y_size = int(np.prod(x_shape)), int(np.prod(y_shape))
    jacobian = np.zeros((x_size, y_size), dtype=_numpy_dtype(x))
    x_value = np.array(x_value, dtype=_numpy_dtype(x), copy=True).reshape(x_shape)
    for row in range(x_size):
        saved = x_value.flat[row]
        x_value.flat[row] = saved + delta
        y_plus = session.run(y, feed_dict={**feed, x: x_value})
        x_value.flat[row] = saved - delta
        y_minus = session.run(y, feed_dict={**feed, x: x_value})
        x_value.flat[row] = saved
        difference = (np.asarray(y_plus, np.float64) - np.asarray(y_minus, np.float64))
        jacobian[row, :] = np.reshape(difference / (2 * delta), -1)
    return jacobian


def compute_gradient(x, x_shape, y, y_shape, x_init_value=None, delta=1e-3, init_targets=None,
                     extra_feed_dict=None):
    """The symbolic and the numeric Jacobian of `y` with respect to `x`, in the default
    session (TF 1's ``tf.test.compute_gradient``).

    Args:
      x: a float `Tensor` (fed with the values below), or a list of them.
      x_shape: the shape of `x` (a list of shapes for a list).
      y: a float `Tensor` that depends on `x`.
      y_shape: the shape of `y`.
      x_init_value: the values of `x` to differentiate at (a list for a list); default:
        uniform random values in [0, 1).
      delta: the central-difference step.
      init_targets: ops to run first (e.g. variable initializers).
      extra_feed_dict: further feeds for every run.

    Returns:
      ``(theoretical, numerical)``, two arrays of shape (x size, y size); a list of such
      pairs when `x` is a list.

    Raises:
      ValueError: if there is no default session, or the shapes do not match the tensors.
    """
    session = get_default_session()
    if session is None:
        raise ValueError("compute_gradient needs a default session: call it inside "
                         "`with tf.Session():` (or a TestCase's cached_session()).")
    if init_targets is not None:
        session.run(init_targets)
    feed = dict(extra_feed_dict or {})
    if isinstance(x, (list, tuple)):
        values = x_init_value if x_init_value is not None else [None] * len(x)
        if not (len(x) == len(x_shape) == len(values)):
            raise ValueError("x, x_shape and x_init_value must have the same length")
        starts = [_initial_value(xi, shape, value) for xi, shape, value
                  in zip(x, x_shape, values)]
        feed_all = {**feed, **dict(zip(x, starts))}
        results = []
        for index, (xi, shape) in enumerate(zip(x, x_shape)):
            others = {k: v for k, v in feed_all.items() if k is not xi}
            results.append((
                _theoretical_jacobian(session, xi, shape, y, y_shape, feed_all),
                _numerical_jacobian(session, xi, shape, starts[index], y, y_shape, delta,
                                    others)))
        return results
    start = _initial_value(x, x_shape, x_init_value)
    return (_theoretical_jacobian(session, x, x_shape, y, y_shape, {**feed, x: start}),
            _numerical_jacobian(session, x, x_shape, start, y, y_shape, delta, feed))


def _initial_value(x, x_shape, value):
    dtype = _numpy_dtype(x)
    if value is None:
        value = np.random.random_sample(x_shape)
    value = np.asarray(value, dtype=dtype)
    if list(value.shape) != list(x_shape):
        raise ValueError(f"x_init_value has shape {value.shape}, expected {tuple(x_shape)}")
    known = x.get_shape()
    if known.dims is not None and not known.is_compatible_with(x_shape):
        raise ValueError(f"x_shape {tuple(x_shape)} does not match x's shape {known}")
    return value


def compute_gradient_error(x, x_shape, y, y_shape, x_init_value=None, delta=1e-3,
                           init_targets=None, extra_feed_dict=None):
    """The largest absolute difference between the symbolic and numeric Jacobians of
    `compute_gradient` (over every x of a list)."""
    result = compute_gradient(x, x_shape, y, y_shape, x_init_value, delta, init_targets,
                              extra_feed_dict)
    pairs = result if isinstance(result, list) else [result]
    error = 0.0
    for theoretical, numerical in pairs:
        if theoretical.size:
            error = max(error, float(np.max(np.abs(theoretical - numerical))))
    return error


def assert_equal_graph_def(actual, expected, checkit=True, hash_table_shared_name=False):
    """Whether two GraphDefs hold the same nodes, in any order; raises AssertionError with
    the first difference when `checkit` (else returns the message, or None).

    Args:
      actual, expected: `GraphDef` protos.
      checkit: raise on a difference rather than return it.
      hash_table_shared_name: accepted for TF's signature.

    Raises:
      TypeError: if either is not a GraphDef.
      AssertionError: for a difference, when `checkit`.
    """
    del hash_table_shared_name
    from sessionlib.protos import GraphDef

    if not isinstance(actual, GraphDef) or not isinstance(expected, GraphDef):
        raise TypeError("assert_equal_graph_def needs two GraphDef protos")
    message = _graph_def_difference(actual, expected)
    if message and checkit:
        raise AssertionError(message)
    return message


def _graph_def_difference(actual, expected):
    actual_nodes = {node.name: node for node in actual.node}
    expected_nodes = {node.name: node for node in expected.node}
    if set(actual_nodes) != set(expected_nodes):
        return (f"Nodes differ: only in actual: {sorted(set(actual_nodes) - set(expected_nodes))}"
                f"; only in expected: {sorted(set(expected_nodes) - set(actual_nodes))}")
    for name in sorted(actual_nodes):
        a, e = actual_nodes[name], expected_nodes[name]

        def split(node):
            data = [i for i in node.input if not i.startswith("^")]
            return data, sorted(i for i in node.input if i.startswith("^"))

        for field in ("op", "device"):
            if getattr(a, field) != getattr(e, field):
                return f"Node {name!r}: {field} {getattr(a, field)!r} != {getattr(e, field)!r}"
        if split(a) != split(e):
            return f"Node {name!r}: inputs {list(a.input)} != {list(e.input)}"
        if dict(a.attr) != dict(e.attr):
            return f"Node {name!r}: attrs differ:\n{a.attr}\nvs\n{e.attr}"
    return None
