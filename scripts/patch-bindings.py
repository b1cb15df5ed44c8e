"""Fixes to the code uniffi 0.29.4 (pinned) generates. The workspace's `uniffi-bindgen` applies
the Python ones to every `vaxpass.py` it writes (maturin runs that generator itself when it builds
the wheel); scripts/generate-bindings.sh and the Android module's Gradle build apply the Kotlin one:

- python: every argument was copied into the FFI buffer one byte at a time in interpreted Python,
  about 86 µs of a 405-character verify call. This backports upstream's fix
  (mozilla/uniffi-rs#2824, merged February 2026, and issue #2956): a `ctypes.memmove` of the
  packed bytes.
- python: a custom type's alias names its builtin (`TimeSpan = float`) even when the
  configuration converts it to another class; uniffi's Python configuration has no `type_name`.
  `TimeSpan` values are `datetime.timedelta` (bindings/uniffi.toml), so the alias, which every
  type hint of a time span refers to, says so.
- kotlin: every call into the library allocated a new JNA `UniffiRustCallStatus`, a structure
  holding a nested `RustBuffer`: two native allocations with two cleaner registrations, 3-7 µs of
  the 6 µs a bare call cost on the JVM. Each thread now reuses its call statuses from a small
  stack (a stack, not one status, because a callback into Kotlin may call the library again while
  the outer call is in flight); each is reset before it goes back. Upstream's answer is a new
  JNI-based generator (mozilla/uniffi-rs#2911, not released).

Each replacement must match the generated code exactly once, so a uniffi upgrade cannot silently
skip or misapply it; a file that already has it is left as it is.

    python3 scripts/patch-bindings.py python OUT_DIR/python/vaxpass.py
    python3 scripts/patch-bindings.py kotlin OUT_DIR/kotlin/io/vaxpass/vaxpass.kt
"""

import sys

PYTHON_DESTINATION = "ctypes.cast(self.rbuf.data, ctypes.c_void_p).value + self.rbuf.len"

PATCHES = {
    "python": [
        (
            """            # XXX TODO: I feel like I should be able to use `struct.pack_into` here but can't figure it out.
            for i, byte in enumerate(struct.pack(format, value)):
                self.rbuf.data[self.rbuf.len + i] = byte
""",
            f"""            ctypes.memmove({PYTHON_DESTINATION}, struct.pack(format, value), size)
""",
        ),
        (
            """        with self._reserve(len(value)):
            for i, byte in enumerate(value):
                self.rbuf.data[self.rbuf.len + i] = byte
""",
            f"""        with self._reserve(len(value)):
            ctypes.memmove({PYTHON_DESTINATION}, bytes(value), len(value))
""",
        ),
        ("\nTimeSpan = float\n", "\nTimeSpan = datetime.timedelta\n"),
    ],
    "kotlin": [
        (
            """private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: (UniffiRustCallStatus) -> U): U {
    var status = UniffiRustCallStatus()
    val return_value = callback(status)
    uniffiCheckCallStatus(errorHandler, status)
    return return_value
}
""",
            """private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: (UniffiRustCallStatus) -> U): U {
    // vaxpass (scripts/patch-bindings.py): a status from this thread's stack, not a new one.
    val statuses = uniffiCallStatuses.get()
    val status = statuses.pollFirst() ?: UniffiRustCallStatus()
    try {
        val return_value = callback(status)
        uniffiCheckCallStatus(errorHandler, status)
        return return_value
    } finally {
        // The error buffer, if any, was lifted and freed above; JNA writes these fields to native
        // memory before the next call that gets this status.
        status.code = UNIFFI_CALL_SUCCESS
        status.error_buf.capacity = 0
        status.error_buf.len = 0
        status.error_buf.data = null
        statuses.addFirst(status)
    }
}

// Allocating a JNA structure (native memory, a cleaner registration, reflection) cost more than
// the call itself. A stack per thread: a callback into Kotlin can call the library again mid-call.
private val uniffiCallStatuses: ThreadLocal<java.util.ArrayDeque<UniffiRustCallStatus>> =
    ThreadLocal.withInitial { java.util.ArrayDeque<UniffiRustCallStatus>() }
""",
        ),
    ],
}


def main(language, path):
    with open(path, encoding="utf-8") as f:
        source = f.read()
    for old, new in PATCHES[language]:
        if source.count(new) == 1 and old not in source:
            continue  # applied already
        if source.count(old) != 1:
            sys.exit(f"{path}: the generated code to replace was not found exactly once")
        source = source.replace(old, new)
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in PATCHES:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
