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


def test_ci_runs_exactly_the_readme_test_command():
    first_block = _readme().split("```sh\n", 1)[1].split("```", 1)[0]
    serve_line, test_line = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert "govkg serve" in serve_line
    assert test_line in CI_RUN.read_text(encoding="utf-8").splitlines()
