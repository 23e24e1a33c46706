"""``tf.math``: TF 1's math namespace (``tf.compat.v1.math``).

Only re-exports, under TF's names; the ops live in ``sessionlib.ops`` (``math_ops`` for the
arithmetic, reductions and comparisons, ``special_math_ops`` for trigonometry, rounding and
the special functions, ``segment_ops`` and ``cumulative_ops`` for segments and scans, ``nn``
for the activations TF lists here too); ``tf.math.special`` is the submodule ``special``.
As in TF, ``truncatediv`` and ``truncatemod`` are top-level only.
"""

from sessionlib.ops.check_ops import is_non_decreasing, is_strictly_increasing
from sessionlib.ops.cumulative_ops import (cumprod, cumsum, cumulative_logsumexp,
                                           reduce_logsumexp)
from sessionlib.ops.math_ops import (abs, add, add_n, argmax, argmin, cos, divide, equal, exp,
                                     floordiv, floormod, greater, greater_equal, less,
                                     less_equal, log, log1p, logical_and, logical_not,
                                     logical_or, maximum, minimum, mod, multiply, negative,
                                     not_equal, pow, reciprocal, reduce_all, reduce_any,
                                     reduce_max, reduce_mean, reduce_min, reduce_prod,
                                     reduce_sum, rsqrt, sigmoid, sign, sin, sqrt, square,
                                     squared_difference, subtract, tanh, truediv,
                                     unsorted_segment_sum)
from sessionlib.ops.math_reduction_ops import (accumulate_n, approx_max_k, approx_min_k,
                                               count_nonzero, reduce_euclidean_norm,
                                               reduce_std, reduce_variance, zero_fraction)
from sessionlib.ops.metrics_ops import confusion_matrix
from sessionlib.ops.metrics_ops import div_no_nan as divide_no_nan
from sessionlib.ops.nn import softmax
from sessionlib.ops.nn_activation_ops import l2_normalize, softplus, softsign
from sessionlib.ops.nn_lookup_ops import in_top_k, top_k
from sessionlib.ops.nn_loss_ops import log_softmax
from sessionlib.ops.segment_ops import (bincount, segment_max, segment_mean, segment_min,
                                       segment_prod, segment_sum, unsorted_segment_max,
                                       unsorted_segment_mean, unsorted_segment_min,
                                       unsorted_segment_prod, unsorted_segment_sqrt_n)
from sessionlib.ops.special_math_ops import (acos, acosh, asin, asinh, atan, atan2, atanh,
                                             bessel_i0, bessel_i0e, bessel_i1, bessel_i1e, betainc,
                                             ceil, cosh, digamma, erf, erfc, erfcinv, erfinv,
                                             expm1, floor, igamma, igammac, is_finite, is_inf,
                                             is_nan, lbeta, lgamma, log_sigmoid, logical_xor,
                                             multiply_no_nan, ndtri, nextafter, polygamma, polyval,
                                             reciprocal_no_nan, rint, round, scalar_mul, sinh, tan,
                                             xdivy, xlog1py, xlogy, zeta)
from sessionlib.math import special  # tf.math.special
