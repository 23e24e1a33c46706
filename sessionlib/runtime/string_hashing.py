"""The three string hashes behind TF's ``string_to_hash_bucket`` ops, bit for bit.

A hash bucket is part of a model: a checkpoint trained with TF holds embedding rows indexed by
``hash(string) % num_buckets``, so the hashes must equal TF's exactly, not merely be good:

* `fingerprint64`: FarmHash's ``Fingerprint64`` (its ``farmhashna::Hash64`` variant), which
  ``StringToHashBucketFast`` uses;
* `legacy_hash64`: TF's own Murmur-style ``Hash64`` with seed ``0xDECAFCAFFE``, which the
  older ``StringToHashBucket`` uses;
* `siphash24`: SipHash-2-4 keyed by two 64-bit words, ``StringToHashBucketStrong``'s hash.

All work on `bytes` with Python integers masked to 64 bits (a string op's cost is dominated by
the per-element Python work anyway); the tests compare them with TF's buckets for strings of
every length from 0 to 100 bytes, which covers each length class of FarmHash.
"""

import struct

__all__ = ["fingerprint64", "legacy_hash64", "siphash24"]

_MASK = (1 << 64) - 1
# FarmHash's primes between 2**63 and 2**64.
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


def _u64(data, offset):
    return int.from_bytes(data[offset:offset + 8], "little")


def _u32(data, offset):
    return int.from_bytes(data[offset:offset + 4], "little")


def _rotate_right(value, shift):
    return ((value >> shift) | (value << (64 - shift))) & _MASK if shift else value


def _shift_mix(value):
    return value ^ (value >> 47)


def _mix_pair(u, v, mul):
    """FarmHash's ``HashLen16(u, v, mul)``: a Murmur-style mix of two words."""
    a = _shift_mix(((u ^ v) * mul) & _MASK)
    b = _shift_mix(((v ^ a) * mul) & _MASK)
    return (b * mul) & _MASK


def _short(data, length):
    """Lengths 0 to 16."""
    if length >= 8:
        mul = _K2 + length * 2
        a = (_u64(data, 0) + _K2) & _MASK
        b = _u64(data, length - 8)
        c = (_rotate_right(b, 37) * mul + a) & _MASK
        d = ((_rotate_right(a, 25) + b) * mul) & _MASK
        return _mix_pair(c, d, mul)
    if length >= 4:
        mul = _K2 + length * 2
        return _mix_pair(length + (_u32(data, 0) << 3), _u32(data, length - 4), mul)
    if length:
        low = data[0] + (data[length >> 1] << 8)
        high = length + (data[length - 1] << 2)
        return (_shift_mix(((low * _K2) ^ (high * _K0)) & _MASK) * _K2) & _MASK
    return _K2


def _ends(data, length, first_mul):
    """The words both the 17-32 and the 33-64 byte mixes start from: the first two words
    (the first times `first_mul`) and the last two (weighted)."""
    mul = _K2 + length * 2
    a = (_u64(data, 0) * first_mul) & _MASK
    b = _u64(data, 8)
    c = (_u64(data, length - 8) * mul) & _MASK
    d = (_u64(data, length - 16) * _K2) & _MASK
    return mul, a, b, c, d


def _medium(data, length):
    """Lengths 17 to 32."""
    mul, a, b, c, d = _ends(data, length, _K1)
    return _mix_pair((_rotate_right((a + b) & _MASK, 43) + _rotate_right(c, 30) + d) & _MASK,
                     (a + _rotate_right((b + _K2) & _MASK, 18) + c) & _MASK, mul)


def _long(data, length):
    """Lengths 33 to 64: two overlapping rounds of the medium mix."""
    mul, a, b, c, d = _ends(data, length, _K2)
    y = (_rotate_right((a + b) & _MASK, 43) + _rotate_right(c, 30) + d) & _MASK
    z = _mix_pair(y, (a + _rotate_right((b + _K2) & _MASK, 18) + c) & _MASK, mul)
    e = (_u64(data, 16) * mul) & _MASK
    f = _u64(data, 24)
    g = ((y + _u64(data, length - 32)) * mul) & _MASK
    h = ((z + _u64(data, length - 24)) * mul) & _MASK
    return _mix_pair((_rotate_right((e + f) & _MASK, 43) + _rotate_right(g, 30) + h) & _MASK,
                     (e + _rotate_right((f + a) & _MASK, 18) + g) & _MASK, mul)


def _weak32(data, offset, a, b):
    """FarmHash's ``WeakHashLen32WithSeeds``: 32 bytes and two seeds to a pair of words."""
    w, x, y, z = struct.unpack_from("<4Q", data, offset)
    a = (a + w) & _MASK
    b = _rotate_right((b + a + z) & _MASK, 21)
    c = a
    a = (a + x + y) & _MASK
    b = (b + _rotate_right(a, 44)) & _MASK
    return (a + z) & _MASK, (b + c) & _MASK


