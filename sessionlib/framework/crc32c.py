"""CRC32C (Castagnoli) checksums and TF's masked form, for TF's file formats.

TFRecord files (event files) and V2 checkpoints both checksum their bytes with CRC32C, and
store it *masked* (rotated and offset) so that a CRC of data that itself contains CRCs does not
degenerate. The checksum comes from the ``google-crc32c`` package: Google's maintained C
implementation (hardware CRC instructions where the CPU has them), with a pure-Python fallback
when no wheel fits. It is the one place that masks checksums: the checkpoint format
(``framework/tensor_bundle.py``, used by kernels in device workers and by ``tf.train``
readers alike) and the TFRecord files (``lib_io``) both use it.
"""

import google_crc32c

__all__ = ["value", "extend", "mask", "unmask", "masked"]

_MASK_DELTA = 0xA282EAD8


def value(data):
    """The CRC32C of `data` (bytes-like), an unsigned 32-bit int."""
    return google_crc32c.value(bytes(data) if isinstance(data, memoryview) else data)


def extend(crc, data):
    """The CRC32C of the bytes whose CRC32C is `crc`, followed by `data`."""
    return google_crc32c.extend(crc, bytes(data) if isinstance(data, memoryview) else data)


def mask(crc):
    """TF's masked form of an unmasked CRC32C `crc`: rotated right by 15 bits, plus a delta."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def unmask(masked_crc):
    """The CRC32C whose masked form is `masked_crc` (the inverse of `mask`)."""
    rot = (masked_crc - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def masked(data):
    """The masked CRC32C of `data`, as TFRecord and checkpoint files store it."""
    return mask(value(data))
