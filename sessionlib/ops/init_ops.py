"""TF 1's initializer classes (``tf.zeros_initializer``, ``tf.glorot_uniform_initializer``, ...).

An initializer is a small configuration object; calling it with ``(shape, dtype=None,
partition_info=None)`` builds the ops that make an initial value (in the caller's name scope,
which for `get_variable` is ``<var>/Initializer/``). The random ones use the random ops, so
their ``seed`` is an op seed combined with the graph seed by TF's ``get_seed`` rules: the same
graph seed and op seed give the same values in every session, and an op seed alone gives a
fixed sequence too.

The classes, arguments, defaults, `get_config` dictionaries and error messages follow TF 1's
``init_ops.py`` (checked against TF 2.21's ``tf.compat.v1``); the ``he_*``/``lecun_*``
functions return `VarianceScaling` objects as TF 1's ``tf.initializers`` do.
"""

import math

import numpy as np

from sessionlib import dtypes
from sessionlib.framework.tensor_shape import as_shape
from sessionlib.ops import array_ops, random_ops

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal",
           "TruncatedNormal", "UniformUnitScaling", "VarianceScaling", "Orthogonal",
           "Identity", "GlorotUniform", "GlorotNormal", "PartitionInfo",
           "zeros_initializer", "ones_initializer", "constant_initializer",
           "random_uniform_initializer", "random_normal_initializer",
           "truncated_normal_initializer", "uniform_unit_scaling_initializer",
           "variance_scaling_initializer", "orthogonal_initializer", "identity_initializer",
           "glorot_uniform_initializer", "glorot_normal_initializer", "he_normal",
           "he_uniform", "lecun_normal", "lecun_uniform"]

# The standard deviation of a unit normal truncated to [-2, 2]: TF 1 divides by it so that a
# truncated normal has the variance that variance scaling asks for.
_TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


def _assert_float_dtype(dtype):
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"Argument `dtype` is expected to be floating point. Received: "
                         f"{dtype}.")
    return dtype


def _compute_fans(shape):
    """TF's fan-in and fan-out of a weight shape (receptive field times channels for convs)."""
    if len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape
    else:
        receptive_field_size = 1
        for dim in shape[:-2]:
            receptive_field_size *= dim
        fan_in = shape[-2] * receptive_field_size
        fan_out = shape[-1] * receptive_field_size
    return int(fan_in), int(fan_out)


class PartitionInfo:
    """Where one part of a partitioned variable sits in the whole.

    Args:
      full_shape: the whole variable's shape (a list of ints).
      var_offset: the part's offset in each dimension.
    """

    def __init__(self, full_shape, var_offset):
        if not isinstance(full_shape, (list, tuple)):
            raise TypeError(f"`full_shape` must be a sequence (like tuple or list) instead of "
                            f"{type(full_shape).__name__}")
        if not isinstance(var_offset, (list, tuple)):
            raise TypeError(f"`var_offset` must be a sequence (like tuple or list) instead of "
                            f"{type(var_offset).__name__}")
        if len(var_offset) != len(full_shape):
            raise ValueError(f"Expected equal length, but `var_offset` is of length "
                             f"{len(var_offset)} while full_shape is of length "
                             f"{len(full_shape)}.")
        self.full_shape = list(full_shape)
        self.var_offset = list(var_offset)

    def single_offset(self, shape):
        """The offset in the one dimension the part is split along (0 when not split)."""
        index = self.single_slice_dim(shape)
        return 0 if index is None else self.var_offset[index]

    def single_slice_dim(self, shape):
        """The dimension along which `shape` differs from the full shape, or None."""
        dims = [i for i, (full, part) in enumerate(zip(self.full_shape, shape)) if full != part]
        if len(dims) > 1:
            raise ValueError(f"Cannot use single_slice_dim() with shape: {shape} and full "
                             f"shape: {self.full_shape}: more than one dimension is sliced")
        return dims[0] if dims else None


class Initializer:
    """The base class: ``__call__(shape, dtype=None, partition_info=None)`` and `get_config`."""

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self):
        """A JSON-friendly dict of the constructor arguments."""
        return {}

    @classmethod
    def from_config(cls, config):
        """An initializer made from `get_config`'s dict."""
        return cls(**config)


def _shape_list(shape):
    if isinstance(shape, (list, tuple)):
        return list(shape)
    return as_shape(shape).as_list()


class Zeros(Initializer):
    """Zeros of the given shape (``tf.zeros_initializer``)."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return array_ops.zeros(shape, dtypes.as_dtype(dtype or self.dtype))

    def get_config(self):
        return {"dtype": self.dtype.name}


class Ones(Initializer):
    """Ones of the given shape (``tf.ones_initializer``)."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return array_ops.ones(shape, dtypes.as_dtype(dtype or self.dtype))

    def get_config(self):
        return {"dtype": self.dtype.name}