def _very_long(data, length):
    """Over 64 bytes: 64-byte blocks through a 56-byte state, then the last 64 bytes."""
    seed = 81
    y = (seed * _K1 + 113) & _MASK
    z = (_shift_mix((y * _K2 + 113) & _MASK) * _K2) & _MASK
    v0 = v1 = w0 = w1 = 0
    x = (seed * _K2 + _u64(data, 0)) & _MASK
    end = ((length - 1) // 64) * 64
    for s in range(0, end, 64):
        x = (_rotate_right((x + y + v0 + _u64(data, s + 8)) & _MASK, 37) * _K1) & _MASK
        y = (_rotate_right((y + v1 + _u64(data, s + 48)) & _MASK, 42) * _K1) & _MASK
        x ^= w1
        y = (y + v0 + _u64(data, s + 40)) & _MASK
        z = (_rotate_right((z + w0) & _MASK, 33) * _K1) & _MASK
        v0, v1 = _weak32(data, s, (v1 * _K1) & _MASK, (x + w0) & _MASK)
        w0, w1 = _weak32(data, s + 32, (z + w1) & _MASK, (y + _u64(data, s + 16)) & _MASK)
        z, x = x, z
    mul = _K1 + ((z & 0xFF) << 1)
    s = length - 64
    w0 = (w0 + ((length - 1) & 63)) & _MASK
    v0 = (v0 + w0) & _MASK
    w0 = (w0 + v0) & _MASK
    x = (_rotate_right((x + y + v0 + _u64(data, s + 8)) & _MASK, 37) * mul) & _MASK
    y = (_rotate_right((y + v1 + _u64(data, s + 48)) & _MASK, 42) * mul) & _MASK
    x ^= (w1 * 9) & _MASK
    y = (y + v0 * 9 + _u64(data, s + 40)) & _MASK
    z = (_rotate_right((z + w0) & _MASK, 33) * mul) & _MASK
    v0, v1 = _weak32(data, s, (v1 * mul) & _MASK, (x + w0) & _MASK)
    w0, w1 = _weak32(data, s + 32, (z + w1) & _MASK, (y + _u64(data, s + 16)) & _MASK)
    z, x = x, z
    return _mix_pair((_mix_pair(v0, w0, mul) + _shift_mix(y) * _K0 + z) & _MASK,
                     (_mix_pair(v1, w1, mul) + x) & _MASK, mul)


def fingerprint64(data):
    """FarmHash ``Fingerprint64`` of `data` (bytes), an int in [0, 2**64)."""
    length = len(data)
    if length <= 16:
        return _short(data, length)
    if length <= 32:
        return _medium(data, length)
    if length <= 64:
        return _long(data, length)
    return _very_long(data, length)


_MURMUR_MUL = 0xC6A4A7935BD1E995


def legacy_hash64(data, seed=0xDECAFCAFFE):
    """TF's ``Hash64(data, n, seed)`` (a MurmurHash64A variant), an int in [0, 2**64)."""
    length = len(data)
    h = (seed ^ (length * _MURMUR_MUL)) & _MASK
    whole = length - length % 8
    for offset in range(0, whole, 8):
        k = (_u64(data, offset) * _MURMUR_MUL) & _MASK
        k = ((k ^ (k >> 47)) * _MURMUR_MUL) & _MASK
        h = ((h ^ k) * _MURMUR_MUL) & _MASK
    if length > whole:
        # The 1 to 7 trailing bytes, little-endian, as one word.
        h = ((h ^ int.from_bytes(data[whole:], "little")) * _MURMUR_MUL) & _MASK
    h = ((h ^ (h >> 47)) * _MURMUR_MUL) & _MASK
    return h ^ (h >> 47)


def _rotate_left(value, shift):
    return ((value << shift) | (value >> (64 - shift))) & _MASK


def siphash24(key0, key1, data):
    """SipHash-2-4 of `data` (bytes) under the 128-bit key (`key0`, `key1`)."""
    v0 = key0 ^ 0x736F6D6570736575
    v1 = key1 ^ 0x646F72616E646F6D
    v2 = key0 ^ 0x6C7967656E657261
    v3 = key1 ^ 0x7465646279746573

    def rounds(v0, v1, v2, v3, count):
        for _ in range(count):
            v0 = (v0 + v1) & _MASK
            v1 = _rotate_left(v1, 13) ^ v0
            v0 = _rotate_left(v0, 32)
            v2 = (v2 + v3) & _MASK
            v3 = _rotate_left(v3, 16) ^ v2
            v0 = (v0 + v3) & _MASK
            v3 = _rotate_left(v3, 21) ^ v0
            v2 = (v2 + v1) & _MASK
            v1 = _rotate_left(v1, 17) ^ v2
            v2 = _rotate_left(v2, 32)
        return v0, v1, v2, v3

    length = len(data)
    whole = length - length % 8
    for offset in range(0, whole, 8):
        word = _u64(data, offset)
        v3 ^= word
        v0, v1, v2, v3 = rounds(v0, v1, v2, v3, 2)
        v0 ^= word
    # The last word: the trailing bytes, and the length's low byte in the top byte.
    word = int.from_bytes(data[whole:], "little") | ((length & 0xFF) << 56)
    v3 ^= word
    v0, v1, v2, v3 = rounds(v0, v1, v2, v3, 2)
    v0 ^= word
    v2 ^= 0xFF
    v0, v1, v2, v3 = rounds(v0, v1, v2, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3
