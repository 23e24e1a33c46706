"""Kernels of the optimizers' update ops (``ops/training_ops.py``): ``ResourceApply*`` and
``ResourceSparseApply*``.

Design. One driver serves every op: it finds the variable and slot resources, takes their
locks (in key order, so two updates never deadlock), makes each value private (copy on write,
see below), checks shapes in TF's words, and hands flat arrays to an update function. The fast
kernels' update functions are the fused Cython loops (``sessionlib/_core/training.pyx``): one
in-place pass over the variable and its slots. The reference update functions below are the
numpy spec, TF's formulas (``training_ops.cc``) written out. float16 always takes the numpy
path, as in the elementwise kernels.

Copy on write, as in ``state_kernels``: a variable's array is updated in place only when its
resource holds the sole reference; when a reader still holds a snapshot of it (a fetched value,
a queue element), the update goes to a private copy that replaces it, and the snapshot never
changes.

Sparse ops: the rows' gradients of repeated indices are summed first (what TF's optimizers do
with ``_deduplicate_indexed_slices`` before applying), then each touched row is updated once.
An index outside ``[0, var.shape[0])`` is an `InvalidArgumentError` and changes nothing.
"""

import sys

import numpy as np

from sessionlib import dtypes, errors
from sessionlib._core import elementwise as _elementwise
from sessionlib._core import training as _training
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.state_kernels import (_SOLE_OWNER_REFCOUNT,
                                                      _uninitialized_error, display_name)

__all__ = ["KINDS", "reference_dense", "reference_sparse", "reference_sparse_adam"]

KINDS = _training.KINDS
_GD, _MOMENTUM, _ADAGRAD = KINDS["GradientDescent"], KINDS["Momentum"], KINDS["Adagrad"]
_RMSPROP, _CENTERED = KINDS["RMSProp"], KINDS["CenteredRMSProp"]
_ADAM, _ADADELTA, _FTRL = KINDS["Adam"], KINDS["Adadelta"], KINDS["Ftrl"]
_PROXIMAL_GD, _PROXIMAL_ADAGRAD = KINDS["ProximalGradientDescent"], KINDS["ProximalAdagrad"]
_ADAGRAD_DA = KINDS["AdagradDA"]


# ---- the numpy spec ---------------------------------------------------------------------------

