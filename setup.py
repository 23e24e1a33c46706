"""Build script: compiles the Cython modules of sessionlib/_core.

Everything declarative lives in pyproject.toml; this file only knows how to turn each
``sessionlib/_core/*.pyx`` into an extension module. Every hot module is compiled with -O3 and
OpenMP, so that ``prange`` loops run on several threads inside one device worker.
"""

import ctypes.util
import glob
import os
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup


def _openmp_flags():
    """Returns (compile_args, link_args) for OpenMP, or empty lists where the compiler lacks it."""
    if sys.platform == "darwin" or os.environ.get("SESSIONLIB_NO_OPENMP"):
        return [], []
    return ["-fopenmp"], ["-fopenmp"]


def _libmvec_flags():
    """(macros, link_args) for glibc's vector math library, or empty where it is missing.

    ``sessionlib/_core/_simd_math.h`` declares the libm functions as `simd` under
    SESSIONLIB_LIBMVEC, so GCC vectorises loops that call them (see fused.pyx's design note).
    """
    if (sys.platform != "linux" or os.environ.get("SESSIONLIB_NO_LIBMVEC")
            or not ctypes.util.find_library("mvec")):
        return [], []
    return [("SESSIONLIB_LIBMVEC", "1")], ["-lmvec"]


def _fused_arch_flags():
    """The instruction set of the fused kernel's loops.

    SESSIONLIB_MARCH names a -march level (``x86-64-v3``, ``native``; empty for the compiler's
    default). By default an x86-64 build machine with AVX2 and FMA gets ``x86-64-v3``: 8-wide
    float loops and libmvec's AVX2 variants, about 2x the SSE2 baseline on exp-heavy chains.
    The module checks the running CPU at import (a clear ImportError, never SIGILL).
    """
    march = os.environ.get("SESSIONLIB_MARCH")
    if march is None:
        march = ""
        if sys.platform == "linux" and os.uname().machine == "x86_64":
            try:
                with open("/proc/cpuinfo") as cpuinfo:
                    flags = next((line.split() for line in cpuinfo if line.startswith("flags")),
                                 [])
            except OSError:
                flags = []
            if {"avx2", "fma", "bmi2"} <= set(flags):
                march = "x86-64-v3"
    return [f"-march={march}"] if march else []


# Per-module extra flags. fused: -fno-trapping-math lets GCC if-convert the selects of
# sigmoid/relu/maximum in vectorised loops (no code reads FP exception flags); libmvec gives
# vector exp/log/tanh/... Neither changes results beyond the few-ulp note in fused.pyx.
_MODULE_COMPILE_ARGS = {"sessionlib._core.fused": ["-fno-trapping-math"] + _fused_arch_flags()}


def _extensions():
    omp_compile, omp_link = _openmp_flags()
    compile_args = ["-O3", "-fno-math-errno", "-Wno-unused-function", "-Wno-unreachable-code"]
    mvec_macros, mvec_link = _libmvec_flags()
    # The C headers beside the modules (declared in the .pxd files of the same name): a change
    # to one recompiles the modules, and the sdist ships them.
    headers = sorted(glob.glob(os.path.join("sessionlib", "_core", "*.h")))
    extensions = []
    for source in sorted(glob.glob(os.path.join("sessionlib", "_core", "*.pyx"))):
        module = os.path.splitext(source)[0].replace(os.sep, ".")
        is_fused = module == "sessionlib._core.fused"
        extensions.append(
            Extension(
                module,
                [source],
                depends=headers,
                include_dirs=[numpy.get_include(), os.path.join("sessionlib", "_core")],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
                + (mvec_macros if is_fused else []),
                extra_compile_args=compile_args + omp_compile
                + _MODULE_COMPILE_ARGS.get(module, []),
                extra_link_args=omp_link + (mvec_link if is_fused else []),
            )
        )
    return extensions


setup(
    ext_modules=cythonize(
        _extensions(),
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)
