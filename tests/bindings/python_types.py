"""Type-checked with `mypy --strict` against the installed wheel by tests/bindings/python.sh: it
passes only if mypy reads the package's own annotations (PEP 561, `py.typed`). Without them the
import is an error, and the two wrong lines below would not be reported, which makes their
`type: ignore` comments unused, also an error under --strict. Never run.
"""

import datetime

import vaxpass


def verify_text(verifier: vaxpass.Verifier, text: str, now: datetime.datetime) -> None:
    verifier.verify(text, now)
    verifier.verify(text.encode(), now)  # type: ignore[arg-type]  # bytes, not str


nonce: bytes = vaxpass.new_nonce()
not_a_nonce: str = vaxpass.new_nonce()  # type: ignore[assignment]  # new_nonce returns bytes
