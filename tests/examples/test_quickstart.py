"""The README's program is examples/quickstart.py, and it prints 15 on a fresh database."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_program() -> str:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks, "README has no python example"
    return str(blocks[0])


def test_the_readme_program_is_the_quickstart_example() -> None:
    assert _readme_program() == (ROOT / "examples" / "quickstart.py").read_text()


def test_the_readme_program_prints_15_on_a_fresh_database(tmp_path: Path) -> None:
    script = tmp_path / "program.py"
    script.write_text(_readme_program())
    run = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "15\n"
    assert (tmp_path / "bank.db").exists()


def test_running_the_readme_program_again_continues_from_the_stored_events(
    tmp_path: Path,
) -> None:
    script = tmp_path / "program.py"
    script.write_text(_readme_program())
    outputs = [
        subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        for _ in range(2)
    ]
    assert outputs == ["15\n", "30\n"]