def reference_dense(kind, var, slots, grad, params, flag=0, num_threads=1):
    """The numpy twin of ``training.apply_dense``: updates `var` and `slots` in place.

    Every operand has the variable's dtype, so numpy computes in it, as Eigen does in TF.
    """
    del num_threads
    dtype = var.dtype.type
    p = [dtype(value) for value in params]
    one = dtype(1)
    g = grad
    if kind == _GD:
        var -= g * p[0]
    elif kind == _MOMENTUM:
        lr, momentum = p
        (accum,) = slots
        accum[...] = accum * momentum + g
        if flag:
            var -= g * lr + accum * momentum * lr
        else:
            var -= accum * lr
    elif kind == _ADAGRAD:
        (lr,) = p
        (accum,) = slots
        if flag:
            accum += g * g
        var -= g * lr / np.sqrt(accum)
    elif kind == _RMSPROP:
        lr, rho, momentum, epsilon = p
        ms, mom = slots
        ms += (g * g - ms) * (one - rho)
        mom[...] = mom * momentum + g * lr / np.sqrt(ms + epsilon)
        var -= mom
    elif kind == _CENTERED:
        lr, rho, momentum, epsilon = p
        mg, ms, mom = slots
        ms += (g * g - ms) * (one - rho)
        mg += (g - mg) * (one - rho)
        denom = ms - mg * mg + epsilon
        mom[...] = mom * momentum + g * lr / np.sqrt(denom)
        var -= mom
    elif kind == _ADAM:
        beta1_power, beta2_power, lr, beta1, beta2, epsilon = p
        m, v = slots
        alpha = lr * np.sqrt(one - beta2_power) / (one - beta1_power)
        m += (g - m) * (one - beta1)
        v += (g * g - v) * (one - beta2)
        if flag:
            var -= (g * (one - beta1) + beta1 * m) * alpha / (np.sqrt(v) + epsilon)
        else:
            var -= m * alpha / (np.sqrt(v) + epsilon)
    elif kind == _ADADELTA:
        lr, rho, epsilon = p
        accum, accum_update = slots
        accum[...] = accum * rho + g * g * (one - rho)
        update = np.sqrt(accum_update + epsilon) / np.sqrt(accum + epsilon) * g
        accum_update[...] = accum_update * rho + update * update * (one - rho)
        var -= update * lr
    elif kind == _FTRL:
        lr, l1, l2, l2_shrinkage, lr_power = p
        accum, linear = slots
        two = dtype(2)
        new_accum = accum + g * g
        if lr_power == dtype(-0.5):
            new_power, old_power = np.sqrt(new_accum), np.sqrt(accum)
        else:
            new_power, old_power = new_accum ** -lr_power, accum ** -lr_power
        linear[...] = linear + (g + two * l2_shrinkage * var) - (new_power - old_power) / lr * var
        x = np.clip(linear, -l1, l1) - linear
        y = new_power / lr + two * l2
        var[...] = x / y
        accum[...] = new_accum
    elif kind == _PROXIMAL_GD:
        lr, l1, l2 = p
        var[...] = _proximal(var - g * lr, lr * l1, one + l2 * lr, l1 > 0)
    elif kind == _PROXIMAL_ADAGRAD:
        lr, l1, l2 = p
        (accum,) = slots
        accum += g * g
        rate = lr / np.sqrt(accum)
        var[...] = _proximal(var - g * rate, rate * l1, one + l2 * rate, l1 > 0)
    elif kind == _ADAGRAD_DA:
        lr, l1, l2, step = p
        gradient_accum, gradient_squared_accum = slots
        gradient_accum += g
        gradient_squared_accum += g * g
        denom = l2 * (step * lr) + np.sqrt(gradient_squared_accum)
        if l1 > 0:
            excess = np.maximum(np.abs(gradient_accum) - step * l1, dtype(0))
            var[...] = -lr * np.sign(gradient_accum) * excess / denom
        else:
            var[...] = -lr * gradient_accum / denom
    else:
        raise ValueError(f"Unknown optimizer kind {kind}")


def _proximal(x, threshold, scale, has_l1):
    """The proximal step of FOBOS: ``sign(x) * max(|x| - threshold, 0) / scale`` with an L1
    penalty, ``x / scale`` without."""
    if has_l1:
        return np.sign(x) * np.maximum(np.abs(x) - threshold, x.dtype.type(0)) / scale
    return x / scale


def reference_sparse(kind, var, slots, grad, rows, inner, params, flag=0, num_threads=1):
    """The numpy twin of ``training.apply_sparse``: the dense formula on each touched row."""
    var2d = var.reshape(-1, inner) if inner else var.reshape(0, 0)
    slots2d = [slot.reshape(var2d.shape) for slot in slots]
    picked = var2d[rows]
    picked_slots = [slot[rows] for slot in slots2d]
    reference_dense(kind, picked, picked_slots, grad.reshape(len(rows), inner), params, flag)
    var2d[rows] = picked
    for slot, values in zip(slots2d, picked_slots):
        slot[rows] = values


def reference_sparse_adam(var, m, v, grad, rows, inner, params, num_threads=1):
    """The numpy twin of ``training.apply_sparse_adam``: TF's sparse Adam composition."""
    dtype = var.dtype.type
    beta1_power, beta2_power, lr, beta1, beta2, epsilon = [dtype(p) for p in params]
    one = dtype(1)
    alpha = lr * np.sqrt(one - beta2_power) / (one - beta1_power)
    g = grad.reshape(len(rows), inner)
    m *= beta1
    v *= beta2
    m2d, v2d = m.reshape(-1, inner), v.reshape(-1, inner)
    m2d[rows] += g * (one - beta1)
    v2d[rows] += g * g * (one - beta2)
    var -= alpha * m / (np.sqrt(v) + epsilon)


