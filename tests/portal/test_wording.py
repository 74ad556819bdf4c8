"""What the portal shows speaks the portal's language: no command-line options or manage.py commands.
The commands keep their own wording."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from apps.tenancy.roles import Role

ROOT = Path(__file__).resolve().parent.parent.parent
COMMAND_WORDING = re.compile(r"manage\.py|(?<![\w-])--(?!-)[a-z][a-z-]+(?!\))")


def _portal_templates():
    for folder in (ROOT / "templates", *sorted((ROOT / "apps").glob("*/templates"))):
        yield from sorted(folder.rglob("*.html"))


@pytest.mark.parametrize("path", list(_portal_templates()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_talks_about_commands(path):
    # CSS custom properties (var(--warn)) are not command options.
    text = re.sub(r"var\(--[\w-]+\)", "", path.read_text())
    assert not COMMAND_WORDING.search(text), COMMAND_WORDING.search(text).group(0)


UNKNOWN_JSON = b'{"vendor": "nobody", "rows": []}\n'


@pytest.mark.django_db
def test_unrecognised_format_in_the_portal_says_choose_the_format(
    world, price_book, django_capture_on_commit_callbacks, eager_celery
):
    client = world.login("a", Role.FINANCE_ANALYST)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("usage:jobs", kwargs={"org_slug": "alpha"}),
            {"file": SimpleUploadedFile("mystery.json", UNKNOWN_JSON), "format": "auto"},
        )
    page = client.get(response["Location"]).content.decode()
    assert "could not recognise the JSON format: choose the file&#x27;s format instead of automatic detection" in page
    assert "--format" not in page


@pytest.mark.django_db
def test_the_command_still_names_its_option(world, tmp_path, capsys):
    path = tmp_path / "mystery.json"
    path.write_bytes(UNKNOWN_JSON)
    with pytest.raises(SystemExit):
        call_command("ingest_usage", str(path), "--org", "alpha")
    err = capsys.readouterr().err
    assert "could not recognise the JSON format: choose the file's format instead of automatic detection" in err
    assert "Pass --format to name the file's format." in err