class Constant(Initializer):
    """A constant value, broadcast or padded to the shape as ``tf.constant`` does.

    Args:
      value: a Python scalar, a list or tuple of values, or a numpy array.
      dtype: the default dtype.
      verify_shape: if True, `value`'s shape must equal the requested shape.

    Raises:
      TypeError: if `value` is of another type.
    """

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(f"Invalid type for initial value={value} of type: "
                            f"{type(value).__name__}. Expected Python scalar, list or tuple of "
                            f"values, or numpy.ndarray.")
        self.value = value
        self.dtype = dtypes.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        if verify_shape is None:
            verify_shape = self._verify_shape
        return array_ops.constant(self.value, dtype=dtypes.as_dtype(dtype or self.dtype),
                                  shape=shape, verify_shape=verify_shape)

    def get_config(self):
        # TF leaves verify_shape out of the config, as it is deprecated.
        return {"value": self.value, "dtype": self.dtype.name}


class RandomUniform(Initializer):
    """Uniform values in ``[minval, maxval)`` (maxval defaults to 1 for floats).

    Args:
      minval, maxval: the bounds.
      seed: the op seed.
      dtype: the default dtype (floats or integers).
    """

    def __init__(self, minval=0.0, maxval=None, seed=None, dtype=dtypes.float32):
        self.minval = minval
        self.maxval = maxval
        self.seed = seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_uniform(shape, self.minval, self.maxval,
                                         dtypes.as_dtype(dtype or self.dtype), seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed,
                "dtype": self.dtype.name}


class RandomNormal(Initializer):
    """Normal values with the given mean and standard deviation.

    Raises:
      ValueError: if `dtype` is not a float type.
    """

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean = mean
        self.stddev = stddev
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_normal(shape, self.mean, self.stddev,
                                        dtypes.as_dtype(dtype or self.dtype), seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed,
                "dtype": self.dtype.name}


class TruncatedNormal(Initializer):
    """Normal values redrawn beyond two standard deviations (``truncated_normal``).

    Raises:
      ValueError: if `dtype` is not a float type.
    """

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean = mean
        self.stddev = stddev
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.truncated_normal(shape, self.mean, self.stddev,
                                           dtypes.as_dtype(dtype or self.dtype),
                                           seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed,
                "dtype": self.dtype.name}


class UniformUnitScaling(Initializer):
    """Uniform in ``±sqrt(3 / fan_in) * factor`` (deprecated in TF 1 for variance scaling).

    Raises:
      ValueError: if `dtype` is not a float type.
    """

    def __init__(self, factor=1.0, seed=None, dtype=dtypes.float32):
        self.factor = factor
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = dtypes.as_dtype(dtype or self.dtype)
        scale_shape = partition_info.full_shape if partition_info is not None else shape
        input_size = 1.0
        # TF: the product of every dimension but the last.
        for dim in _shape_list(scale_shape)[:-1]:
            input_size *= float(dim)
        input_size = max(input_size, 1.0)
        max_val = math.sqrt(3 / input_size) * self.factor
        return random_ops.random_uniform(shape, -max_val, max_val, dtype, seed=self.seed)

    def get_config(self):
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


