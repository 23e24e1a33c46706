"""Parity cases of the 3-D pooling kernels, kept in ``tests/test_pool3d.py`` and added to
``tests/test_parity.py``'s ``CASES`` here."""

from test_pool3d import PARITY_CASES


def add_cases(case):
    """Adds this family's cases through ``test_parity.case``."""
    for op_type, (dtypes_, build) in PARITY_CASES.items():
        case(op_type, dtypes_, build)
