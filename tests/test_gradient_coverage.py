"""Every registered op has a gradient that a numeric check proves, or is not differentiable.

This is the gradient twin of the kernel parity test: adding an op without either fails here.
The numeric cases live in the ``test_grad*.py`` modules (see ``_gradient_check.py``).
"""

import importlib
import pathlib

import pytest

import sessionlib  # noqa: F401 - registers every op
from sessionlib.framework import registry

# Op types whose gradient is proved by a dedicated test rather than a numeric case, and why.
PROVED_ELSEWHERE = {
    "ReadVariableOp": "its gradient goes to a resource handle; test_gradients.py checks "
                      "gradients with respect to Variables",
    "RefIdentity": "its input is a reference variable, which no placeholder can stand for; "
                   "test_ref_variables.py checks gradients through it",
    "PreventGradient": "its gradient is an error by design, as in TF; test_ctc.py checks "
                       "that differentiating through it raises LookupError",
    "EagerPyFunc": "TF differentiates tf.py_function with a GradientTape, which needs eager "
                   "execution; its gradient is a LookupError that says so, checked by "
                   "test_py_func.py",
    "AdjustHue": "TF has no gradient for it, so asking for one raises LookupError; "
                 "test_image_color_png.py checks that",
    "AdjustSaturation": "TF has no gradient for it, so asking for one raises LookupError; "
                        "test_image_color_png.py checks that",
    "AdjustContrastv2": "TF has no gradient for it, so asking for one raises LookupError; "
                        "test_image_color_png.py checks that",
    "RandomGamma": "a random op draws anew on every run, so no finite difference applies; "
                   "test_misc_extra.py checks its gradient statistically and "
                   "RandomGammaGrad against TF's values",
}


def _numeric_cases():
    cases = []
    for path in sorted(pathlib.Path(__file__).parent.glob("test_grad*.py")):
        module = importlib.import_module(path.stem)
        cases.extend(getattr(module, "GRADIENT_CASES", []))
    return cases


def test_every_op_has_a_gradient_or_is_declared_not_differentiable():
    missing = [op_type for op_type in registry.all_op_types()
               if registry.get(op_type).gradient is None]
    assert not missing, f"ops with neither a gradient nor NotDifferentiable: {missing}"


def test_every_gradient_function_has_a_numeric_check():
    covered = {case.op_type for case in _numeric_cases()}
    unchecked = [op_type for op_type in registry.all_op_types()
                 if callable(registry.get(op_type).gradient)
                 and op_type not in covered and op_type not in PROVED_ELSEWHERE]
    assert not unchecked, f"gradient functions without a numeric check: {unchecked}"


def test_a_second_gradient_for_an_op_is_refused():
    with pytest.raises(ValueError, match="already has a gradient"):
        registry.register_gradient("Identity")(lambda op, grad: [grad])
