"""The command line and the README stay honest with each other."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhenggai.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_every_command():
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0
    listed = {line.split()[0] for line in r.output.split("Commands:")[1].splitlines()
              if line.strip()}
    assert listed == set(main.commands)
    assert {"demo", "serve", "migrate", "createadmin", "figures", "replay", "lifecycle"} <= listed


def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", text, re.S)
    assert "zhenggai demo" in blocks[0]
    assert "pytest" in blocks[1] and "[test]" in blocks[1]
    # CI runs the README's test command to the letter, so the README cannot drift.
    ci = (ROOT / ".ci" / "run").read_text()
    assert blocks[1].strip() in ci.splitlines()


def test_readme_documents_every_command():
    text = (ROOT / "README.md").read_text()
    for name in main.commands:
        assert f"zhenggai {name}" in text, f"README does not mention `zhenggai {name}`"


def test_lifecycle_command_prints_the_table():
    r = CliRunner().invoke(main, ["lifecycle"])
    assert r.exit_code == 0
    assert "verify_not_thorough" in r.output and "reopened" in r.output


@pytest.mark.django_db
def test_figures_refuses_a_bad_date():
    r = CliRunner().invoke(main, ["figures", "--as-of", "20-01-1958"])
    assert r.exit_code != 0 and "1958-01-20" in r.output


@pytest.mark.django_db
def test_createadmin(story):
    from django.contrib.auth import get_user_model

    r = CliRunner().invoke(main, ["createadmin", "--username", "boss", "--password", "s3cret-pass"])
    assert r.exit_code == 0, r.output
    u = get_user_model().objects.get(username="boss")
    assert u.is_superuser and u.member.org_id
    again = CliRunner().invoke(main, ["createadmin", "--username", "boss", "--password", "x" * 9])
    assert again.exit_code != 0 and "exists" in again.output
