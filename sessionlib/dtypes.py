"""Data types: the bridge between sessionlib's `DType`, numpy dtypes and the proto `DataType` enum.

The enum numbers are TensorFlow's (see ``protos/types.proto``), so a `GraphDef` written by
sessionlib reads the same in TF. The module imports only numpy, because it sits on the path of
``import sessionlib`` and must stay cheap.
"""

import numpy as np

# `bool` below becomes TF's public dtype name, so keep a handle on Python's own type.
_PY_BOOL = type(True)

__all__ = [
    "DType", "as_dtype",
    "float16", "half", "float32", "float64", "double", "int8", "int16", "int32", "int64",
    "uint8", "bool", "string", "resource", "variant",
    "float16_ref", "float32_ref", "float64_ref", "int8_ref", "int16_ref", "int32_ref",
    "int64_ref", "uint8_ref", "bool_ref", "string_ref",
]

# TensorFlow's DataType enum values (types.proto).
DT_INVALID = 0
DT_FLOAT = 1
DT_DOUBLE = 2
DT_INT32 = 3
DT_UINT8 = 4
DT_INT16 = 5
DT_INT8 = 6
DT_STRING = 7
DT_INT64 = 9
DT_BOOL = 10
DT_HALF = 19
DT_RESOURCE = 20
DT_VARIANT = 21
# A reference type's enum is its base type's plus this (types.proto: DT_FLOAT_REF = 101).
_REF_OFFSET = 100


class DType:
    """A tensor element type, e.g. `sessionlib.float32`.

    There is exactly one instance per type, so dtypes compare with `is` as well as `==`.
    A DType also compares equal to anything `as_dtype` maps to it (``tf.float32 == np.float32``).
    """

    __slots__ = ("_enum", "_name", "_np", "_base", "_ref")

    def __init__(self, enum, name, np_type, base=None):
        self._enum = enum
        self._name = name
        self._np = np_type
        # A reference type (``float32_ref``, the dtype of a TF 1 reference variable's tensor)
        # points at its base type, and a base type at its reference type (set below).
        self._base = self if base is None else base
        self._ref = None

    @property
    def name(self):
        """The canonical name, e.g. ``'float32'``."""
        return self._name

    @property
    def as_datatype_enum(self):
        """The proto `DataType` enum value."""
        return self._enum

    @property
    def as_numpy_dtype(self):
        """The numpy scalar type (``np.float32``; ``object`` for strings and resources)."""
        return self._np

    @property
    def base_dtype(self):
        """The non-reference type: ``float32`` for both ``float32`` and ``float32_ref``."""
        return self._base

    @property
    def real_dtype(self):
        return self

    @property
    def _is_ref_dtype(self):
        """Whether this is a reference type (TF's private name, which TF 1 code reads)."""
        return self._base is not self

    @property
    def _as_ref(self):
        """The reference type of this type's base (TF's private name)."""
        return self._base._ref

    @property
    def is_floating(self):
        return self._base._enum in (DT_HALF, DT_FLOAT, DT_DOUBLE)

    @property
    def is_integer(self):
        return self._base._enum in (DT_INT8, DT_INT16, DT_INT32, DT_INT64, DT_UINT8)

    @property
    def is_unsigned(self):
        return self._base._enum == DT_UINT8

    @property
    def is_bool(self):
        return self._base._enum == DT_BOOL

    @property
    def is_numeric(self):
        return self.is_floating or self.is_integer

    @property
    def is_complex(self):
        return False

    @property
    def is_quantized(self):
        return False

    @property
    def size(self):
        """Bytes per element (1 for the object-backed string and resource types)."""
        if self._np is object:
            return 1
        return np.dtype(self._np).itemsize

    @property
    def min(self):
        """The smallest representable value. Raises TypeError for non-numeric types."""
        if self.is_floating:
            return float(np.finfo(self._np).min)
        if self.is_integer:
            return int(np.iinfo(self._np).min)
        if self.is_bool:
            return False
        raise TypeError(f"Cannot find minimum value of {self._name}.")

    @property
    def max(self):
        """The largest representable value. Raises TypeError for non-numeric types."""
        if self.is_floating:
            return float(np.finfo(self._np).max)
        if self.is_integer:
            return int(np.iinfo(self._np).max)
        if self.is_bool:
            return True
        raise TypeError(f"Cannot find maximum value of {self._name}.")

    def is_compatible_with(self, other):
        """TF's rule: `other` fits when it is this type, or this type's reference type
        (``float32.is_compatible_with(float32_ref)`` holds, the converse does not)."""
        other = as_dtype(other)
        return other is self or (not self._is_ref_dtype and other._base is self)

    def __eq__(self, other):
        if other is self:
            return True
        if other is None:
            return False
        try:
            return as_dtype(other) is self
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._enum

    def __reduce__(self):
        return as_dtype, (self._name,)

    def __repr__(self):
        return f"tf.{self._name}"

    def __str__(self):
        return f"<dtype: '{self._name}'>"


