# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled string hash buckets: the fast kernels of ``StringToHashBucketFast``,
``StringToHashBucket`` and ``StringToHashBucketStrong``.

The hashes are those of ``sessionlib/runtime/string_hashing.py`` (the spec, which the tests
compare with TF's buckets), in uint64 arithmetic that wraps as the spec's masks do. Words are
read with memcpy in the machine's byte order, so these kernels are little-endian only; the
kernel module registers them on little-endian machines only.

Each function takes an object array of `bytes` (a `str` is hashed as UTF-8) and returns an
int64 array of the same shape holding ``hash % num_buckets``.
"""

from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy

import numpy as np

cimport numpy as cnp

cnp.import_array()

cdef uint64_t _K0 = 0xC3A5C85C97CB3127ULL
cdef uint64_t _K1 = 0xB492B66FBE98F273ULL
cdef uint64_t _K2 = 0x9AE16A3B2F90404FULL
cdef uint64_t _MURMUR_MUL = 0xC6A4A7935BD1E995ULL


cdef inline uint64_t _u64(const uint8_t* p) noexcept nogil:
    cdef uint64_t value
    memcpy(&value, p, 8)
    return value


cdef inline uint64_t _u32(const uint8_t* p) noexcept nogil:
    cdef unsigned int value
    memcpy(&value, p, 4)
    return value


cdef inline uint64_t _ror(uint64_t value, int shift) noexcept nogil:
    return value if shift == 0 else (value >> shift) | (value << (64 - shift))


cdef inline uint64_t _shift_mix(uint64_t value) noexcept nogil:
    return value ^ (value >> 47)


cdef inline uint64_t _mix_pair(uint64_t u, uint64_t v, uint64_t mul) noexcept nogil:
    cdef uint64_t a = _shift_mix((u ^ v) * mul)
    cdef uint64_t b = _shift_mix((v ^ a) * mul)
    return b * mul


cdef uint64_t _short(const uint8_t* s, size_t n) noexcept nogil:
    cdef uint64_t mul, a, b, c, d
    if n >= 8:
        mul = _K2 + n * 2
        a = _u64(s) + _K2
        b = _u64(s + n - 8)
        c = _ror(b, 37) * mul + a
        d = (_ror(a, 25) + b) * mul
        return _mix_pair(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _mix_pair(n + (_u32(s) << 3), _u32(s + n - 4), mul)
    if n > 0:
        a = <uint64_t>s[0] + (<uint64_t>s[n >> 1] << 8)
        b = n + (<uint64_t>s[n - 1] << 2)
        return _shift_mix(a * _K2 ^ b * _K0) * _K2
    return _K2


cdef inline void _ends(const uint8_t* s, size_t n, uint64_t first_mul,
                       uint64_t* out) noexcept nogil:
    """The words the 17-32 and 33-64 byte mixes start from: mul, a, b, c, d of the spec."""
    out[0] = _K2 + n * 2
    out[1] = _u64(s) * first_mul
    out[2] = _u64(s + 8)
    out[3] = _u64(s + n - 8) * out[0]
    out[4] = _u64(s + n - 16) * _K2


cdef uint64_t _medium(const uint8_t* s, size_t n) noexcept nogil:
    cdef uint64_t w[5]
    _ends(s, n, _K1, w)
    return _mix_pair(_ror(w[1] + w[2], 43) + _ror(w[3], 30) + w[4],
                     w[1] + _ror(w[2] + _K2, 18) + w[3], w[0])


cdef uint64_t _long(const uint8_t* s, size_t n) noexcept nogil:
    cdef uint64_t w[5]
    _ends(s, n, _K2, w)
    cdef uint64_t mul = w[0], a = w[1], b = w[2], c = w[3], d = w[4]
    cdef uint64_t y = _ror(a + b, 43) + _ror(c, 30) + d
    cdef uint64_t z = _mix_pair(y, a + _ror(b + _K2, 18) + c, mul)
    cdef uint64_t e = _u64(s + 16) * mul
    cdef uint64_t f = _u64(s + 24)
    cdef uint64_t g = (y + _u64(s + n - 32)) * mul
    cdef uint64_t h = (z + _u64(s + n - 24)) * mul
    return _mix_pair(_ror(e + f, 43) + _ror(g, 30) + h, e + _ror(f + a, 18) + g, mul)


cdef inline void _weak32(const uint8_t* s, uint64_t a, uint64_t b, uint64_t* first,
                         uint64_t* second) noexcept nogil:
    cdef uint64_t w = _u64(s), x = _u64(s + 8), y = _u64(s + 16), z = _u64(s + 24), c
    a += w
    b = _ror(b + a + z, 21)
    c = a
    a += x + y
    b += _ror(a, 44)
    first[0] = a + z
    second[0] = b + c


cdef uint64_t _very_long(const uint8_t* s, size_t n) noexcept nogil:
    cdef uint64_t seed = 81
    cdef uint64_t x = seed, y = seed * _K1 + 113, z, mul, swap
    cdef uint64_t v0 = 0, v1 = 0, w0 = 0, w1 = 0
    cdef size_t offset, end = ((n - 1) // 64) * 64
    cdef const uint8_t* p
    z = _shift_mix(y * _K2 + 113) * _K2
    x = x * _K2 + _u64(s)
    for offset in range(0, end, 64):
        p = s + offset
        x = _ror(x + y + v0 + _u64(p + 8), 37) * _K1
        y = _ror(y + v1 + _u64(p + 48), 42) * _K1
        x ^= w1
        y += v0 + _u64(p + 40)
        z = _ror(z + w0, 33) * _K1
        _weak32(p, v1 * _K1, x + w0, &v0, &v1)
        _weak32(p + 32, z + w1, y + _u64(p + 16), &w0, &w1)
        swap = z
        z = x
        x = swap
    mul = _K1 + ((z & 0xFF) << 1)
    p = s + n - 64
    w0 += (n - 1) & 63
    v0 += w0
    w0 += v0
    x = _ror(x + y + v0 + _u64(p + 8), 37) * mul
    y = _ror(y + v1 + _u64(p + 48), 42) * mul
    x ^= w1 * 9
    y += v0 * 9 + _u64(p + 40)
    z = _ror(z + w0, 33) * mul
    _weak32(p, v1 * mul, x + w0, &v0, &v1)
    _weak32(p + 32, z + w1, y + _u64(p + 16), &w0, &w1)
    swap = z
    z = x
    x = swap
    return _mix_pair(_mix_pair(v0, w0, mul) + _shift_mix(y) * _K0 + z,
                     _mix_pair(v1, w1, mul) + x, mul)


cdef uint64_t _fingerprint64(const uint8_t* s, size_t n) noexcept nogil:
    if n <= 16:
        return _short(s, n)
    if n <= 32:
        return _medium(s, n)
    if n <= 64:
        return _long(s, n)
    return _very_long(s, n)


cdef uint64_t _legacy_hash64(const uint8_t* s, size_t n) noexcept nogil:
    cdef uint64_t h = 0xDECAFCAFFEULL ^ (n * _MURMUR_MUL), k, tail = 0
    cdef size_t offset, whole = n - n % 8, index
    for offset in range(0, whole, 8):
        k = _u64(s + offset) * _MURMUR_MUL
        k = (k ^ (k >> 47)) * _MURMUR_MUL
        h = (h ^ k) * _MURMUR_MUL
    if n > whole:
        for index in range(n - whole):
            tail |= (<uint64_t>s[whole + index]) << (8 * index)
        h = (h ^ tail) * _MURMUR_MUL
    h = (h ^ (h >> 47)) * _MURMUR_MUL
    return h ^ (h >> 47)


cdef inline uint64_t _rol(uint64_t value, int shift) noexcept nogil:
    return (value << shift) | (value >> (64 - shift))


cdef inline void _sip_rounds(uint64_t* v, int count) noexcept nogil:
    cdef int i
    for i in range(count):
        v[0] += v[1]
        v[1] = _rol(v[1], 13) ^ v[0]
        v[0] = _rol(v[0], 32)
        v[2] += v[3]
        v[3] = _rol(v[3], 16) ^ v[2]
        v[0] += v[3]
        v[3] = _rol(v[3], 21) ^ v[0]
        v[2] += v[1]
        v[1] = _rol(v[1], 17) ^ v[2]
        v[2] = _rol(v[2], 32)


cdef uint64_t _siphash24(uint64_t key0, uint64_t key1, const uint8_t* s, size_t n) noexcept nogil:
    cdef uint64_t v[4]
    cdef uint64_t word, last = (<uint64_t>(n & 0xFF)) << 56
    cdef size_t offset, whole = n - n % 8, index
    v[0] = key0 ^ 0x736F6D6570736575ULL
    v[1] = key1 ^ 0x646F72616E646F6DULL
    v[2] = key0 ^ 0x6C7967656E657261ULL
    v[3] = key1 ^ 0x7465646279746573ULL
    for offset in range(0, whole, 8):
        word = _u64(s + offset)
        v[3] ^= word
        _sip_rounds(v, 2)
        v[0] ^= word
    for index in range(n - whole):
        last |= (<uint64_t>s[whole + index]) << (8 * index)
    v[3] ^= last
    _sip_rounds(v, 2)
    v[0] ^= last
    v[2] ^= 0xFF
    _sip_rounds(v, 4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


# Which hash `_buckets` applies.
cdef enum _Hash:
    FINGERPRINT64, LEGACY_HASH64, SIPHASH24


cdef _buckets(strings, uint64_t num_buckets, _Hash which, uint64_t key0=0, uint64_t key1=0):
    array = np.asarray(strings, dtype=object)
    out = np.empty(array.shape, dtype=np.int64)
    cdef cnp.int64_t[::1] flat_out = out.reshape(-1)
    cdef Py_ssize_t index
    cdef bytes data
    cdef const uint8_t* pointer
    cdef size_t length
    cdef uint64_t hashed
    for index, value in enumerate(array.reshape(-1)):
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        pointer = <const uint8_t*><char*>data
        length = len(data)
        if which == FINGERPRINT64:
            hashed = _fingerprint64(pointer, length)
        elif which == LEGACY_HASH64:
            hashed = _legacy_hash64(pointer, length)
        else:
            hashed = _siphash24(key0, key1, pointer, length)
        flat_out[index] = <cnp.int64_t>(hashed % num_buckets)
    return out


def fingerprint64_buckets(strings, num_buckets):
    """FarmHash Fingerprint64 of each string modulo `num_buckets`, as int64."""
    return _buckets(strings, num_buckets, FINGERPRINT64)


def legacy_hash64_buckets(strings, num_buckets):
    """TF's legacy Hash64 of each string modulo `num_buckets`, as int64."""
    return _buckets(strings, num_buckets, LEGACY_HASH64)


def siphash24_buckets(strings, num_buckets, key0, key1):
    """SipHash-2-4 under (`key0`, `key1`) of each string modulo `num_buckets`, as int64."""
    return _buckets(strings, num_buckets, SIPHASH24, key0, key1)
