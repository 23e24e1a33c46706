"""Parity cases of the convolution and pooling kernels, kept beside their other tests in
``tests/test_convolution.py`` and added to ``tests/test_parity.py``'s ``CASES`` here."""

from test_convolution import PARITY_CASES


def add_cases(case):
    """Adds this family's cases through ``test_parity.case``."""
    for op_type, (dtypes_, build) in PARITY_CASES.items():
        case(op_type, dtypes_, build)
