"""Backports uniffi's fix for slow Python buffer writes into a generated vaxpass.py.

uniffi 0.29.4 (pinned) writes every argument into the FFI buffer one byte at a time in
interpreted Python: about 86 µs of a verify call go into copying its 405-character text. Upstream
fixed this in mozilla/uniffi-rs#2824 (merged February 2026) and issue #2956; this applies the same
change, a `ctypes.memmove` of the packed bytes, until the pinned uniffi includes it. It fails if
the generated code does not contain exactly the two loops it replaces, so a uniffi upgrade cannot
silently skip or misapply it.

    python3 scripts/patch-python-bindings.py OUT_DIR/python/vaxpass.py
"""

import sys

DESTINATION = "ctypes.cast(self.rbuf.data, ctypes.c_void_p).value + self.rbuf.len"

REPLACEMENTS = [
    (
        """            # XXX TODO: I feel like I should be able to use `struct.pack_into` here but can't figure it out.
            for i, byte in enumerate(struct.pack(format, value)):
                self.rbuf.data[self.rbuf.len + i] = byte
""",
        f"""            ctypes.memmove({DESTINATION}, struct.pack(format, value), size)
""",
    ),
    (
        """        with self._reserve(len(value)):
            for i, byte in enumerate(value):
                self.rbuf.data[self.rbuf.len + i] = byte
""",
        f"""        with self._reserve(len(value)):
            ctypes.memmove({DESTINATION}, bytes(value), len(value))
""",
    ),
]


def main(path):
    with open(path, encoding="utf-8") as f:
        source = f.read()
    for old, new in REPLACEMENTS:
        if source.count(old) != 1:
            sys.exit(f"{path}: the byte-by-byte write loop to replace was not found exactly once")
        source = source.replace(old, new)
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
