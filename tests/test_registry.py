"""Unit tests of the op registry (sessionlib/framework/registry.py), without sessions.

The registry is process-global, and other tests walk it (test_parity checks that every
registered op has a parity case), so each test here registers into an empty registry of its
own: `isolated_registry` swaps the module's tables for fresh ones and puts the real ones back.
"""

import threading

import pytest

from sessionlib.framework import registry


def _infer_nothing(inputs, attrs):
    return []


@pytest.fixture
def isolated_registry(monkeypatch):
    monkeypatch.setattr(registry, "_by_type", {})
    monkeypatch.setattr(registry, "_by_id", [])
    return registry


def test_defaults_of_a_registration(isolated_registry):
    opdef = isolated_registry.register_op("TestPlain", infer=_infer_nothing)
    assert opdef.type == "TestPlain"
    assert opdef.op_id == 0
    assert opdef.kernel == "TestPlain"  # the kernel is named after the op type by default
    assert opdef.infer is _infer_nothing
    assert opdef.num_inputs is None
    assert opdef.stateful is False
    assert opdef.doc == ""
    assert opdef.fetch_wrapper is None
    assert opdef.fusion is None
    assert repr(opdef) == "OpDef('TestPlain', id=0)"


def test_every_field_given(isolated_registry):
    def wrap(value, tensor, session):
        return value

    opdef = isolated_registry.register_op(
        "TestFull", infer=_infer_nothing, kernel="TestFullKernel", num_inputs=2,
        stateful=True, doc="Adds things.", fetch_wrapper=wrap, fusion="add")
    assert (opdef.kernel, opdef.num_inputs, opdef.stateful, opdef.doc, opdef.fusion) == (
        "TestFullKernel", 2, True, "Adds things.", "add")
    assert opdef.fetch_wrapper is wrap


def test_get_find_and_lookup_id_return_the_registration(isolated_registry):
    first = isolated_registry.register_op("TestFirst", infer=_infer_nothing)
    second = isolated_registry.register_op("TestSecond", infer=_infer_nothing)
    assert isolated_registry.get("TestSecond") is second
    assert isolated_registry.find("TestFirst") is first
    assert [isolated_registry.lookup_id(i) for i in (0, 1)] == [first, second]
    assert (first.op_id, second.op_id) == (0, 1)


def test_a_type_is_registered_once(isolated_registry):
    original = isolated_registry.register_op("TestTwice", infer=_infer_nothing, doc="first")
    with pytest.raises(ValueError, match="'TestTwice' is already registered"):
        isolated_registry.register_op("TestTwice", infer=_infer_nothing, doc="second")
    assert isolated_registry.get("TestTwice") is original
    assert isolated_registry.all_op_types() == ["TestTwice"]


def test_unknown_types(isolated_registry):
    with pytest.raises(ValueError, match="Op type not registered: 'TestMissing'"):
        isolated_registry.get("TestMissing")
    assert isolated_registry.find("TestMissing") is None


@pytest.mark.parametrize("kernel", [42, 1.5, b"TestBytes", ["TestList"]])
def test_a_kernel_must_be_a_name(isolated_registry, kernel):
    with pytest.raises(ValueError, match="`kernel` must be a kernel name"):
        isolated_registry.register_op("TestBadKernel", infer=_infer_nothing, kernel=kernel)
    assert isolated_registry.find("TestBadKernel") is None  # nothing half-registered
    assert isolated_registry.all_op_types() == []


def test_all_op_types_in_registration_order(isolated_registry):
    names = ["TestZeta", "TestAlpha", "TestMid"]
    for name in names:
        isolated_registry.register_op(name, infer=_infer_nothing)
    assert isolated_registry.all_op_types() == names
    # A copy: changing it leaves the registry as it was.
    isolated_registry.all_op_types().append("TestIntruder")
    assert isolated_registry.all_op_types() == names


def test_concurrent_registrations_get_distinct_consecutive_ids(isolated_registry):
    names = [f"TestThread{i}" for i in range(16)]
    barrier = threading.Barrier(len(names))

    def register(name):
        barrier.wait()
        isolated_registry.register_op(name, infer=_infer_nothing)

    threads = [threading.Thread(target=register, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(isolated_registry.all_op_types()) == sorted(names)
    assert sorted(isolated_registry.get(name).op_id for name in names) == list(range(16))
    for op_id in range(16):
        assert isolated_registry.lookup_id(op_id).op_id == op_id


def test_the_library_registers_its_ops_under_their_tf_names():
    """Read-only checks of the real registry, as `import sessionlib` filled it."""
    types = registry.all_op_types()
    assert {"AddV2", "MatMul", "Placeholder", "Const", "Sum"} <= set(types)
    assert len(types) == len(set(types))
    for op_id, op_type in enumerate(types):
        opdef = registry.get(op_type)
        assert (opdef.type, opdef.op_id) == (op_type, op_id)
        assert registry.lookup_id(op_id) is opdef
        assert isinstance(opdef.kernel, str)
    assert registry.get("MatMul").num_inputs == 2
    assert registry.get("MatMul").stateful is False
    assert registry.get("RandomUniform").stateful is True
