#!/usr/bin/env python3
"""Generate the Python modules of sessionlib's protocol buffers.

Compiles every ``sessionlib/protos/*.proto`` with ``grpc_tools.protoc`` into ``*_pb2.py`` and
``*_pb2.pyi`` next to the sources. protoc runs with the repository root as its only include
path, so that the generated imports read ``from sessionlib.protos import types_pb2``.

Usage (from anywhere)::

    python tools/gen_protos.py           # regenerate in place
    python tools/gen_protos.py --check   # exit 1 if the committed output is stale
"""

import argparse
import filecmp
import os
import pathlib
import shutil
import sys
import tempfile

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO_PACKAGE_DIR = pathlib.PurePosixPath("sessionlib", "protos")
PROTO_DIR = REPO_ROOT / PROTO_PACKAGE_DIR
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi")


def proto_sources():
    """Returns the .proto paths relative to the repository root, sorted for stable output.

    Returns:
        A list of POSIX-style relative paths such as ``sessionlib/protos/types.proto``.
    """
    return sorted(str(PROTO_PACKAGE_DIR / path.name) for path in PROTO_DIR.glob("*.proto"))


def generate(output_root):
    """Compiles all protos, writing the generated tree under ``output_root``.

    Args:
        output_root: directory that plays the role of the repository root; the modules land
            in ``output_root/sessionlib/protos``.

    Raises:
        RuntimeError: if protoc reports an error or grpc_tools is not installed.
    """
    try:
        from grpc_tools import protoc
    except ImportError as error:
        raise RuntimeError("grpcio-tools is required: pip install grpcio-tools") from error

    sources = proto_sources()
    if not sources:
        raise RuntimeError(f"no .proto files found in {PROTO_DIR}")
    output_root = pathlib.Path(output_root)
    (output_root / PROTO_PACKAGE_DIR).mkdir(parents=True, exist_ok=True)
    # protoc's well-known types (google/protobuf/any.proto, used by meta_graph.proto) ship
    # with grpc_tools; `protoc.main` does not add them to the include path by itself.
    well_known = pathlib.Path(protoc.__file__).resolve().parent / "_proto"
    arguments = [
        "grpc_tools.protoc",
        f"-I{REPO_ROOT}",
        f"-I{well_known}",
        f"--python_out={output_root}",
        f"--pyi_out={output_root}",
        *[str(REPO_ROOT / source) for source in sources],
    ]
    # protoc resolves each input against the include path; passing absolute paths that lie
    # under REPO_ROOT keeps the recorded file names relative ("sessionlib/protos/x.proto").
    exit_code = protoc.main(arguments)
    if exit_code != 0:
        raise RuntimeError(f"protoc failed with exit code {exit_code}")


def generated_names(directory):
    """Returns the generated file names present in ``directory``.

    Args:
        directory: a ``pathlib.Path`` to list.

    Returns:
        A sorted list of names ending in ``_pb2.py`` or ``_pb2.pyi``.
    """
    if not directory.is_dir():
        return []
    return sorted(
        entry.name for entry in directory.iterdir() if entry.name.endswith(GENERATED_SUFFIXES)
    )


def stale_files():
    """Regenerates into a temporary directory and compares with the committed output.

    Returns:
        A list of human-readable problems (``[]`` when everything is current).
    """
    with tempfile.TemporaryDirectory(prefix="sessionlib_protos_") as scratch:
        generate(scratch)
        fresh_dir = pathlib.Path(scratch) / PROTO_PACKAGE_DIR
        fresh = set(generated_names(fresh_dir))
        committed = set(generated_names(PROTO_DIR))
        problems = []
        for name in sorted(fresh - committed):
            problems.append(f"missing: {PROTO_PACKAGE_DIR / name}")
        for name in sorted(committed - fresh):
            problems.append(f"no longer generated (delete it): {PROTO_PACKAGE_DIR / name}")
        for name in sorted(fresh & committed):
            if not filecmp.cmp(fresh_dir / name, PROTO_DIR / name, shallow=False):
                problems.append(f"differs: {PROTO_PACKAGE_DIR / name}")
        return problems


def regenerate_in_place():
    """Regenerates the committed output, removing generated files whose .proto is gone."""
    with tempfile.TemporaryDirectory(prefix="sessionlib_protos_") as scratch:
        generate(scratch)
        fresh_dir = pathlib.Path(scratch) / PROTO_PACKAGE_DIR
        fresh = generated_names(fresh_dir)
        for name in generated_names(PROTO_DIR):
            if name not in fresh:
                os.remove(PROTO_DIR / name)
        for name in fresh:
            shutil.copyfile(fresh_dir / name, PROTO_DIR / name)
    return fresh


def main(argv=None):
    """Command-line entry point.

    Args:
        argv: arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        The process exit status: 0 on success, 1 if ``--check`` found stale output.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write anything; exit 1 if the generated modules are out of date",
    )
    options = parser.parse_args(argv)
    if options.check:
        problems = stale_files()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run: python tools/gen_protos.py", file=sys.stderr)
            return 1
        print("generated protos are up to date")
        return 0
    written = regenerate_in_place()
    print(f"wrote {len(written)} files to {PROTO_PACKAGE_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
