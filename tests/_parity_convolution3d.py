"""Parity cases of the 3-D convolution kernels (the fast vol2col filter gradient against the
per-tap reference; Conv3D and the input gradient run one kernel on both), kept in ``tests/test_conv3d.py`` and added to ``tests/test_parity.py``'s
``CASES`` here."""

from test_conv3d import PARITY_CASES


def add_cases(case):
    """Adds this family's cases through ``test_parity.case``."""
    for op_type, (dtypes_, build) in PARITY_CASES.items():
        case(op_type, dtypes_, build)
