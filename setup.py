"""Build script: compiles the Cython modules of sessionlib/_core.

Everything declarative lives in pyproject.toml; this file only knows how to turn each
``sessionlib/_core/*.pyx`` into an extension module. Every hot module is compiled with -O3 and
OpenMP, so that ``prange`` loops run on several threads inside one device worker.
"""

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


def _extensions():
    omp_compile, omp_link = _openmp_flags()
    compile_args = ["-O3", "-fno-math-errno", "-Wno-unused-function", "-Wno-unreachable-code"]
    extensions = []
    for source in sorted(glob.glob(os.path.join("sessionlib", "_core", "*.pyx"))):
        module = os.path.splitext(source)[0].replace(os.sep, ".")
        extensions.append(
            Extension(
                module,
                [source],
                include_dirs=[numpy.get_include()],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                extra_compile_args=compile_args + omp_compile,
                extra_link_args=omp_link,
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