# ---- the ops ----------------------------------------------------------------------------------

# op type -> (kind, input layout, flag attr). Layout letters, in the op's input order:
# r = a resource (the variable, then its slots), s = a scalar, g = the gradient, i = indices,
# t = an int64 step count (a hyper-parameter after the scalars).
_OPS = {
    "ResourceApplyGradientDescent": (_GD, "rsg", None),
    "ResourceApplyMomentum": (_MOMENTUM, "rrsgs", "use_nesterov"),
    "ResourceApplyAdagrad": (_ADAGRAD, "rrsg", "update_slots"),
    "ResourceApplyRMSProp": (_RMSPROP, "rrrssssg", None),
    "ResourceApplyCenteredRMSProp": (_CENTERED, "rrrrssssg", None),
    "ResourceApplyAdam": (_ADAM, "rrrssssssg", "use_nesterov"),
    "ResourceApplyAdadelta": (_ADADELTA, "rrrsssg", None),
    "ResourceApplyFtrl": (_FTRL, "rrrgssss", None),
    "ResourceApplyFtrlV2": (_FTRL, "rrrgsssss", None),
    "ResourceApplyProximalGradientDescent": (_PROXIMAL_GD, "rsssg", None),
    "ResourceApplyProximalAdagrad": (_PROXIMAL_ADAGRAD, "rrsssg", None),
    "ResourceApplyAdagradDA": (_ADAGRAD_DA, "rrrgssst", None),
    "ResourceSparseApplyGradientDescent": (_GD, "rsgi", None),
    "ResourceSparseApplyMomentum": (_MOMENTUM, "rrsgis", "use_nesterov"),
    "ResourceSparseApplyAdagrad": (_ADAGRAD, "rrsgi", "update_slots"),
    "ResourceSparseApplyRMSProp": (_RMSPROP, "rrrssssgi", None),
    "ResourceSparseApplyCenteredRMSProp": (_CENTERED, "rrrrssssgi", None),
    "ResourceSparseApplyAdam": (_ADAM, "rrrssssssgi", None),
    "ResourceSparseApplyAdadelta": (_ADADELTA, "rrrsssgi", None),
    "ResourceSparseApplyFtrl": (_FTRL, "rrrgissss", None),
    "ResourceSparseApplyFtrlV2": (_FTRL, "rrrgisssss", None),
    "ResourceSparseApplyProximalGradientDescent": (_PROXIMAL_GD, "rsssgi", None),
    "ResourceSparseApplyProximalAdagrad": (_PROXIMAL_ADAGRAD, "rrsssgi", None),
    "ResourceSparseApplyAdagradDA": (_ADAGRAD_DA, "rrrgissst", None),
}

_SLOT_NAMES = {
    "ResourceApplyMomentum": ("accum",), "ResourceApplyAdagrad": ("accum",),
    "ResourceApplyRMSProp": ("ms", "mom"), "ResourceApplyCenteredRMSProp": ("mg", "ms", "mom"),
    "ResourceApplyAdam": ("m", "v"), "ResourceApplyAdadelta": ("accum", "accum_update"),
    "ResourceApplyFtrl": ("accum", "linear"), "ResourceApplyFtrlV2": ("accum", "linear"),
    "ResourceApplyProximalAdagrad": ("accum",),
    "ResourceApplyAdagradDA": ("gradient_accumulator", "gradient_squared_accumulator"),
}


