"""Conversions between Python values, numpy arrays and `TensorProto`s, with TF's dtype rules.

TF infers ``float32`` for Python floats and ``int32`` for Python ints (``int64`` when a value
does not fit), while numpy arrays keep their own dtype. A value that cannot be represented in the
requested dtype is a `TypeError`, as in TF.
"""

import math
import numbers
import reprlib

import numpy as np

from sessionlib import dtypes

__all__ = ["to_numpy", "make_tensor_proto", "make_ndarray", "constant_value",
           "MAX_FILLED_TENSOR_BYTES"]

_INT32_MIN, _INT32_MAX = -(2 ** 31), 2 ** 31 - 1


def _is_string_value(value):
    return isinstance(value, (str, bytes))


def short_repr(value):
    """A bounded repr of a user's value for error messages: a deeply nested or self-containing
    list must give a message, not a RecursionError (``reprlib`` limits depth and length)."""
    return reprlib.repr(value)


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
            raise TypeError(f"Expected string, got {short_repr(item)} of type "
                            f"'{type(item).__name__}'")
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
                raise TypeError(f"Cannot mix strings and numbers in one tensor: "
                                f"{short_repr(value)}")
            return dtypes.string
        if any(k.is_floating for k in kinds):
            return dtypes.float32 if all(k in (dtypes.float32, dtypes.int32, dtypes.int64,
                                                dtypes.bool) for k in kinds) else dtypes.float64
        if any(k is dtypes.int64 for k in kinds):
            return dtypes.int64
        if all(k is dtypes.bool for k in kinds):
            return dtypes.bool
        return dtypes.int32
    raise TypeError(f"Cannot convert {short_repr(value)} of type '{type(value).__name__}' to "
                    f"a tensor")


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
            raise TypeError(f"Expected {dtype.name}, got {short_repr(value)} of type "
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
        raise TypeError(f"Value {short_repr(value)} does not fit in dtype {dtype.name}: "
                        f"{err}") from None
    except ValueError as err:
        raise TypeError(f"Cannot convert {short_repr(value)} to a tensor of {dtype.name}: "
                        f"{err}") from None


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


# The most bytes a `TensorProto` may ask `make_ndarray` to fill beyond the values it holds
# (TF's broadcast of a single value, or zeros for a proto with no values). Protos come from
# files and other processes: their declared shape must not make us allocate memory that
# their bytes do not back.
MAX_FILLED_TENSOR_BYTES = 1 << 30

# The most dimensions a tensor may have (TF's `TensorShape` limit is 254; numpy's is 64).
_MAX_DIMS = 64

# The typed value field of a `TensorProto` that holds each dtype, when not packed.
_VALUE_FIELDS = {"float16": "half_val", "float32": "float_val", "float64": "double_val",
                 "int64": "int64_val", "bool": "bool_val"}


def _proto_shape(proto):
    """The shape a `TensorProto` declares, checked: (shape, element count).

    Raises:
      ValueError: for an unknown rank, a negative size, too many dimensions, or more
        elements than `MAX_FILLED_TENSOR_BYTES` allows to hold even one byte each.
    """
    if proto.tensor_shape.unknown_rank:
        raise ValueError("a tensor value must have a known shape")
    shape = tuple(int(d.size) for d in proto.tensor_shape.dim)
    if len(shape) > _MAX_DIMS:
        raise ValueError(f"a tensor value may have at most {_MAX_DIMS} dimensions, "
                         f"got {len(shape)}")
    if any(size < 0 for size in shape):
        raise ValueError(f"a tensor value needs non-negative sizes, got shape {list(shape)}")
    return shape, math.prod(shape)


def _check_fill(count, itemsize, held, dtype, shape):
    """Raises ValueError when filling `count` elements from `held` values would allocate more
    than `MAX_FILLED_TENSOR_BYTES` that the proto's own bytes do not back."""
    if count > held and count * itemsize > MAX_FILLED_TENSOR_BYTES:
        raise ValueError(f"a {dtype.name} tensor value of shape {list(shape)} holds {held} "
                         f"values; filling the other {count - held} would take more than "
                         f"MAX_FILLED_TENSOR_BYTES ({MAX_FILLED_TENSOR_BYTES}) bytes")


def make_ndarray(proto):
    """The numpy array that a `TensorProto` holds (packed content or the typed `*_val` lists).

    As in TF, a proto may hold fewer values than its shape has elements: the last value is
    repeated to fill it, or zeros fill it when it holds none. Such a fill may take at most
    `MAX_FILLED_TENSOR_BYTES`; packed `tensor_content` must hold exactly the elements of the
    shape. The proto may come from outside (an imported GraphDef), so nothing is allocated
    from a size that its bytes do not back.

    Raises:
      TypeError: for a dtype that has no numpy form.
      ValueError: for a shape that is invalid, that disagrees with the values held, or that
        asks for a fill beyond `MAX_FILLED_TENSOR_BYTES`.
    """
    dtype = dtypes.as_dtype(proto.dtype)
    shape, count = _proto_shape(proto)
    if dtype is dtypes.string:
        values = list(proto.string_val)
        if len(values) > count:
            raise ValueError(f"a string tensor value of shape {list(shape)} holds "
                             f"{len(values)} values")
        _check_fill(count, 8, len(values), dtype, shape)
        array = np.empty(count, dtype=object)
        if count:
            array[:] = values if len(values) == count else [values[-1] if values else b""]
        return array.reshape(shape)
    try:
        np_dtype = np.dtype(dtype.as_numpy_dtype)
    except (AttributeError, TypeError):
        raise TypeError(f"a tensor value of dtype {dtype.name} has no numpy form") from None
    if proto.tensor_content:
        if len(proto.tensor_content) != count * np_dtype.itemsize:
            raise ValueError(f"a {dtype.name} tensor value of shape {list(shape)} needs "
                             f"{count * np_dtype.itemsize} bytes of tensor_content, got "
                             f"{len(proto.tensor_content)}")
        return np.frombuffer(proto.tensor_content, dtype=np_dtype.newbyteorder("<")).astype(
            np_dtype).reshape(shape)
    field = _VALUE_FIELDS.get(dtype.name, "int_val")
    held = getattr(proto, field)
    if len(held) > count:
        raise ValueError(f"a {dtype.name} tensor value of shape {list(shape)} holds "
                         f"{len(held)} values in {field}")
    _check_fill(count, np_dtype.itemsize, len(held), dtype, shape)
    if dtype is dtypes.float16:
        values = np.asarray(held, dtype=np.uint16).view(np.float16)
    else:
        try:
            values = np.asarray(held, dtype=np_dtype)
        except OverflowError:
            raise ValueError(f"a value in {field} does not fit in {dtype.name}") from None
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
