"""docs/compile.md's example runs in a fresh interpreter and prints what the page shows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "compile.md"


def test_the_program_printed_on_the_page_is_what_compile_prints(tmp_path):
    text = PAGE.read_text(encoding="utf-8")
    code = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    shown = re.findall(r"```text\n(.*?)```", text, flags=re.S)
    assert len(code) == 1 and len(shown) == 1
    script = tmp_path / "example.py"
    script.write_text(code[0], encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out == shown[0]