float16 = DType(DT_HALF, "float16", np.float16)
half = float16
float32 = DType(DT_FLOAT, "float32", np.float32)
float64 = DType(DT_DOUBLE, "float64", np.float64)
double = float64
int8 = DType(DT_INT8, "int8", np.int8)
int16 = DType(DT_INT16, "int16", np.int16)
int32 = DType(DT_INT32, "int32", np.int32)
int64 = DType(DT_INT64, "int64", np.int64)
uint8 = DType(DT_UINT8, "uint8", np.uint8)
bool = DType(DT_BOOL, "bool", np.bool_)  # noqa: A001 - TF's public name
string = DType(DT_STRING, "string", object)
resource = DType(DT_RESOURCE, "resource", object)
# A variant tensor holds one opaque, immutable Python object per element; sessionlib's only
# variant is the `TensorList` of ``runtime/kernels/list_kernels.py`` (TF's DT_VARIANT, which
# also carries TensorLists). A value is a 0-d numpy object array holding it.
variant = DType(DT_VARIANT, "variant", object)



def _make_ref(base):
    ref = DType(base.as_datatype_enum + _REF_OFFSET, base.name + "_ref", base.as_numpy_dtype,
                base)
    base._ref = ref
    return ref


float16_ref = _make_ref(float16)
float32_ref = _make_ref(float32)
float64_ref = _make_ref(float64)
int8_ref = _make_ref(int8)
int16_ref = _make_ref(int16)
int32_ref = _make_ref(int32)
int64_ref = _make_ref(int64)
uint8_ref = _make_ref(uint8)
bool_ref = _make_ref(bool)
string_ref = _make_ref(string)

ALL_DTYPES = (float16, float32, float64, int8, int16, int32, int64, uint8, bool, string, resource,
              variant)
NUMERIC_DTYPES = (float16, float32, float64, int8, int16, int32, int64, uint8)
FLOAT_DTYPES = (float16, float32, float64)
INTEGER_DTYPES = (int8, int16, int32, int64, uint8)

REF_DTYPES = (float16_ref, float32_ref, float64_ref, int8_ref, int16_ref, int32_ref,
              int64_ref, uint8_ref, bool_ref, string_ref)

_BY_ENUM = {d.as_datatype_enum: d for d in ALL_DTYPES + REF_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES + REF_DTYPES}
# TF 1.x spellings that old code still passes as strings.
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "int": int32,
                 "long": int64, "str": string, "bytes": string})
_BY_NUMPY = {np.dtype(d.as_numpy_dtype): d for d in NUMERIC_DTYPES + (bool,)}
_BY_PYTHON_TYPE = {float: float32, int: int32, _PY_BOOL: bool, str: string, bytes: string}


def as_dtype(type_value):
    """Converts a value to a `DType`.

    Args:
      type_value: a `DType`, a name (``'float32'``, TF 1.x's ``'float'``), a proto
        `DataType` enum value, a numpy dtype or scalar type, or a Python type.

    Returns:
      The `DType` that `type_value` names.

    Raises:
      TypeError: if `type_value` does not name a supported type.
    """
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        found = _BY_NAME.get(type_value)
        if found is not None:
            return found
        raise TypeError(f"Cannot convert value {type_value!r} to a sessionlib DType.")
    if isinstance(type_value, int) and not isinstance(type_value, _PY_BOOL):
        found = _BY_ENUM.get(type_value)
        if found is not None:
            return found
        raise TypeError(f"Cannot convert value {type_value!r} to a sessionlib DType.")
    if isinstance(type_value, type) and type_value in _BY_PYTHON_TYPE:
        return _BY_PYTHON_TYPE[type_value]
    np_dtype = None
    if type_value is not None:  # np.dtype(None) would mean float64
        try:
            np_dtype = np.dtype(type_value)
        except (TypeError, ValueError):
            np_dtype = None
    if np_dtype is not None:
        found = _BY_NUMPY.get(np_dtype)
        if found is not None:
            return found
        if np_dtype.kind in ("S", "U", "O"):
            return string
    raise TypeError(f"Cannot convert value {type_value!r} to a sessionlib DType.")

