"""Checks the installed `vaxpass` package, run by tests/bindings/python.sh with the fresh venv's
interpreter in isolated mode from outside the repository:

    python -I -B tests/bindings/check_python_package.py TESTS_DIR

- `import vaxpass`, with TESTS_DIR first on sys.path as unittest's discovery puts it for the
  tests, resolves to the venv's site-packages, and so do the generated module and the library it
  loads (nothing from the source tree or the working directory can stand in for them);
- the package is typed (PEP 561 `py.typed`), every parameter of every public function and method
  is annotated, and `typing.get_type_hints` resolves every annotation;
- the generated module carries the Python fix of scripts/patch-bindings.py (whole buffers copied
  with one `ctypes.memmove`, not byte by byte), which uniffi-bindgen applies when maturin runs it;
- the package's Python parses as the oldest version its metadata allows (`Requires-Python`).

Prints one line per failed check and exits non-zero if any failed.
"""

import ast
import importlib.metadata
import inspect
import os
import re
import sys
import sysconfig
import typing

sys.path.insert(0, os.path.abspath(sys.argv[1]))
import vaxpass  # noqa: E402
import vaxpass._ffi.vaxpass as generated  # noqa: E402

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


site = os.path.realpath(sysconfig.get_paths()["purelib"])
package_dir = os.path.dirname(os.path.realpath(vaxpass.__file__))
check(sys.prefix != sys.base_prefix, f"not running in a virtual environment: {sys.prefix}")
check(package_dir == os.path.join(site, "vaxpass"), f"vaxpass imported from {package_dir}, not {site}")
module_dir = os.path.dirname(os.path.realpath(generated.__file__))
check(module_dir == os.path.join(package_dir, "_ffi"), f"generated module imported from {module_dir}")
check(os.path.isfile(os.path.join(module_dir, "libvaxpass_ffi.so")), f"no libvaxpass_ffi.so in {module_dir}")
check(os.path.isfile(os.path.join(package_dir, "py.typed")), "no py.typed marker in the package")
check(set(vaxpass.__all__) == set(generated.__all__), "the package does not re-export the generated names")
with open(generated.__file__, encoding="utf-8") as f:
    generated_source = f.read()
check(
    "ctypes.memmove(" in generated_source and "self.rbuf.data[self.rbuf.len + i] = byte" not in generated_source,
    "the generated module lacks the Python fix of scripts/patch-bindings.py",
)


def public_functions():
    """(qualified name, function) for every public function and method, `__init__` included."""
    for name in vaxpass.__all__:
        value = getattr(vaxpass, name)
        if inspect.isfunction(value):
            yield name, value
        elif inspect.isclass(value):
            for attribute, member in vars(value).items():
                if attribute.startswith("_") and attribute != "__init__":
                    continue
                if isinstance(member, (classmethod, staticmethod)):
                    member = member.__func__
                # Only code from the package itself: not inherited Exception or Enum machinery.
                if inspect.isfunction(member) and member.__module__ == generated.__name__:
                    yield f"{name}.{attribute}", member


checked = 0
for name, function in public_functions():
    checked += 1
    try:
        hints = typing.get_type_hints(function)
    except Exception as error:  # an annotation that names nothing
        failures.append(f"{name}: annotations do not resolve: {error!r}")
        continue
    for parameter in inspect.signature(function).parameters.values():
        # uniffi's objects without a constructor take (*args, **kwargs) only to refuse them.
        if parameter.name in ("self", "cls") or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        check(parameter.name in hints, f"{name}: parameter {parameter.name} has no annotation")
check(checked > 50, f"only {checked} public functions and methods found")

requires = importlib.metadata.metadata("vaxpass")["Requires-Python"]
oldest = re.fullmatch(r">=\s*3\.(\d+)", requires or "")
check(oldest is not None, f"unexpected Requires-Python: {requires!r}")
if oldest:
    for module in (vaxpass, generated):
        with open(module.__file__, encoding="utf-8") as f:
            source = f.read()
        try:
            ast.parse(source, feature_version=(3, int(oldest.group(1))))
        except SyntaxError as error:
            failures.append(f"{module.__file__} does not parse as Python {requires}: {error}")

for failure in failures:
    print(f"FAILED: {failure}")
print(f"installed package: {len(failures)} failed checks, {checked} functions and methods annotated")
sys.exit(1 if failures else 0)
