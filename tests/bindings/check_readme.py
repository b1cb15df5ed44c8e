"""Checks that the Kotlin and Swift examples in README.md are exactly the code the binding tests
compile and run. Each README block follows a marker `<!-- example: FILE#NAME -->` and must equal
the lines between `// README:NAME:begin` and `// README:NAME:end` in FILE, dedented.
Prints `readme: N passed, M failed`."""

import re
import sys
import textwrap
from pathlib import Path

root = Path(__file__).resolve().parents[2]
readme = (root / "README.md").read_text()
blocks = re.findall(r"<!-- example: (\S+)#(\w+) -->\s*```\w*\n(.*?)```", readme, re.S)
passed = failed = 0
for path, name, block in blocks:
    source = (root / path).read_text()
    match = re.search(rf"// README:{name}:begin\n(.*?)\n[ \t]*// README:{name}:end", source, re.S)
    if match and textwrap.dedent(match.group(1)).strip() == block.strip():
        passed += 1
    else:
        failed += 1
        print(f"README example {path}#{name} differs from the tested code", file=sys.stderr)
if not blocks:
    failed += 1
    print("README.md has no tested examples", file=sys.stderr)
print(f"readme: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
