"""Compile C source into a shared library once per source, compiler and CPU; load it.

Method: the library's name is a SHA-256 of the source, the compiler's version line, the flags
and this CPU's feature flags, so a cache shared between machines never hands one CPU code
built for another. The compiler writes to a temporary name in the cache folder and the file is
renamed into place (atomic; the compiler's file mode follows the umask). Where the cache
folder cannot be written, a private temporary folder of this process is used.
"""
from __future__ import annotations

import atexit
import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

#: Flags of every build: optimised and vectorised for this CPU, position-independent; floating
#: point as written (no contraction into fused multiply-adds), so it rounds as the source says.
FLAGS = ("-O3", "-march=native", "-std=c11", "-ffp-contract=off", "-shared", "-fPIC", "-fno-strict-aliasing")


class NativeUnavailable(RuntimeError):
    """No C compiler, or it failed: callers fall back to their NumPy/SciPy path."""


def compiler() -> str:
    """Path of the C compiler: ``$CC``, else ``cc``, ``gcc`` or ``clang`` on the PATH."""
    names = [os.environ["CC"]] if os.environ.get("CC") else ["cc", "gcc", "clang"]
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise NativeUnavailable(f"no C compiler found (tried {', '.join(names)}; set CC)")


@functools.lru_cache(maxsize=None)
def _compiler_id(path: str) -> str:
    try:
        run = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        raise NativeUnavailable(f"{path} --version failed: {e}") from e
    return run.stdout.splitlines()[0] if run.returncode == 0 and run.stdout else path


@functools.lru_cache(maxsize=None)
def _cpu_id() -> str:
    """The CPU's feature flags (Linux ``/proc/cpuinfo``) or, elsewhere, its description."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return f"{platform.machine()} {platform.processor()}"


@functools.lru_cache(maxsize=None)
def macros() -> frozenset[str]:
    """Macros the compiler predefines with ``FLAGS`` on this CPU (``-dM -E``)."""
    cc = compiler()
    try:
        run = subprocess.run([cc, *FLAGS[:3], "-dM", "-E", "-x", "c", os.devnull],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        raise NativeUnavailable(f"{cc} could not list its macros: {e}") from e
    if run.returncode != 0:
        raise NativeUnavailable(f"{cc} could not list its macros:\n{run.stderr[-2000:]}")
    return frozenset(line.split()[1] for line in run.stdout.splitlines() if line.startswith("#define "))


def cache_dir() -> Path:
    """``$CELLSORT_CACHE/kernels``, else ``$XDG_CACHE_HOME/cellsort/kernels`` (``~/.cache``)."""
    root = os.environ.get("CELLSORT_CACHE")
    if root:
        return Path(root) / "kernels"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cellsort" / "kernels"


@functools.lru_cache(maxsize=None)
def _private_dir() -> Path:
    """This process's own kernel folder, removed at exit (loaded libraries stay mapped)."""
    folder = Path(tempfile.mkdtemp(prefix="cellsort-kernels-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def address(array) -> int:
    """Address of a NumPy array's first element, for a ``c_void_p`` argument."""
    return array.__array_interface__["data"][0]


def build(code: str) -> ctypes.CDLL:
    """Compile ``code`` (or find it compiled) and load the library."""
    cc = compiler()
    key = hashlib.sha256("\0".join([code, _compiler_id(cc), *FLAGS, _cpu_id()]).encode()).hexdigest()[:24]
    for folder in (f() for f in (cache_dir, _private_dir)):
        lib = folder / f"cellsort-{key}.so"
        try:
            return ctypes.CDLL(str(lib))
        except OSError:  # absent, unreadable or damaged: (re)build it
            pass
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key}-", suffix=".c", dir=folder)
        except OSError:
            continue
        try:
            with os.fdopen(fd, "w") as f:
                f.write(code)
            so = tmp[:-2] + ".so"
            try:
                run = subprocess.run([cc, *FLAGS, "-o", so, tmp], capture_output=True, text=True,
                                     timeout=300)
            except (OSError, subprocess.SubprocessError) as e:
                raise NativeUnavailable(f"{cc} could not compile the C source: {e}") from e
            if run.returncode != 0:
                first = next((line for line in run.stderr.splitlines() if "error" in line),
                             run.stderr.strip()[:200])
                raise NativeUnavailable(f"{cc} could not compile the C source: {first}\n{run.stderr[-2000:]}")
            os.replace(so, lib)
        finally:
            for leftover in (tmp, tmp[:-2] + ".so"):
                Path(leftover).unlink(missing_ok=True)
        return ctypes.CDLL(str(lib))
    raise NativeUnavailable("no writable folder for compiled kernels")
