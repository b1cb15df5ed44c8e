"""Checks that every item the library exports carries its doc comment into the generated Kotlin
and Swift, where an app developer reads it (IDE pop-ups, generated docs). uniffi copies a Rust doc
comment onto the foreign declaration; an exported item without one arrives bare.

    check_docs.py BINDINGS_DIR

Reads BINDINGS_DIR/kotlin/io/vaxpass/vaxpass.kt and BINDINGS_DIR/swift/Vaxpass.swift. Checked:
objects and foreign traits (classes, interfaces, protocols), records and their fields, enums and
errors and their variants, top-level functions, constructors and methods. uniffi's own machinery
(FFI converters, call statuses, the library's symbol tables: anything named below, `internal` or
`private` in Kotlin, `@_documentation(visibility: private)` in Swift) is not the API and is
skipped, and so are the fields of enum and error variants. Prints each undocumented item, then
`docs: N passed, M failed` (one check per language)."""

import re
import sys
from pathlib import Path

# Names of uniffi's machinery, never the library's API.
MACHINERY = re.compile(
    r"^(FfiConverter|Uniffi|uniffi|Rust|Ffi|ffi_|NoPointer|ForeignBytes|Disposable|destroy"
    r"|close|toString|equals|hashCode|lift|lower|read|write|allocationSize|errorClass)"
)


def documented(lines, index):
    """Whether the declaration at `index` has a doc comment above it, past attributes, blank
    lines and Swift's `#if`/`#endif` around them."""
    j = index - 1
    while j >= 0:
        text = lines[j].strip()
        if text == "" or text.startswith("@") or text.startswith("#if") or text == "#endif":
            j -= 1
            continue
        return text.endswith("*/") or text.startswith("///")
    return False


def hidden_swift(lines, index):
    """Swift declarations uniffi hides from documentation."""
    window = "\n".join(lines[max(0, index - 3) : index])
    return "@_documentation(visibility: private)" in window


def code_of(line, in_comment):
    """The line's code without comments and string contents, and whether a block comment
    continues after it."""
    text = line.strip()
    if in_comment or text.startswith("/*"):
        return "", not text.endswith("*/")
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', line.split("//")[0]), False


def first_unclosed(code):
    """The position of the first bracket that `code` opens and does not close, or None."""
    open_at = []
    for position, char in enumerate(code):
        if char in "{(":
            open_at.append(position)
        elif char in "})" and open_at:
            open_at.pop()
    return open_at[0] if open_at else None


def check(path, rules, hidden):
    """Returns the undocumented declarations of `path`. A rule is (pattern, where, kind,
    needs_doc): `pattern` matches a declaration and its group 1 is the name; `where` is None for
    a top-level declaration, or the kinds of container it must be directly inside; `kind`, when
    set, makes it a container of that kind (its body is the first bracket it leaves open)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    missing = []
    depth = 0
    stack = []  # (depth inside the body, kind, whether it is the library's API)
    pending = None  # a container whose body opens on a later line
    in_comment = False
    for index, line in enumerate(lines):
        code, still_in_comment = code_of(line, in_comment)
        parent = stack[-1] if stack and stack[-1][0] == depth else None
        container = None
        for pattern, where, kind, needs_doc in [] if in_comment else rules:
            match = pattern.match(line)
            if not match:
                continue
            if where is None and depth != 0:
                continue
            if where is not None and not (parent and parent[1] in where and parent[2]):
                continue
            name = match.group(1)
            is_api = not MACHINERY.match(name) and not hidden(lines, index)
            if is_api and needs_doc and not documented(lines, index):
                missing.append(f"{path.name}:{index + 1}: {line.strip()}")
            if kind:
                container = (kind, is_api)
            break
        in_comment = still_in_comment
        opening = container or pending
        body = first_unclosed(code) if opening else None
        pending = opening if opening and body is None else None
        for position, char in enumerate(code):
            if char in "{(":
                depth += 1
                if position == body:
                    stack.append((depth, *opening))
            elif char in "})":
                if stack and depth == stack[-1][0]:
                    stack.pop()
                depth -= 1
    return missing


def rule(pattern, where=None, kind=None, needs_doc=True):
    return (re.compile(pattern), where, kind, needs_doc)


SWIFT = [
    rule(r"^public protocol (\w+)", kind="protocol"),
    rule(r"^open class (\w+)", kind="class"),
    rule(r"^public struct (\w+)", kind="record"),
    rule(r"^public enum (\w+)", kind="enum"),
    rule(r"^public func (\w+)"),
    rule(r"^\s*func (\w+)\(", where={"protocol"}),
    rule(r"^\s*open func (\w+)\(", where={"class"}),
    rule(r"^\s*public static func `?(\w+)`?\(", where={"class"}),
    rule(r"^\s*public convenience init\((\w+)", where={"class"}),
    rule(r"^\s*public var (\w+)", where={"record"}),
    rule(r"^\s*case (\w+)", where={"enum"}),
]

KOTLIN = [
    rule(r"^public interface (\w+)", kind="interface"),
    rule(r"^open class (\w+)", kind="class"),
    rule(r"^data class (\w+)", kind="record"),
    rule(r"^enum class (\w+)", kind="enum"),
    rule(r"^sealed class (\w+)", kind="sealed"),
    rule(r"^(?:public )?fun `?(\w+)`?\("),
    rule(r"^\s+fun `?(\w+)`?\(", where={"interface", "companion"}),
    rule(r"^\s+(?:@Throws\(\w+::class\))?override fun `?(\w+)`?\(", where={"class"}),
    rule(r"^\s+companion (object)", where={"class"}, kind="companion", needs_doc=False),
    rule(r"^\s+va[lr] `?(\w+)`?\s*:", where={"record"}),
    rule(r"^\s+(?:data )?class (\w+)", where={"sealed"}),
    rule(r"^\s+object (\w+)", where={"sealed"}),
    rule(r"^\s+([A-Z][A-Za-z0-9_]*)[,;]?\s*$", where={"enum"}),
]


def main():
    out = Path(sys.argv[1])
    passed = failed = 0
    targets = [
        (out / "kotlin/io/vaxpass/vaxpass.kt", KOTLIN, lambda lines, index: False),
        (out / "swift/Vaxpass.swift", SWIFT, hidden_swift),
    ]
    for path, rules, hidden in targets:
        missing = check(path, rules, hidden)
        for item in missing:
            print(f"no doc comment: {item}", file=sys.stderr)
        if missing:
            failed += 1
        else:
            passed += 1
    print(f"docs: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
