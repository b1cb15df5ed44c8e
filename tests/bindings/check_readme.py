"""Checks that the Kotlin, Swift and Python examples in the READMEs (the root one and those of
android/, ios/ and python/) are exactly the code the binding tests compile and run. Each README
block follows a marker `<!-- example: FILE#NAME -->` and must equal the lines between
`// README:NAME:begin` and `// README:NAME:end` in FILE (`#` instead of `//` in Python), dedented.
Prints `readme: N passed, M failed`."""

import re
import sys
import textwrap
from pathlib import Path

root = Path(__file__).resolve().parents[2]
passed = failed = 0
for readme in ["README.md", "android/README.md", "ios/README.md", "python/README.md"]:
    text = (root / readme).read_text()
    blocks = re.findall(r"<!-- example: (\S+)#(\w+) -->\s*```\w*\n(.*?)```", text, re.S)
    for path, name, block in blocks:
        source = (root / path).read_text()
        comment = "#" if path.endswith(".py") else "//"
        match = re.search(
            rf"{comment} README:{name}:begin\n(.*?)\n[ \t]*{comment} README:{name}:end", source, re.S
        )
        if match and textwrap.dedent(match.group(1)).strip() == block.strip():
            passed += 1
        else:
            failed += 1
            print(f"{readme}: example {path}#{name} differs from the tested code", file=sys.stderr)
    if not blocks:
        failed += 1
        print(f"{readme} has no tested examples", file=sys.stderr)
print(f"readme: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
