"""Build script: compiles the Cython modules of sessionlib/_core.

Everything declarative lives in pyproject.toml; this file only knows how to turn each
``sessionlib/_core/*.pyx`` into an extension module. Every hot module is compiled with -O3 and
OpenMP, so that ``prange`` loops run on several threads inside one device worker.

Build caching. pip builds each install in an isolated environment with fresh copies of Cython
and numpy, and an editable install (``pip install -e .``) in a new temporary folder, so plain
cythonize and build_ext would regenerate and recompile every module on every install (80-110 s
on 2 cores), even right after the previous install built the same modules in place. Two steps
avoid that, and only look at the project's own files, whose times mean something:
`_cythonize_stale` keeps a C source that is newer than the .pyx, .pxd and .pxi files it was
generated from, and `BuildExtReusingInPlace` keeps a module built in place that is newer than
its C source, the package's headers and this file, and was built with the same flags. A changed
.pyx, .pxd or .h therefore rebuilds what depends on it; ``--force`` rebuilds everything.
"""

import ctypes.util
import glob
import json
import logging
import os
import sys

import numpy
from Cython.Build import cythonize
from Cython.Build.Dependencies import create_dependency_tree
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

_CORE_DIR = os.path.join("sessionlib", "_core")
# The flags each in-place module was built with, so that changed flags (SESSIONLIB_MARCH, ...)
# rebuild it. Ignored by git, never shipped.
_FLAGS_STAMP = os.path.join(_CORE_DIR, ".inplace-build-flags.json")


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

    SESSIONLIB_MARCH names a -march level (``x86-64-v3``, ``x86-64-v4``, ``native``; empty for
    the compiler's default). By default an x86-64 build machine with AVX2 and FMA gets
    ``x86-64-v3``: 8-wide float loops and libmvec's AVX2 variants, about 2x the SSE2 baseline
    on exp-heavy chains. One that also has AVX-512 (F, BW, CD, DQ, VL) gets ``x86-64-v4``:
    16-wide loops, 32 vector registers (the interpreter's block loop is one big function, and
    with 16 registers the constants of sigmoid/tanh/exp spilled to the stack) and mask registers
    instead of blends. An LSTM cell's chain (three sigmoids, a tanh, [128, 128]) ran 1.3x as
    fast (42.4 -> 32.5 us; 38.6 us with 256-bit vectors, -mprefer-vector-width=256). BLAS
    already runs AVX-512 kernels on such machines, so the wide vectors cost no extra clock
    drop there. The module checks the running CPU at import (a clear ImportError, never
    SIGILL).
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
                if {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"} <= set(flags):
                    march = "x86-64-v4"
    return [f"-march={march}"] if march else []


# Per-module extra flags. fused: -fno-trapping-math lets GCC if-convert the selects of
# sigmoid/relu/maximum in vectorised loops (no code reads FP exception flags); libmvec gives
# vector exp/log/tanh/... Neither changes results beyond the few-ulp note in fused.pyx.
_MODULE_COMPILE_ARGS = {"sessionlib._core.fused": ["-fno-trapping-math"] + _fused_arch_flags()}
# epilogue (the bias + activation pass of _FusedMatMul/_FusedConv2D) shares fused's vector math;
# -ffp-contract=off keeps bias add and activation rounded as two separate kernels would.
_MODULE_COMPILE_ARGS["sessionlib._core.epilogue"] = (_MODULE_COMPILE_ARGS["sessionlib._core.fused"]
                                                     + ["-ffp-contract=off"])
_VECTOR_MATH_MODULES = ("sessionlib._core.fused", "sessionlib._core.epilogue")


def _extensions():
    omp_compile, omp_link = _openmp_flags()
    compile_args = ["-O3", "-fno-math-errno", "-Wno-unused-function", "-Wno-unreachable-code"]
    mvec_macros, mvec_link = _libmvec_flags()
    # Every module depends on every header of the package (declared in the .pxd files of the
    # same name): cheaper to rebuild a module too many than to track which header includes
    # which. The sdist ships them too.
    headers = sorted(glob.glob(os.path.join(_CORE_DIR, "*.h")))
    extensions = []
    for source in sorted(glob.glob(os.path.join(_CORE_DIR, "*.pyx"))):
        module = os.path.splitext(source)[0].replace(os.sep, ".")
        is_fused = module in _VECTOR_MATH_MODULES
        extensions.append(
            Extension(
                module,
                [source],
                include_dirs=[numpy.get_include(), _CORE_DIR],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
                + (mvec_macros if is_fused else []),
                extra_compile_args=compile_args + omp_compile
                + _MODULE_COMPILE_ARGS.get(module, []),
                extra_link_args=omp_link + (mvec_link if is_fused else []),
                depends=list(headers),
            )
        )
    return extensions


def _is_in_project(path):
    return os.path.abspath(path).startswith(os.path.abspath(os.curdir) + os.sep)


def _newer_than_all(target, sources):
    """Whether `target` exists and is newer than every one of `sources` that is in the project
    (files outside it, such as the isolated build environment's, are installed afresh for every
    build, so their times say nothing)."""
    try:
        built = os.path.getmtime(target)
        return all(os.path.getmtime(source) < built for source in sources
                   if _is_in_project(source))
    except OSError:  # no target yet, or a source is missing: build, and let that report it
        return False


def _has_distutils_settings(path):
    """Whether a Cython file opens with ``# distutils: ...`` settings (sources, libraries...)."""
    with open(path) as source:
        for line in source:
            if not line.strip():
                continue
            if not line.lstrip().startswith("#"):
                return False
            if line.lstrip("# \t").startswith("distutils:"):
                return True
    return False


def _cythonize_stale(extensions, **options):
    """`cythonize(extensions, **options)` that leaves current C sources alone.

    cythonize would regenerate every module here: each one cimports a .pxd of Cython or numpy,
    which pip has just installed afresh. A module whose C source is newer than every project
    file it is generated from (per Cython's own dependency tree) is compiled from that source
    as it is. Only cythonize reads ``# distutils:`` settings, so a module whose files carry
    some always goes through it; keep build settings in `_extensions` instead.
    """
    dependencies = create_dependency_tree()
    stale, current = [], []
    for extension in extensions:
        pyx = extension.sources[0]
        c_source = os.path.splitext(pyx)[0] + ".c"
        own_files = [path for path in dependencies.all_dependencies(pyx) if _is_in_project(path)]
        if (_newer_than_all(c_source, own_files)
                and not any(_has_distutils_settings(path) for path in own_files)):
            extension.sources[0] = c_source
            current.append(extension)
        else:
            stale.append(extension)
    return cythonize(stale, **options) + current


def _flags_signature(extension):
    """What, besides its sources, decides the code of a built module: its compiler flags."""
    return repr((extension.extra_compile_args, extension.extra_link_args,
                 extension.define_macros, extension.undef_macros, extension.libraries))


class BuildExtReusingInPlace(build_ext):
    """build_ext that reuses a module built in place when it is current, instead of compiling.

    A module beside its sources (``sessionlib/_core/*.so``) is current when it is newer than
    its C source, the package's headers and this file, and was built with the same flags
    (recorded in `_FLAGS_STAMP`, so that SESSIONLIB_MARCH and the like rebuild it).
    """

    def run(self):
        # setuptools' run() turns `inplace` off while it builds into build_lib, then copies the
        # modules next to their sources; remember whether this build lands there.
        self._lands_in_place = self.inplace
        self._recorded_flags = _read_flags_stamp()
        super().run()
        if self._lands_in_place:
            _write_flags_stamp(self._recorded_flags)

    def build_extension(self, ext):
        in_place = self.get_ext_filename(self.get_ext_fullname(ext.name))
        same_flags = self._recorded_flags.get(ext.name) == _flags_signature(ext)
        if (not self.force and same_flags
                and _newer_than_all(in_place, ext.sources + ext.depends + ["setup.py"])):
            self.announce(f"reusing {in_place} (up to date)", level=logging.INFO)
            target = self.get_ext_fullpath(ext.name)
            self.mkpath(os.path.dirname(target))
            self.copy_file(in_place, target)
            return
        # New flags leave every file's time as it was, so build_ext's own up-to-date check
        # (against build/, which `setup.py build_ext --inplace` keeps) must not skip it.
        forced, self.force = self.force, self.force or not same_flags
        try:
            super().build_extension(ext)
        finally:
            self.force = forced
        if self._lands_in_place:
            self._recorded_flags[ext.name] = _flags_signature(ext)


def _read_flags_stamp():
    try:
        with open(_FLAGS_STAMP) as stamp:
            return json.load(stamp)
    except (OSError, ValueError):
        return {}


def _write_flags_stamp(flags):
    with open(_FLAGS_STAMP, "w") as stamp:
        json.dump(flags, stamp, indent=1, sort_keys=True)


setup(
    cmdclass={"build_ext": BuildExtReusingInPlace},
    ext_modules=_cythonize_stale(
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
