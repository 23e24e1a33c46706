"""``tf.initializers``: TF 1's namespace of initializer classes and variable-init ops.

Only re-exports: the classes live in ``sessionlib.ops.init_ops`` and the init ops in
``sessionlib.ops.variables``. As in TF 1, the names are the short ones (``zeros``,
``glorot_uniform``, ...), and ``variables`` is TF's spelling of ``variables_initializer``.
"""

from sessionlib.ops.init_ops import (Constant as constant, GlorotNormal as glorot_normal,
                                     GlorotUniform as glorot_uniform, Identity as identity,
                                     Ones as ones, Orthogonal as orthogonal,
                                     RandomNormal as random_normal,
                                     RandomUniform as random_uniform,
                                     TruncatedNormal as truncated_normal,
                                     UniformUnitScaling as uniform_unit_scaling,
                                     VarianceScaling as variance_scaling, Zeros as zeros,
                                     he_normal, he_uniform, lecun_normal, lecun_uniform)
from sessionlib.ops.variables import (global_variables_initializer as global_variables,
                                      local_variables_initializer as local_variables,
                                      variables_initializer as variables)

__all__ = ["constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
           "identity", "lecun_normal", "lecun_uniform", "ones", "orthogonal", "random_normal",
           "random_uniform", "truncated_normal", "uniform_unit_scaling", "variance_scaling",
           "zeros", "global_variables", "local_variables", "variables"]
