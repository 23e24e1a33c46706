"""tf.test: TestCase's sessions and assertions, the gradient checker, tf.test.main, and the
graph-def comparison. The TestCase subclasses below are collected by pytest like any
unittest.TestCase; the failing assertions are checked from inside them."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sessionlib as tf


class SessionsTest(tf.test.TestCase):

    def test_each_test_starts_on_a_fresh_graph(self):
        self.assertEqual(tf.get_default_graph().get_operations(), [])
        tf.constant(1.0, name="left_over")

    def test_each_test_starts_on_a_fresh_graph_too(self):
        self.assertEqual(tf.get_default_graph().get_operations(), [])
        tf.constant(1.0, name="left_over")

    def test_each_test_starts_with_tfs_seeds(self):
        self.assertEqual(tf.get_default_graph().seed, 87654321)
        first = self.evaluate(tf.random_uniform([3]))
        self.assertEqual(np.random.randint(1000), np.random.RandomState(87654321).randint(1000))
        self.tearDown()  # as if a second test ran: it sees the same values
        self.setUp()
        self.assertAllEqual(self.evaluate(tf.random_uniform([3])), first)

    def test_cached_session_is_reused_and_default(self):
        x = tf.constant([1.0, 2.0])
        with self.cached_session() as first:
            self.assertIs(tf.get_default_session(), first)
            self.assertAllEqual(first.run(x * 2), [2.0, 4.0])
        with self.cached_session() as second:
            self.assertIs(second, first)
        with self.test_session() as third:
            self.assertIs(third, first)
        with self.assertRaises(ValueError):
            with self.cached_session(graph=tf.Graph()):
                pass

    def test_session_is_new_and_closed(self):
        graph = tf.Graph()
        with graph.as_default():
            y = tf.constant(3)
        with self.session(graph=graph) as sess:
            self.assertIs(tf.get_default_graph(), graph)
            self.assertEqual(sess.run(y), 3)
            self.assertEqual(self.evaluate(y), 3)
        with self.assertRaises(RuntimeError):
            sess.run(y)
        with self.test_session(graph=graph) as other:
            self.assertIsNot(other, sess)

    def test_evaluate_without_a_session_uses_the_cached_one(self):
        v = tf.Variable([1.0, 2.0])
        self.evaluate(v.initializer)
        self.assertAllClose(self.evaluate({"v": v, "sum": tf.reduce_sum(v)}),
                            {"v": [1.0, 2.0], "sum": 3.0})

    def test_get_temp_dir(self):
        path = self.get_temp_dir()
        self.assertTrue(os.path.isdir(path))
        self.assertEqual(self.get_temp_dir(), path)
        self.assertTrue(path.startswith(tf.test.get_temp_dir()))


class AssertionsTest(tf.test.TestCase):

    def test_all_close(self):
        self.assertAllClose([1.0, 2.0], np.array([1.0, 2.0 + 1e-7]))
        self.assertAllClose({"a": [1.0], "b": (2.0, [3.0])},
                            {"a": np.array([1.0]), "b": (2.0, [3.0])})
        self.assertAllClose(tf.constant([1.0, np.nan]), [1.0, np.nan])
        self.assertAllClose(np.float16(1.0), np.float16(1.0009))  # half's wider tolerance
        with self.assertRaisesRegex(AssertionError, "not close"):
            self.assertAllClose([1.0, 2.0], [1.0, 2.1])
        with self.assertRaisesRegex(AssertionError, "shape mismatch"):
            self.assertAllClose([1.0, 2.0], [[1.0, 2.0]])
        with self.assertRaisesRegex(AssertionError, "mismatched keys"):
            self.assertAllClose({"a": 1.0}, {"b": 1.0})
        self.assertAllClose([1.0], [1.1], atol=0.2)
        self.assertNotAllClose([1.0], [2.0])
        self.assertAllCloseAccordingToType(np.float32([1.0]), [1.0 + 1e-7])

    def test_all_equal(self):
        self.assertAllEqual([[1, 2]], np.array([[1, 2]]))
        self.assertAllEqual(tf.constant([b"a", b"b"]), [b"a", b"b"])
        self.assertAllEqual([1.0, np.nan], [1.0, np.nan])
        with self.assertRaisesRegex(AssertionError, "1 of 2 elements differ"):
            self.assertAllEqual([1, 2], [1, 3])
        with self.assertRaisesRegex(AssertionError, "shape mismatch"):
            self.assertAllEqual([1, 2], [1, 2, 3])
        self.assertNotAllEqual([1, 2], [1, 3])

    def test_ranges_and_orders(self):
        self.assertAllInRange([0.0, 0.5, 1.0], 0.0, 1.0)
        with self.assertRaises(AssertionError):
            self.assertAllInRange([0.0, 0.5], 0.0, 1.0, open_lower_bound=True)
        with self.assertRaises(AssertionError):
            self.assertAllInRange([1.0], 0.0, 1.0, open_upper_bound=True)
        with self.assertRaises(AssertionError):
            self.assertAllInRange([np.nan], 0.0, 1.0)
        with self.assertRaises(AssertionError):
            self.assertAllInRange(["a"], 0, 1)
        self.assertAllInSet([1, 2, 1], {1, 2})
        with self.assertRaises(AssertionError):
            self.assertAllInSet([3], [1, 2])
        self.assertAllGreater([2, 3], 1)
        self.assertAllLess([2, 3], 4)
        self.assertAllGreaterEqual([1, 3], 1)
        self.assertAllLessEqual([1, 3], 3)
        with self.assertRaises(AssertionError):
            self.assertAllGreater([1, 3], 1)
        self.assertNear(1.0, 1.05, 0.1)
        self.assertArrayNear([1.0, 2.0], [1.01, 2.0], 0.02)
        with self.assertRaises(AssertionError):
            self.assertNear(1.0, 1.2, 0.1)

    def test_shapes_dtypes_devices_protos(self):
        x = tf.placeholder(tf.float32, [2, 3])
        self.assertShapeEqual(np.zeros((2, 3)), x)
        with self.assertRaises(AssertionError):
            self.assertShapeEqual(np.zeros((3, 2)), x)
        with self.assertRaises(TypeError):
            self.assertShapeEqual([1], x)
        self.assertDTypeEqual(np.zeros(2, np.float32), tf.float32)
        self.assertDTypeEqual([np.zeros(1, np.int64), np.zeros(2, np.int64)], np.int64)
        self.assertDeviceEqual("/cpu:0", "/device:CPU:0")
        self.assertStartsWith("prefix_rest", "prefix")
        self.assertProtoEquals("allow_growth: true", tf.GPUOptions(allow_growth=True))
        with self.assertRaises(AssertionError):
            self.assertProtoEquals("allow_growth: false", tf.GPUOptions(allow_growth=True))
        self.assertItemsEqual([1, 2], [2, 1])

    def test_raises_op_error_and_predicates(self):
        x = tf.placeholder(tf.float32)
        check = tf.Assert(x > 0, [x])
        with self.cached_session() as sess:
            with self.assertRaisesOpError("assertion failed"):
                sess.run(check, {x: -1.0})
            with self.assertRaisesWithPredicateMatch(
                    tf.errors.InvalidArgumentError, lambda e: "assertion" in e.message):
                sess.run(check, {x: -1.0})
            with self.assertRaisesRegex(AssertionError, "did not match"):
                with self.assertRaisesOpError("something else"):
                    sess.run(check, {x: -1.0})
            with self.assertRaisesRegex(AssertionError, "not raised"):
                with self.assertRaisesOpError("assertion failed"):
                    sess.run(check, {x: 1.0})
        with self.assertRaises(KeyError):  # another error type passes through
            with self.assertRaisesOpError("x"):
                raise KeyError("k")


class AbslAssertionsAndThreadsTest(tf.test.TestCase):

    def test_absl_assertions(self):
        self.assertLen([1, 2], 2)
        self.assertEmpty([])
        self.assertNotEmpty((1,))
        self.assertBetween(2, 1, 3)
        self.assertContainsSubset([1], [1, 2])
        self.assertSameElements([1, 1, 2], [2, 1])
        for failing in (lambda: self.assertLen([1], 2), lambda: self.assertEmpty([1]),
                        lambda: self.assertNotEmpty([]), lambda: self.assertBetween(4, 1, 3),
                        lambda: self.assertContainsSubset([3], [1, 2])):
            with self.assertRaises(AssertionError):
                failing()

    def test_checked_thread_reports_the_targets_error(self):
        results = []
        good = self.checkedThread(results.append, args=(5,))
        good.start()
        good.join()
        self.assertEqual(results, [5])
        self.assertFalse(good.is_alive())

        def broken():
            raise RuntimeError("inside the thread")

        bad = self.checkedThread(broken)
        bad.start()
        with self.assertRaisesRegex(AssertionError, "inside the thread"):
            bad.join()

    def test_queue_between_checked_threads(self):
        queue = tf.FIFOQueue(4, tf.int32, shapes=[[]])
        value = tf.placeholder(tf.int32, [])
        enqueue, dequeue = queue.enqueue(value), queue.dequeue()
        with self.cached_session() as sess:
            producer = self.checkedThread(
                lambda: [sess.run(enqueue, {value: v}) for v in range(3)])
            producer.start()
            self.assertEqual([sess.run(dequeue) for _ in range(3)], [0, 1, 2])
            producer.join()


def test_benchmark_and_stubs(caplog):
    class Timing(tf.test.Benchmark):
        pass

    with tf.Session() as sess:
        x = tf.constant([1.0, 2.0])
        with caplog.at_level("INFO", logger="sessionlib"):
            result = Timing().run_op_benchmark(sess, x * 2, burn_iters=1, min_iters=3,
                                               name="double", mbs=8)
    assert result["iters"] == 3 and result["name"] == "double" and result["extras"] == {}
    assert result["wall_time"] > 0 and result["throughput"] == 8 / result["wall_time"]
    assert any("Benchmark [double] iters: 3" in r.getMessage() for r in caplog.records)

    class Holder:
        value = 1

    stubs = tf.test.StubOutForTesting()
    stubs.Set(Holder, "value", 2)
    stubs.SmartSet(Holder, "value", 3)
    assert Holder.value == 3
    stubs.UnsetAll()
    assert Holder.value == 1


class GradientCheckerTest(tf.test.TestCase):

    def test_compute_gradient_of_a_matmul(self):
        rng = np.random.RandomState(0)
        a_value = rng.rand(2, 3)
        x = tf.placeholder(tf.float64, [2, 3])
        w_value = rng.rand(3, 4)
        y = tf.matmul(x, tf.constant(w_value))
        with self.cached_session():
            theoretical, numerical = tf.test.compute_gradient(x, [2, 3], y, [2, 4],
                                                              x_init_value=a_value)
            self.assertEqual(theoretical.shape, (6, 8))
            # dy[i, j] / dx[i, k] = w[k, j]
            expected = np.zeros((6, 8))
            for i in range(2):
                for k in range(3):
                    expected[i * 3 + k, i * 4:(i + 1) * 4] = w_value[k]
            self.assertAllClose(theoretical, expected)
            self.assertAllClose(numerical, expected, atol=1e-6)
            error = tf.test.compute_gradient_error(x, [2, 3], y, [2, 4], x_init_value=a_value)
            self.assertLess(error, 1e-6)

    def test_compute_gradient_of_a_list_and_a_gather(self):
        a = tf.placeholder(tf.float64, [3])
        b = tf.placeholder(tf.float64, [3])
        y = tf.gather(a * b, [0, 2])
        with self.cached_session():
            pairs = tf.test.compute_gradient([a, b], [[3], [3]], y, [2],
                                             x_init_value=[np.array([1.0, 2.0, 3.0]),
                                                           np.array([4.0, 5.0, 6.0])])
            self.assertEqual(len(pairs), 2)
            self.assertAllClose(pairs[0][0], [[4.0, 0.0], [0.0, 0.0], [0.0, 6.0]])
            self.assertAllClose(pairs[0][1], pairs[0][0], atol=1e-6)
            self.assertAllClose(pairs[1][0], [[1.0, 0.0], [0.0, 0.0], [0.0, 3.0]])
            params = tf.placeholder(tf.float64, [4])
            gathered = tf.gather(params, [1, 1, 3])  # an IndexedSlices gradient
            self.assertLess(tf.test.compute_gradient_error(params, [4], gathered, [3]), 1e-6)

    def test_compute_gradient_errors(self):
        x = tf.placeholder(tf.float64, [2])
        y = x * 2
        with self.assertRaisesRegex(ValueError, "default session"):
            tf.test.compute_gradient(x, [2], y, [2])
        with self.cached_session():
            with self.assertRaisesRegex(ValueError, "x_init_value has shape"):
                tf.test.compute_gradient(x, [2], y, [2], x_init_value=[1.0])
            # A wrong gradient is caught: stop_gradient hides the dependence.
            z = tf.stop_gradient(x) * 3
            self.assertAlmostEqual(tf.test.compute_gradient_error(x, [2], z, [2]), 3.0,
                                   places=6)


def test_assert_equal_graph_def():
    graph = tf.Graph()
    with graph.as_default():
        a = tf.constant(1.0, name="a")
        tf.identity(a, name="b")
    other = tf.Graph()
    with other.as_default():
        a = tf.constant(1.0, name="a")
        tf.identity(a, name="b")
    tf.test.assert_equal_graph_def(graph.as_graph_def(), other.as_graph_def())
    with other.as_default():
        tf.identity(a, name="c")
    with pytest.raises(AssertionError, match="only in expected: \\['c'\\]"):
        tf.test.assert_equal_graph_def(graph.as_graph_def(), other.as_graph_def())
    assert tf.test.assert_equal_graph_def(graph.as_graph_def(), other.as_graph_def(),
                                          checkit=False)
    with pytest.raises(TypeError):
        tf.test.assert_equal_graph_def("x", graph.as_graph_def())
    assert tf.test.is_built_with_rocm() is False and tf.test.is_built_with_xla() is False
    assert tf.test.mock.MagicMock


def test_main_runs_a_unittest_module(tmp_path):
    script = tmp_path / "suite.py"
    script.write_text(textwrap.dedent("""
        import sessionlib as tf

        tf.flags.DEFINE_integer("factor", 2, "multiplier")

        class MathTest(tf.test.TestCase):
            def test_double(self):
                with self.cached_session():
                    self.assertAllEqual(self.evaluate(tf.constant([1, 2]) *
                                                      tf.flags.FLAGS.factor), [3, 6])

            def test_fails(self):
                self.assertAllClose([1.0], [2.0])

        if __name__ == "__main__":
            tf.test.main()
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))] +
        [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    result = subprocess.run([sys.executable, str(script), "--factor=3", "-v"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 1
    assert "test_double (__main__.MathTest" in result.stderr and "ok" in result.stderr
    assert "FAIL: test_fails" in result.stderr and "Ran 2 tests" in result.stderr
