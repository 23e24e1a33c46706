"""Shared-memory segments and the tensor store (runtime/shm.py)."""

import os
import stat

import numpy as np
import pytest

from sessionlib import errors
from sessionlib.runtime import shm

from _device_helpers import run_python


def test_segment_name_carries_pid_and_mode_is_0600():
    segment = shm.Segment(4096)
    try:
        assert segment.name.startswith(f"sessionlib_{os.getpid()}_")
        mode = os.stat(os.path.join(shm.SHM_DIR, segment.name)).st_mode
        assert stat.S_IMODE(mode) == 0o600
        assert segment.name in shm.own_segments()
    finally:
        segment.unlink()
    assert not os.path.exists(os.path.join(shm.SHM_DIR, segment.name))
    assert segment.name not in shm.own_segments()


def test_segment_unlinked_when_collected():
    segment = shm.Segment(4096)
    path = os.path.join(shm.SHM_DIR, segment.name)
    assert os.path.exists(path)
    del segment
    assert not os.path.exists(path)


def test_sweep_removes_segments_of_dead_creators():
    result = run_python("import os\n"
                        "fd = os.open('/dev/shm/sessionlib_%d_00ff' % os.getpid(),"
                        " os.O_CREAT | os.O_RDWR, 0o600)\n"
                        "print(os.getpid())\n"
                        "os._exit(0)\n")
    dead_pid = int(result.stdout.strip())
    path = os.path.join(shm.SHM_DIR, f"sessionlib_{dead_pid}_00ff")
    assert os.path.exists(path)
    mine = shm.Segment(4096)
    try:
        removed = shm.sweep()
        assert f"sessionlib_{dead_pid}_00ff" in removed
        assert not os.path.exists(path)
        assert os.path.exists(os.path.join(shm.SHM_DIR, mine.name))  # live creator: kept
    finally:
        mine.unlink()


def test_no_segment_left_after_exit():
    code = (
        "import os, numpy as np\n"
        "from sessionlib.runtime import shm\n"
        "store = shm.store()\n"
        "d = store.publish(np.ones(1 << 20, np.float32))\n"
        "keep = shm.Segment(4096)\n"
        "print(os.getpid(), len(shm.own_segments()))\n")
    result = run_python(code)
    pid, count = map(int, result.stdout.split())
    assert count >= 2
    assert not [n for n in os.listdir(shm.SHM_DIR) if n.startswith(f"sessionlib_{pid}_")]


def test_publish_and_open_roundtrip_inline_and_arena():
    store = shm.TensorStore()
    try:
        small = np.arange(6, dtype=np.int32).reshape(2, 3)
        descriptor = store.publish(small)
        assert descriptor[0] == "i"
        np.testing.assert_array_equal(store.open(descriptor), small)
        big = np.random.rand(300, 700)
        descriptor = store.publish(big)
        assert descriptor[0] == "a"
        view = store.open(descriptor)
        np.testing.assert_array_equal(view, big)
        assert not view.flags.writeable
        with pytest.raises(ValueError):
            view[0, 0] = 1.0
        strings = np.array([b"a", b"bc"], dtype=object)
        np.testing.assert_array_equal(store.open(store.publish(strings)), strings)
    finally:
        store.close()


def test_blocks_are_reused_after_release():
    store = shm.TensorStore()
    try:
        array = np.ones(1 << 18, np.float32)
        first = store.publish(array)
        view = store.open(first)
        del view  # the consumer lets go: the lease word drops to 0
        store.reclaim()
        second = store.publish(array)
        assert (second[1], second[2]) == (first[1], first[2])  # the same block, no new segment
        held = store.open(second)
        third = store.publish(array)
        assert (third[1], third[2]) != (second[1], second[2])  # still leased: a new block
        del held
    finally:
        store.close()


def test_resource_exhausted_when_dev_shm_is_too_small(monkeypatch):
    monkeypatch.setattr(shm, "_free_bytes", lambda: 1024)
    with pytest.raises(errors.ResourceExhaustedError, match="/dev/shm is too small"):
        shm.Segment(1 << 20)
    store = shm.TensorStore()
    with pytest.raises(errors.ResourceExhaustedError, match="shm"):
        store.publish(np.ones(1 << 20, np.float32))
