"""``tf.math.special``: the modified Bessel functions I0 and I1 and their scaled forms.

TF's namespace also has the Bessel functions J, K and Y, Dawson's integral, the exponential
integral, the Fresnel integrals and Spence's function; sessionlib does not have those yet.
Only re-exports; the ops live in ``sessionlib.ops.special_math_ops``.
"""

from sessionlib.ops.special_math_ops import bessel_i0, bessel_i0e, bessel_i1, bessel_i1e
