"""Unit tests of device names (sessionlib/framework/device_spec.py), without graphs or sessions.

The expected values are TF's (``tf.DeviceSpec`` and the device scopes of TF 1 graphs): the
parts print in the order job, replica, task, device; a device type in the short form
(``/cpu:0``) or written ``cpu``/``gpu`` becomes upper case; an inner scope's parts win over
an outer scope's, one part at a time.
"""

import pytest

from sessionlib.framework.device_spec import (LOCAL_PREFIX, DeviceSpec, canonical_name,
                                              full_name, merge_device)


def _parts(spec):
    return (spec.job, spec.replica, spec.task, spec.device_type, spec.device_index)


@pytest.mark.parametrize("text, parts", [
    ("/job:worker/replica:1/task:2/device:GPU:3", ("worker", 1, 2, "GPU", 3)),
    ("/job:ps", ("ps", None, None, None, None)),
    ("/replica:0/task:4", (None, 0, 4, None, None)),
    ("/device:CPU:1", (None, None, None, "CPU", 1)),
    ("/device:CPU:*", (None, None, None, "CPU", None)),
    ("/cpu:0", (None, None, None, "CPU", 0)),
    ("cpu:3", (None, None, None, "CPU", 3)),
    ("/GPU:*", (None, None, None, "GPU", None)),
    ("/gpu", (None, None, None, "GPU", None)),
    ("/job:localhost/replica:0/task:0/cpu:1", ("localhost", 0, 0, "CPU", 1)),
    ("", (None, None, None, None, None)),
    ("//job:a//", ("a", None, None, None, None)),
])
def test_parsing(text, parts):
    assert _parts(DeviceSpec.from_string(text)) == parts


@pytest.mark.parametrize("text, device_type", [
    ("/device:cpu:0", "CPU"),
    ("/device:gpu:1", "GPU"),
    ("/CPU:0", "CPU"),
    ("/cpu:0", "CPU"),
    ("/gpu:0", "GPU"),
])
def test_cpu_and_gpu_are_upper_case_however_written(text, device_type):
    assert DeviceSpec.from_string(text).device_type == device_type


def test_job_names_keep_their_case():
    assert DeviceSpec.from_string("/job:Worker").job == "Worker"


def test_constructor_normalises_its_arguments():
    spec = DeviceSpec(job="ps", replica="1", task="2", device_type="gpu", device_index="3")
    assert _parts(spec) == ("ps", 1, 2, "GPU", 3)
    assert _parts(DeviceSpec()) == (None, None, None, None, None)


@pytest.mark.parametrize("text, canonical", [
    ("/cpu:1", "/device:CPU:1"),
    ("CPU:0", "/device:CPU:0"),
    ("/gpu:*", "/device:GPU:*"),
    ("/device:CPU:0/job:w", "/job:w/device:CPU:0"),
    ("/task:1/replica:2/job:x", "/job:x/replica:2/task:1"),
    ("/job:localhost/replica:0/task:0/device:CPU:1",
     "/job:localhost/replica:0/task:0/device:CPU:1"),
    ("/job:localhost/replica:0/task:0/cpu:1", "/job:localhost/replica:0/task:0/device:CPU:1"),
])
def test_canonical_names(text, canonical):
    assert canonical_name(text) == canonical
    assert DeviceSpec.from_string(text).to_string() == canonical
    assert canonical_name(canonical) == canonical  # canonical names are fixed points


@pytest.mark.parametrize("empty", ["", None])
def test_no_device_is_the_empty_name(empty):
    assert canonical_name(empty) == ""
    assert merge_device(empty, empty) == ""


def test_repr_shows_the_canonical_name():
    assert repr(DeviceSpec.from_string("/cpu:1")) == "DeviceSpec('/device:CPU:1')"


@pytest.mark.parametrize("outer, inner, merged", [
    # TF's DeviceSpec documentation example: the job of the outer scope, the inner device.
    ("/job:train", "/device:GPU:1", "/job:train/device:GPU:1"),
    ("/job:train", "/job:ps/device:GPU:0", "/job:ps/device:GPU:0"),
    # Each part on its own: the inner type with the outer index.
    ("/cpu:1", "/gpu:*", "/device:GPU:1"),
    ("/cpu:1", "/cpu:0", "/device:CPU:0"),
    ("/job:w/replica:1/task:2/cpu:0", "/task:5",
     "/job:w/replica:1/task:5/device:CPU:0"),
    ("", "/cpu:1", "/device:CPU:1"),
    ("/cpu:1", "", "/device:CPU:1"),
])
def test_merging_scopes(outer, inner, merged):
    assert merge_device(outer, inner) == merged
    as_specs = DeviceSpec.from_string(inner).merged_into(DeviceSpec.from_string(outer))
    assert as_specs.to_string() == merged


def test_merging_leaves_both_specs_unchanged():
    outer, inner = DeviceSpec.from_string("/job:a/cpu:1"), DeviceSpec.from_string("/gpu:*")
    inner.merged_into(outer)
    assert (outer.to_string(), inner.to_string()) == ("/job:a/device:CPU:1", "/device:GPU:*")


def test_full_local_names():
    assert LOCAL_PREFIX == "/job:localhost/replica:0/task:0"
    assert full_name("CPU", 1) == "/job:localhost/replica:0/task:0/device:CPU:1"
    assert canonical_name(full_name("GPU", 0)) == full_name("GPU", 0)


@pytest.mark.parametrize("text", [
    "/foo:1",  # unknown part
    "/job",  # a key without a value
    "/job:a:b",
    "/replica:x",  # indices are integers
    "/task:1.5",
    "/cpu:x",
    "/device:CPU:x",
    "/device:CPU:0:1",
    "bogus",
])
def test_bad_names_raise_value_error(text):
    with pytest.raises(ValueError):
        DeviceSpec.from_string(text)
    with pytest.raises(ValueError):
        canonical_name(text)
    with pytest.raises(ValueError):
        merge_device("/cpu:0", text)


def test_a_name_must_be_a_string():
    with pytest.raises(TypeError):
        DeviceSpec.from_string(3)


# Where sessionlib still parts from TF (tensorflow/python/framework/device_spec.py): TF matches
# the keys job/replica/task/device as written, accepts the short form in any case for its
# known types, upper-cases only "cpu" and "gpu" after "/device:", and rejects two device types
# in one name. Strict: when device_spec.py is brought in line, these pass and must be unmarked.
_NOT_YET_AS_TF = pytest.mark.xfail(strict=True, reason="device_spec.py differs from TF here")


@_NOT_YET_AS_TF
@pytest.mark.parametrize("text", ["/JOB:x", "/Task:0", "/cpu:0/gpu:1", "/device:CPU"])
def test_tf_rejects(text):
    with pytest.raises(ValueError):
        DeviceSpec.from_string(text)


@_NOT_YET_AS_TF
@pytest.mark.parametrize("text, device_type", [
    ("/Cpu:0", "CPU"),
    ("/device:tpu:0", "tpu"),
    ("/device:xla_cpu:0", "xla_cpu"),
])
def test_tf_device_type_case(text, device_type):
    assert DeviceSpec.from_string(text).device_type == device_type