def _check_hyper_parameters(kind, params):
    """TF's run-time checks of the hyper-parameters (only ProximalAdagrad's kernel has any)."""
    if kind != _PROXIMAL_ADAGRAD:
        return
    lr, l1, l2 = params
    if not lr > 0:
        raise _invalid("lr is not a positive scalar: []")
    if not l1 >= 0:
        raise _invalid("l1 regularization strength is not a non-negative scalar: []")
    if not l2 >= 0:
        raise _invalid("l2 regularization strength is not a non-negative scalar: []")


def _private_value(resource):
    """The resource's array, made private first when a reader still holds it (copy on write).

    The pattern (`value` bound to a local, the resource's attribute) is the one that
    ``state_kernels._SOLE_OWNER_REFCOUNT`` measures; keep it so.
    """
    value = resource.value
    if sys.getrefcount(value) != _SOLE_OWNER_REFCOUNT:
        value = value.copy()
        resource.value = value
    return value


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


def _dedup(grad, indices, num_rows, inner):
    """(rows, grads): unique int64 rows with their summed gradient rows, flattened."""
    idx = np.asarray(indices).astype(np.int64, copy=False)
    bad = np.flatnonzero((idx < 0) | (idx >= num_rows))
    if bad.size:
        i = int(bad[0])
        raise _invalid(f"indices[{i}] = {int(idx[i])} is not in [0, {num_rows})")
    grad2d = grad.reshape(len(idx), inner)
    unique, inverse = np.unique(idx, return_inverse=True)
    if len(unique) == len(idx):
        return np.ascontiguousarray(idx), np.ascontiguousarray(grad2d).reshape(-1)
    summed = np.zeros((len(unique), inner), dtype=grad.dtype)
    np.add.at(summed, inverse.reshape(-1), grad2d)
    return unique, summed.reshape(-1)


