"""Unit tests of framework/session_tensor_store.py, the layout of the session-tensor store that
the session-handle kernels and the client-side TensorHandle share."""

import numpy as np
import pytest

from sessionlib.framework import session_tensor_store as store
from sessionlib.runtime.context import ResourceContainer


@pytest.mark.parametrize("value", ["h;0;dev", b"h;0;dev", np.array(b"h;0;dev", dtype=object),
                                   np.array(["h;0;dev"], dtype=object)])
def test_handle_string_accepts_strings_bytes_and_one_element_arrays(value):
    assert store.handle_string(value) == "h;0;dev"


@pytest.mark.parametrize("value", [7, np.array([b"a", b"b"], dtype=object)])
def test_handle_string_rejects_other_values(value):
    with pytest.raises(TypeError, match="A session tensor handle is a string"):
        store.handle_string(value)


def test_stored_value_finds_what_the_kernels_put():
    resources = ResourceContainer()
    value = np.arange(3)
    assert store.stored_value(resources, "h;0;dev") is None
    resources.put(store.store_key("h;0;dev"), store.StoredTensor(value))
    assert store.stored_value(resources, "h;0;dev") is value


def test_stored_tensors_survive_a_reset_of_named_containers():
    resources = ResourceContainer()
    resources.put(store.store_key("h;0;dev"), store.StoredTensor(np.zeros(1)))
    resources.clear_containers([""])
    assert store.stored_value(resources, "h;0;dev") is not None


def test_dead_handles_are_collected_by_the_tenth():
    resources = ResourceContainer()
    handles = [f"h;{number};dev" for number in range(10)]
    for handle in handles:
        resources.put(store.store_key(handle), store.StoredTensor(np.zeros(1)))
    for handle in handles[:9]:
        store.record_dead_handle(resources, handle)
    assert all(store.stored_value(resources, handle) is not None for handle in handles)
    store.record_dead_handle(resources, handles[9])
    assert all(store.stored_value(resources, handle) is None for handle in handles)