class VarianceScaling(Initializer):
    """Values whose variance is ``scale / n``, n being the fan-in, fan-out or their mean.

    Args:
      scale: a positive float.
      mode: 'fan_in', 'fan_out' or 'fan_avg'.
      distribution: 'truncated_normal' (or its TF 1 alias 'normal', both with TF's 0.8796
        correction), 'untruncated_normal' or 'uniform' (in ``±sqrt(3 * scale / n)``).
      seed: the op seed.
      dtype: a float dtype.

    Raises:
      ValueError: for a non-positive scale, an unknown mode or distribution, or a non-float
        dtype.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=dtypes.float32):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be a positive float. Received: {scale}")
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError(f"Argument `mode` should be one of ('fan_in', 'fan_out', "
                             f"'fan_avg'). Received: {mode}")
        distribution = distribution.lower()
        if distribution not in {"normal", "uniform", "truncated_normal", "untruncated_normal"}:
            # TF's message, its missing quote included.
            raise ValueError(f"Argument `distribution` should be one of ('normal', uniform', "
                             f"'truncated_normal', 'untruncated_normal'). Received: "
                             f"{distribution}")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = dtypes.as_dtype(dtype or self.dtype)
        scale = self.scale
        scale_shape = partition_info.full_shape if partition_info is not None else shape
        fan_in, fan_out = _compute_fans(_shape_list(scale_shape))
        if self.mode == "fan_in":
            scale /= max(1.0, fan_in)
        elif self.mode == "fan_out":
            scale /= max(1.0, fan_out)
        else:
            scale /= max(1.0, (fan_in + fan_out) / 2.0)
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(scale) / _TRUNCATED_NORMAL_STDDEV
            return random_ops.truncated_normal(shape, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.random_normal(shape, 0.0, math.sqrt(scale), dtype,
                                            seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_ops.random_uniform(shape, -limit, limit, dtype, seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """Glorot (Xavier) uniform: uniform in ``±sqrt(6 / (fan_in + fan_out))``."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(scale=1.0, mode="fan_avg", distribution="uniform", seed=seed,
                         dtype=dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Glorot (Xavier) normal: truncated normal with variance ``2 / (fan_in + fan_out)``."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(scale=1.0, mode="fan_avg", distribution="truncated_normal",
                         seed=seed, dtype=dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times `gain`, from the QR decomposition of a normal draw.

    Shapes of rank > 2 are flattened to ``(prod(shape[:-1]), shape[-1])``.

    Raises:
      ValueError: if `dtype` is not a float type, or (when called) the shape has rank < 2.
    """

    def __init__(self, gain=1.0, seed=None, dtype=dtypes.float32):
        self.gain = gain
        self.seed = seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        from sessionlib.ops import linalg_ops, manipulation_ops, math_ops

        dtype = dtypes.as_dtype(dtype or self.dtype)
        shape = _shape_list(shape)
        if len(shape) < 2:
            raise ValueError(f"The tensor to initialize, specified by argument `shape` must be "
                             f"at least two-dimensional. Received shape={shape}")
        num_rows = 1
        for dim in shape[:-1]:
            num_rows *= dim
        num_cols = shape[-1]
        flat_shape = (num_cols, num_rows) if num_rows < num_cols else (num_rows, num_cols)
        a = random_ops.random_normal(flat_shape, dtype=dtype, seed=self.seed)
        q, r = linalg_ops.qr(a, full_matrices=False)
        # Make the decomposition unique (and the distribution uniform) as TF does: scale the
        # columns of q by the signs of r's diagonal (r is square here; its diagonal is every
        # (n + 1)-th element of the flattened matrix).
        n = flat_shape[1]
        d = array_ops.gather(array_ops.reshape(r, [-1]), list(range(0, n * n, n + 1)))
        q = q * math_ops.sign(d)
        if num_rows < num_cols:
            q = manipulation_ops.matrix_transpose(q)
        return self.gain * array_ops.reshape(q, shape)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


class Identity(Initializer):
    """The identity matrix times `gain` (2-D shapes only; a part of it when partitioned).

    Raises:
      ValueError: if `dtype` is not a float type, or (when called) the shape is not 2-D.
    """

    def __init__(self, gain=1.0, dtype=dtypes.float32):
        self.gain = gain
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = dtypes.as_dtype(dtype or self.dtype)
        full_shape = _shape_list(shape if partition_info is None else partition_info.full_shape)
        if len(full_shape) != 2:
            # TF's message (it says "at least", though only 2-D is accepted).
            raise ValueError(f"The tensor to initialize, specified by argument `shape` must be "
                             f"at least two-dimensional. Received shape={shape}")
        matrix = np.eye(*full_shape) * self.gain
        if partition_info is not None:
            part = _shape_list(shape)
            offset = partition_info.var_offset
            matrix = matrix[offset[0]:offset[0] + part[0], offset[1]:offset[1] + part[1]]
        # A constant: the identity is known when the graph is built.
        return array_ops.constant(matrix.astype(dtype.as_numpy_dtype), dtype=dtype)

    def get_config(self):
        return {"gain": self.gain, "dtype": self.dtype.name}


# TF 1's public spellings.
zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
uniform_unit_scaling_initializer = UniformUnitScaling
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
orthogonal_initializer = Orthogonal
identity_initializer = Identity


def lecun_normal(seed=None):
    """Variance scaling with scale 1, fan_in, truncated normal."""
    return VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal", seed=seed)


def lecun_uniform(seed=None):
    """Variance scaling with scale 1, fan_in, uniform."""
    return VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform", seed=seed)


def he_normal(seed=None):
    """Variance scaling with scale 2, fan_in, truncated normal."""
    return VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal", seed=seed)


def he_uniform(seed=None):
    """Variance scaling with scale 2, fan_in, uniform."""
    return VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform", seed=seed)
