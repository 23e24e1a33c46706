"""``intra_op_parallelism_threads`` caps an in-process session's BLAS threads, as in TF.

An in-process session's matmuls call numpy's OpenBLAS, whose own thread count is every core.
With ``intra_op_parallelism_threads=1`` TF runs them on one thread; so does sessionlib: a
GEMM sets OpenBLAS's count to the cap for the call and back after (`_cores.blas_lease`).
Checked with a probe, not by timing: the test wraps the `np.matmul` that `cores.blas_matmul`
calls and reads OpenBLAS's thread count from inside the call.
"""

import types

import numpy as np
import pytest

import sessionlib as tf
from sessionlib._core import cores as core_cores
from sessionlib.runtime import cores


@pytest.fixture
def probe(monkeypatch):
    """The OpenBLAS thread counts seen inside the session's matmuls."""
    monkeypatch.setenv("SESSIONLIB_WORKERS", "0")
    functions = cores._blas_functions()
    if functions is None:
        pytest.skip("numpy's BLAS is not OpenBLAS")
    _, get_threads = functions
    seen = []

    def matmul(a, b):
        seen.append(get_threads())
        return np.matmul(a, b)

    monkeypatch.setattr(cores, "np", types.SimpleNamespace(matmul=matmul))
    return seen, get_threads


def _matmul_session(threads):
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [256, 256])
        product = tf.matmul(a, a)          # 16.8M multiply-adds: OpenBLAS would thread it
    config = tf.ConfigProto(intra_op_parallelism_threads=threads)
    return tf.Session(graph=graph, config=config), a, product


def test_intra_op_one_runs_matmuls_on_one_blas_thread(probe):
    seen, get_threads = probe
    sess, a, product = _matmul_session(1)
    base = core_cores.blas_base()
    if base <= 1:
        pytest.skip("this process's OpenBLAS runs on one thread anyway")
    value = np.arange(256 * 256, dtype=np.float32).reshape(256, 256) / 65536.0
    before = core_cores.blas_capped_calls()
    with sess:
        result = sess.run(product, {a: value})
    np.testing.assert_allclose(result, value @ value, rtol=1e-5)
    assert seen == [1]
    assert core_cores.blas_capped_calls() == before + 1
    assert get_threads() == base             # given back after the call


def test_default_threads_leave_blas_alone(probe):
    seen, get_threads = probe
    sess, a, product = _matmul_session(0)    # 0: every core, OpenBLAS's own count
    with sess:
        before = core_cores.blas_capped_calls()
        sess.run(product, {a: np.ones((256, 256), np.float32)})
    assert core_cores.blas_capped_calls() == before
    assert seen and seen[0] >= 1


def test_small_products_skip_the_cap(probe):
    seen, get_threads = probe
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [16, 16])
        product = tf.matmul(a, a)          # 4096 multiply-adds: one thread in OpenBLAS anyway
    with tf.Session(graph=graph, config=tf.ConfigProto(intra_op_parallelism_threads=1)) as sess:
        before = core_cores.blas_capped_calls()
        assert sess.run(product, {a: np.ones((16, 16), np.float32)})[0, 0] == 16.0
    assert core_cores.blas_capped_calls() == before


def test_a_contended_multi_thread_gemm_sends_the_next_ones_to_one_thread(probe, monkeypatch):
    # Decided from recorded times, not measured ones: the times are handed in directly.
    seen, get_threads = probe
    monkeypatch.setattr(cores, "_fastest", {})
    monkeypatch.setattr(cores, "_single_until", [0.0])
    monkeypatch.setattr(cores, "_contended_in_a_row", [0])
    monkeypatch.setattr(cores, "CONTENDED_SECONDS", 600.0)
    sess, a, product = _matmul_session(0)
    with sess:
        sess.run(product, {a: np.ones((256, 256), np.float32)})   # installs the BLAS hook
        base = core_cores.blas_base()
        if base <= 1:
            pytest.skip("this process's OpenBLAS runs on one thread anyway")
        call = ((256, 256), (256, 256), True, True, 2)
        other = ((128, 512), (512, 128), True, False, 2)     # the same size, another shape
        cores._fastest.clear()
        cores._note_multi_thread_time(call, 1e-3)       # the fastest of this call so far
        cores._note_multi_thread_time(call, 1.5e-3)     # slower, within CONTENDED_RATIO
        cores._note_multi_thread_time(other, 2.5e-3)    # compared with its own fastest only
        cores._note_multi_thread_time(other, 2.5e-3)
        assert cores._single_until[0] == 0.0
        cores._note_multi_thread_time(call, 3e-3)       # contended, but once is a hiccup
        cores._note_multi_thread_time(call, 1e-3)       # (and a quiet call ends the run)
        for _ in range(cores.CONTENDED_CALLS - 1):
            cores._note_multi_thread_time(call, 3e-3)
        assert cores._single_until[0] == 0.0
        cores._note_multi_thread_time(call, 3e-3)       # CONTENDED_CALLS in a row: contention
        assert cores._single_until[0] > 0.0
        seen.clear()
        result = sess.run(product, {a: np.ones((256, 256), np.float32)})
    assert result[0, 0] == 256.0
    assert seen == [1]                       # one thread while contended
    assert get_threads() == base             # and the count given back after the call
