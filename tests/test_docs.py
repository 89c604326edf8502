"""The README stays true: its commands, and a row for every setting."""

from pathlib import Path

from govkg.settings import SETTINGS, settings_table_markdown

README = Path(__file__).resolve().parent.parent / "README.md"
CI_RUN = Path(__file__).resolve().parent.parent / ".ci" / "run"


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def test_readme_settings_table_is_the_generated_one():
    assert settings_table_markdown() in _readme()


def test_every_setting_is_documented():
    readme = _readme()
    for setting in SETTINGS:
        assert f"`{setting.env_var}`" in readme
        assert f"`{setting.cli_flag}`" in readme


def _readme_commands() -> tuple[str, str]:
    """README's two opening commands: serve, and run the tests (comments stripped)."""
    first_block = _readme().split("```sh\n", 1)[1].split("```", 1)[0]
    serve_line, test_line = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    return serve_line, test_line


def test_ci_runs_exactly_the_readme_test_command():
    serve_line, test_line = _readme_commands()
    assert "govkg serve" in serve_line
    commands = [
        line
        for line in CI_RUN.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    assert commands == [test_line]


def test_readme_commands_run_in_a_venv():
    """Debian's Python is externally managed: both commands work in a venv, and never call bare ``python``
    before one is active (Debian has ``python3`` only)."""
    for line in _readme_commands():
        steps = [step.strip() for step in line.split("&&")]
        activated = steps.index(". .venv/bin/activate")
        assert not any(step.startswith(("python ", "pip ")) for step in steps[:activated])
        assert any(step.startswith("python3 -m venv .venv") for step in steps[:activated]) or (
            steps[0] == "bash scripts/install-test-deps.sh"
            and "python3 -m venv" in (README.parent / "scripts" / "install-test-deps.sh").read_text()
        )