def _make_kernel(op_type, fast):
    kind, layout, flag_attr = _OPS[op_type]
    resource_at = [i for i, c in enumerate(layout) if c == "r"]
    scalar_at = [i for i, c in enumerate(layout) if c == "s"]
    step_at = layout.find("t")
    grad_at = layout.index("g")
    indices_at = layout.find("i")
    sparse = indices_at >= 0
    # ResourceApplyFtrl is FtrlV2 with no l2 shrinkage: params (lr, l1, l2, 0, lr_power).
    ftrl_v1 = kind == _FTRL and len(scalar_at) == 4
    dense_op = op_type.replace("ResourceSparseApply", "ResourceApply")
    slot_names = _SLOT_NAMES.get(dense_op, ())
    if fast:
        update_dense, update_sparse = _training.apply_dense, _training.apply_sparse
        update_sparse_adam = _training.apply_sparse_adam
    else:
        update_dense, update_sparse = reference_dense, reference_sparse
        update_sparse_adam = reference_sparse_adam

    def kernel(ctx, inputs, attrs):
        dtype = attrs["T"]
        params = []
        for position in scalar_at:
            value = inputs[position]
            if value.ndim:
                raise _invalid(f"{op_type}: hyper-parameter {len(params)} is not a scalar: "
                               f"{list(value.shape)}")
            params.append(float(value))
        if ftrl_v1:
            params.insert(3, 0.0)
        if step_at >= 0:
            step = inputs[step_at]
            if step.ndim:
                raise _invalid(f"global_step is not a scalar: {list(step.shape)}")
            params.append(float(step))
        params = tuple(params)
        _check_hyper_parameters(kind, params)
        flag = 1 if flag_attr and attrs.get(flag_attr) else 0
        grad = inputs[grad_at]
        lookup = ctx.resources.lookup
        keys, resources = [], []
        for position in resource_at:
            key = inputs[position][()]   # handle_key, inlined: this runs once per variable
            resource = lookup(key)
            if resource is None or resource.value is None:
                raise _uninitialized_error(key)
            if resource.dtype is not dtype:
                raise _invalid(f"{op_type}: variable {display_name(key)} holds "
                               f"{resource.dtype.name}, the update is {dtype.name}")
            keys.append(key)
            resources.append(resource)
        # Locks in key order (no two updates deadlock), each resource once.
        locks = sorted({key: resource.lock for key, resource in zip(keys, resources)}.items())
        for _, lock in locks:
            lock.acquire()
        try:
            values = []
            for resource, key in zip(resources, keys):
                if resource.value is None:
                    raise _uninitialized_error(key)
                values.append(_private_value(resource))
            var = values[0]
            shape = var.shape
            for name, slot in zip(slot_names, values[1:]):
                if slot.shape != shape:
                    raise _invalid(f"var and {name} do not have the same shape"
                                   f"{list(shape)} {list(slot.shape)}")
            numpy_path = not fast or dtype is dtypes.float16
            threads = _elementwise.get_num_threads()
            flat = [value.reshape(-1) for value in values]
            if not sparse:
                if grad.shape != shape:
                    raise _invalid(f"var and grad do not have the same shape"
                                   f"{list(shape)} {list(grad.shape)}")
                g = grad.reshape(-1) if grad.flags.c_contiguous else np.ascontiguousarray(
                    grad).reshape(-1)
                dense = reference_dense if numpy_path else update_dense
                dense(kind, flat[0], flat[1:], g, params, flag, threads)
                return ()
            indices = inputs[indices_at]
            if var.ndim < 1:
                raise _invalid(f"var must be at least 1 dimensional: {list(shape)}")
            if indices.ndim != 1:
                raise _invalid(f"indices must be one-dimensional: {list(indices.shape)}")
            if grad.ndim != var.ndim or grad.shape[1:] != shape[1:]:
                raise _invalid(f"var and grad must match in every dimension but the first: "
                               f"{list(shape)} {list(grad.shape)}")
            if grad.shape[0] != indices.shape[0]:
                raise _invalid(f"grad must be the same size as indices in the first "
                               f"dimension: {list(grad.shape)} {list(indices.shape)}")
            inner = int(np.prod(shape[1:], dtype=np.int64))
            rows, g = _dedup(grad, indices, shape[0], inner)
            if kind == _ADAM:
                adam = reference_sparse_adam if numpy_path else update_sparse_adam
                adam(flat[0], flat[1], flat[2], g, rows, inner, params, threads)
            else:
                update = reference_sparse if numpy_path else update_sparse
                update(kind, flat[0], flat[1:], g, rows, inner, params, flag, threads)
            return ()
        finally:
            for _, lock in locks:
                lock.release()

    kernel.__name__ = f"{op_type}_{'fast' if fast else 'reference'}"
    if fast and not sparse:
        # The common case in C (one call per variable per step); it hands everything else,
        # errors included, to `kernel`.
        return _training.DenseApply(kind, resource_at, scalar_at, grad_at, flag_attr,
                                    ftrl_v1, kernel, _elementwise.get_num_threads, step_at)
    return kernel


for _op_type in _OPS:
    register_kernel(_op_type, reference=_make_kernel(_op_type, False),
                    fast=_make_kernel(_op_type, True))
del _op_type


# ---- CheckNumerics (``ops/numerics_ops.py``) ------------------------------------------------

def _check_numerics_kernel(ctx, inputs, attrs):
    (tensor,) = inputs
    # One pass when all is well (the usual case): the sum of a tensor with a NaN or an Inf is
    # not finite; only then look for which.
    with np.errstate(all="ignore"):  # kernels never warn; a huge sum is checked below
        total = np.sum(tensor, dtype=np.float64) if tensor.size else 0.0
    if not np.isfinite(total):
        has_nan = bool(np.isnan(tensor).any())
        has_inf = bool(np.isinf(tensor).any())
        if has_nan or has_inf:
            what = "Inf and NaN" if has_nan and has_inf else ("NaN" if has_nan else "Inf")
            raise _invalid(f"{attrs['message']} : Tensor had {what} values")
    return (tensor,)


# numpy's reductions are the fast path already: the reference kernel is the fast one.
register_kernel("CheckNumerics", reference=_check_numerics_kernel)
