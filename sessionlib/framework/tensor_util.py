"""Conversions between Python values, numpy arrays and `TensorProto`s, with TF's dtype rules.

TF infers ``float32`` for Python floats and ``int32`` for Python ints (``int64`` when a value
does not fit), while numpy arrays keep their own dtype. A value that cannot be represented in the
requested dtype is a `TypeError`, as in TF.
"""

import numbers

import numpy as np

from sessionlib import dtypes

__all__ = ["to_numpy", "make_tensor_proto", "make_ndarray", "constant_value"]

_INT32_MIN, _INT32_MAX = -(2 ** 31), 2 ** 31 - 1


def _is_string_value(value):
    return isinstance(value, (str, bytes))


def _to_bytes_array(value):
    """An object array of bytes, encoding `str` as UTF-8 (TF's string tensors hold bytes)."""
    array = np.asarray(value, dtype=object)
    flat = array.reshape(-1)
    for i, item in enumerate(flat):
        if isinstance(item, str):
            flat[i] = item.encode("utf-8")
        elif isinstance(item, np.bytes_):
            flat[i] = bytes(item)
        elif not isinstance(item, bytes):
            raise TypeError(f"Expected string, got {item!r} of type '{type(item).__name__}'")
    return array


def _infer_dtype(value):
    """TF's dtype for a Python or numpy value given without a dtype."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        if value.dtype.kind in ("U", "S", "O"):
            return dtypes.string
        return dtypes.as_dtype(value.dtype)
    if isinstance(value, (bool, np.bool_)):
        return dtypes.bool
    if isinstance(value, numbers.Integral):
        return dtypes.int32 if _INT32_MIN <= value <= _INT32_MAX else dtypes.int64
    if isinstance(value, numbers.Real):
        return dtypes.float32
    if _is_string_value(value):
        return dtypes.string
    if isinstance(value, (list, tuple)):
        if len(value) == 0:
            return dtypes.float32
        kinds = [_infer_dtype(item) for item in value]
        if any(k is dtypes.string for k in kinds):
            if not all(k is dtypes.string for k in kinds):
                raise TypeError(f"Cannot mix strings and numbers in one tensor: {value!r}")
            return dtypes.string
        if any(k.is_floating for k in kinds):
            return dtypes.float32 if all(k in (dtypes.float32, dtypes.int32, dtypes.int64,
                                                dtypes.bool) for k in kinds) else dtypes.float64
        if any(k is dtypes.int64 for k in kinds):
            return dtypes.int64
        if all(k is dtypes.bool for k in kinds):
            return dtypes.bool
        return dtypes.int32
    raise TypeError(f"Cannot convert {value!r} of type '{type(value).__name__}' to a tensor")


def _check_python_ints_fit(value, dtype):
    """Raises TypeError when a Python number in `value` does not fit `dtype` exactly."""
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_python_ints_fit(item, dtype)
        return
    if isinstance(value, bool) or isinstance(value, np.generic) or isinstance(value, np.ndarray):
        return
    if isinstance(value, numbers.Integral) and dtype.is_integer:
        if not dtype.min <= value <= dtype.max:
            raise TypeError(f"Value {value} does not fit in dtype {dtype.name}")
    elif isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        if dtype.is_integer or dtype.is_bool:
            raise TypeError(f"Expected {dtype.name}, got {value!r} of type "
                            f"'{type(value).__name__}' instead.")


def to_numpy(value, dtype=None):
    """Converts a constant value to a numpy array with TF's dtype rules.

    Args:
      value: a Python scalar, nested list, numpy array or numpy scalar.
      dtype: the wanted `DType` (or anything `as_dtype` takes); inferred when None.

    Returns:
      A numpy array (object array of bytes for strings).

    Raises:
      TypeError: if `value` cannot be represented in `dtype`.
    """
    if dtype is None:
        dtype = _infer_dtype(value)
    else:
        dtype = dtypes.as_dtype(dtype)
    if dtype is dtypes.string:
        return _to_bytes_array(value)
    _check_python_ints_fit(value, dtype)
    if isinstance(value, (np.ndarray, np.generic)):
        source = np.asarray(value)
        if source.dtype.kind in ("U", "S", "O"):
            raise TypeError(f"Cannot convert a string array to {dtype.name}")
        if source.dtype != dtype.as_numpy_dtype:
            source_dtype = dtypes.as_dtype(source.dtype)
            if (source_dtype.is_floating and not dtype.is_floating) or (
                    source_dtype.is_bool != dtype.is_bool):
                raise TypeError(f"Expected {dtype.name}, got an array of {source_dtype.name}")
        return source.astype(dtype.as_numpy_dtype, copy=False)
    try:
        return np.asarray(value, dtype=dtype.as_numpy_dtype)
    except OverflowError as err:
        raise TypeError(f"Value {value!r} does not fit in dtype {dtype.name}: {err}") from None
    except ValueError as err:
        raise TypeError(f"Cannot convert {value!r} to a tensor of {dtype.name}: {err}") from None


def make_tensor_proto(values, dtype=None, shape=None):
    """Makes a `TensorProto` holding `values` (raw bytes in `tensor_content` for numbers).

    Args:
      values: anything `to_numpy` takes.
      dtype: optional `DType`.
      shape: optional shape; `values` is broadcast to it when it has one element.

    Returns:
      A `sessionlib.TensorProto`.
    """
    from sessionlib.protos import tensor_pb2

    array = to_numpy(values, dtype)
    if shape is not None:
        shape = [int(d) for d in shape]
        if array.size == 1 and int(np.prod(shape)) != 1:
            array = np.full(shape, array.reshape(()), dtype=array.dtype)
        else:
            array = array.reshape(shape)
    tf_dtype = dtypes.string if array.dtype == object else dtypes.as_dtype(array.dtype)
    proto = tensor_pb2.TensorProto(dtype=tf_dtype.as_datatype_enum)
    for dim in array.shape:
        proto.tensor_shape.dim.add(size=dim)
    if tf_dtype is dtypes.string:
        proto.string_val.extend(array.reshape(-1).tolist())
    else:
        proto.tensor_content = np.ascontiguousarray(array).astype(
            array.dtype.newbyteorder("<"), copy=False).tobytes()
    return proto


def make_ndarray(proto):
    """The numpy array that a `TensorProto` holds (packed content or the typed `*_val` lists)."""
    dtype = dtypes.as_dtype(proto.dtype)
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    count = int(np.prod(shape)) if shape else 1
    if dtype is dtypes.string:
        values = list(proto.string_val)
        array = np.empty(count, dtype=object)
        if values:
            array[:] = values if len(values) == count else [values[-1]] * count
        return array.reshape(shape)
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=np_dtype.newbyteorder("<")).astype(
            np_dtype).reshape(shape)
    if dtype is dtypes.float16:
        values = np.asarray(proto.half_val, dtype=np.uint16).view(np.float16)
    elif dtype is dtypes.float32:
        values = np.asarray(proto.float_val, dtype=np_dtype)
    elif dtype is dtypes.float64:
        values = np.asarray(proto.double_val, dtype=np_dtype)
    elif dtype is dtypes.int64:
        values = np.asarray(proto.int64_val, dtype=np_dtype)
    elif dtype is dtypes.bool:
        values = np.asarray(proto.bool_val, dtype=np_dtype)
    else:
        values = np.asarray(proto.int_val, dtype=np_dtype)
    if values.size == count:
        return values.reshape(shape)
    if values.size == 0:
        return np.zeros(shape, dtype=np_dtype)
    # TF lets a proto repeat its last value to fill the shape.
    filled = np.empty(count, dtype=np_dtype)
    filled[: values.size] = values
    filled[values.size:] = values[-1]
    return filled.reshape(shape)


def constant_value(tensor):
    """The value of `tensor` when it is known while the graph is built, else None.

    Known values come from `Const` ops and from the few ops whose registration provides a
    ``constant_fold`` attribute on their op (such as `Shape` with a fully defined input).
    """
    op = tensor.op
    if op.type == "Const":
        return op.get_attr("value")
    folder = getattr(op, "_constant_fold", None)
    if folder is not None:
        return folder(tensor)
    return None
