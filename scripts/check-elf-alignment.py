#!/usr/bin/env python3
"""Fails when a 64-bit ELF shared library could not be loaded on a device with 16 KB pages.

Android 15 supports devices whose kernel uses 16 KB memory pages, and Google Play requires apps
targeting Android 15 or later to support them: every LOAD segment of every 64-bit `.so` an app
ships must be aligned to at least 16 KB (`p_align` >= 16384), or the dynamic linker refuses the
library (`program alignment (4096) cannot be smaller than system page size (16384)`). 32-bit
libraries are exempt (32-bit Android runs with 4 KB pages) and are reported as skipped.

    scripts/check-elf-alignment.py PATH...

Each PATH is an ELF file or a directory searched for `*.so`. Prints one line per library and
exits 1 if any 64-bit library has a LOAD segment below 16 KB, or if a path is not an ELF file or
holds none. Standard library only, so it runs wherever the build does (the Gradle module runs it
on each ABI's library; the binding test run on the host library).
"""

import os
import struct
import sys

MIN_ALIGN = 16384
PT_LOAD = 1
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2
# e_phoff, e_phentsize and e_phnum, by ELF class: (offset in the header, struct format).
PHOFF = {ELFCLASS32: (28, "I"), ELFCLASS64: (32, "Q")}
PHENTSIZE_PHNUM = {ELFCLASS32: 42, ELFCLASS64: 54}
# The smallest program header of each class, and where p_align is in a 64-bit one.
PHDR_SIZE = {ELFCLASS32: 32, ELFCLASS64: 56}
P_ALIGN_64 = 48


class NotElf(Exception):
    """The file is not a well-formed ELF file."""


def load_alignments(data):
    """Returns (ELF class, [p_align of each PT_LOAD segment]) of an ELF image, or raises NotElf."""
    if len(data) < 64 or data[:4] != b"\x7fELF":
        raise NotElf("not an ELF file")
    elf_class, encoding = data[4], data[5]
    if elf_class not in PHOFF or encoding not in (ELFDATA2LSB, ELFDATA2MSB):
        raise NotElf(f"unknown ELF class {elf_class} or data encoding {encoding}")
    endian = "<" if encoding == ELFDATA2LSB else ">"
    offset, fmt = PHOFF[elf_class]
    (phoff,) = struct.unpack_from(endian + fmt, data, offset)
    phentsize, phnum = struct.unpack_from(endian + "HH", data, PHENTSIZE_PHNUM[elf_class])
    if phnum == 0:
        raise NotElf("no program headers")
    if phentsize < PHDR_SIZE[elf_class] or phoff + phnum * phentsize > len(data):
        raise NotElf("program headers out of bounds")
    aligns = []
    for i in range(phnum):
        entry = phoff + i * phentsize
        (p_type,) = struct.unpack_from(endian + "I", data, entry)
        if p_type != PT_LOAD:
            continue
        if elf_class == ELFCLASS64:
            (p_align,) = struct.unpack_from(endian + "Q", data, entry + P_ALIGN_64)
        else:
            (p_align,) = struct.unpack_from(endian + "I", data, entry + 28)
        aligns.append(p_align)
    return elf_class, aligns


def check(path):
    """Checks one file; returns True when it is fine (or exempt), printing what it found."""
    try:
        with open(path, "rb") as f:
            elf_class, aligns = load_alignments(f.read())
    except (OSError, NotElf, struct.error) as e:
        print(f"FAIL {path}: {e}")
        return False
    if elf_class == ELFCLASS32:
        print(f"skip {path}: 32-bit (4 KB pages)")
        return True
    if not aligns:
        print(f"FAIL {path}: no LOAD segment")
        return False
    low = [a for a in aligns if a < MIN_ALIGN]
    if low:
        print(f"FAIL {path}: LOAD segment aligned to {min(low)} bytes, below {MIN_ALIGN}")
        return False
    print(f"ok   {path}: {len(aligns)} LOAD segments, smallest alignment {min(aligns)}")
    return True


def libraries(path):
    """The files PATH names: itself, or the `*.so` files below a directory."""
    if not os.path.isdir(path):
        return [path]
    found = []
    for directory, _, files in os.walk(path):
        found.extend(os.path.join(directory, f) for f in files if f.endswith(".so"))
    return sorted(found)


def main(paths):
    if not paths:
        sys.exit(__doc__)
    ok = True
    for path in paths:
        files = libraries(path)
        if not files:
            print(f"FAIL {path}: no .so files")
            ok = False
        for file in files:
            ok = check(file) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
