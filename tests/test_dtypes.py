"""DType: names, numpy and proto mappings, TF 1.x string spellings, properties."""

import pickle

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import dtypes
from sessionlib.protos import types_pb2


@pytest.mark.parametrize("dtype, np_type, enum_name", [
    (tf.float16, np.float16, "DT_HALF"),
    (tf.float32, np.float32, "DT_FLOAT"),
    (tf.float64, np.float64, "DT_DOUBLE"),
    (tf.int8, np.int8, "DT_INT8"),
    (tf.int16, np.int16, "DT_INT16"),
    (tf.int32, np.int32, "DT_INT32"),
    (tf.int64, np.int64, "DT_INT64"),
    (tf.uint8, np.uint8, "DT_UINT8"),
    (tf.bool, np.bool_, "DT_BOOL"),
])
def test_numeric_dtype_round_trips(dtype, np_type, enum_name):
    assert dtype.as_numpy_dtype is np_type
    assert dtype.as_datatype_enum == types_pb2.DataType.Value(enum_name)
    assert tf.as_dtype(np_type) is dtype
    assert tf.as_dtype(np.dtype(np_type)) is dtype
    assert tf.as_dtype(dtype.name) is dtype
    assert tf.as_dtype(dtype.as_datatype_enum) is dtype
    assert dtype == np_type and dtype == dtype.name


def test_string_dtype():
    assert tf.string.as_datatype_enum == types_pb2.DT_STRING
    assert tf.as_dtype("string") is tf.string
    assert tf.as_dtype(np.dtype("S3")) is tf.string
    assert tf.as_dtype(object) is tf.string
    assert not tf.string.is_floating and not tf.string.is_integer


def test_tf1_string_spellings():
    assert tf.as_dtype("float") is tf.float32
    assert tf.as_dtype("double") is tf.float64
    assert tf.as_dtype("half") is tf.float16
    assert tf.as_dtype("int32") is tf.int32
    assert tf.placeholder("float").dtype is tf.float32


def test_python_types():
    assert tf.as_dtype(float) is tf.float32
    assert tf.as_dtype(int) is tf.int32
    assert tf.as_dtype(bool) is tf.bool
    assert tf.as_dtype(str) is tf.string


@pytest.mark.parametrize("bad", ["floaty", 999, np.complex64, [1], None])
def test_unknown_types_raise_type_error(bad):
    with pytest.raises(TypeError):
        tf.as_dtype(bad)


def test_properties():
    assert tf.float32.is_floating and not tf.float32.is_integer
    assert tf.int8.is_integer and not tf.int8.is_floating and not tf.int8.is_unsigned
    assert tf.uint8.is_unsigned
    assert tf.bool.is_bool
    assert tf.int8.min == -128 and tf.int8.max == 127
    assert tf.uint8.min == 0 and tf.uint8.max == 255
    assert tf.float16.max == pytest.approx(65504.0)
    assert tf.float32.size == 4 and tf.float64.size == 8
    assert tf.float32.name == "float32"
    assert repr(tf.float32) == "tf.float32"
    with pytest.raises(TypeError):
        tf.string.max


def test_identity_hash_and_pickle():
    assert dtypes.as_dtype("float32") is tf.float32
    assert len({tf.float32, tf.as_dtype(np.float32), tf.as_dtype("float")}) == 1
    assert pickle.loads(pickle.dumps(tf.int64)) is tf.int64
    assert tf.float32 != tf.float64
    assert tf.float32 != "not a type"
