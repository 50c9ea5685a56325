"""The documentation that is generated from code stays in sync with it."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from oidc_core.settings import reference_markdown
from tests.support.cli import Cli
from tests.support.cli import run as run

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_reference_matches_settings() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    assert reference_markdown() in text, "regenerate the table in docs/configuration.md"


# A line of the module list in docs/architecture.md: "- `oidc_core/x.py`: its job."
_MODULE_LINE = re.compile(r"- `((?:oidc_core|adapters)/[\w/]+\.py)`: \S")


def test_architecture_lists_every_module_once() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    modules = text.partition("\n## Modules\n")[2]
    listed = [match.group(1) for match in map(_MODULE_LINE.match, modules.splitlines()) if match]
    in_package = {
        path.relative_to(ROOT).as_posix()
        for package in ("oidc_core", "adapters")
        for path in (ROOT / package).rglob("*.py")
    }
    missing = sorted(in_package - set(listed))
    extra = sorted(set(listed) - in_package)
    twice = sorted({name for name in listed if listed.count(name) > 1})
    problems = [
        *(f'add the line "- `{name}`: <its job>."' for name in missing),
        *(f"remove the line of {name} (no such module)" for name in extra),
        *(f"keep one of the lines of {name}" for name in twice),
    ]
    assert not problems, "docs/architecture.md, ## Modules: " + "; ".join(problems)


def _guide_command(section: str, command: str) -> list[str]:
    """The ``command`` line (with its ``\\`` continuations) of a section of
    docs/administration.md, as a shell splits it, without the program name."""
    text = (ROOT / "docs" / "administration.md").read_text()
    guide = text.partition(f"\n## {section}\n")[2].partition("\n## ")[0]
    start = guide.index(command)
    lines = []
    for line in guide[start:].splitlines():
        lines.append(line.rstrip("\\").strip())
        if not line.endswith("\\"):
            break
    return shlex.split(" ".join(lines))[1:]


def test_the_cpanel_guides_client_create_command_makes_the_client_cpanel_needs(
    run: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _guide_command("cPanel & WHM: Log in via your provider", "oidc-core client create")
    assert run("init", capsys=capsys).code == 0
    created = run(*argv, capsys=capsys)
    assert created.code == 0, created.out
    client_id = json.loads(created.out)["client_id"]
    shown = run("client", "show", client_id, "--json", capsys=capsys)
    metadata = json.loads(shown.out)
    assert [uri.split("/")[2].rsplit(":")[1] for uri in metadata["redirect_uris"]] == [
        "2083",
        "2087",
        "2096",
    ]
    assert all("/openid_connect_callback/" in uri for uri in metadata["redirect_uris"])
    assert metadata["require_pkce"] is False
    assert metadata["id_token_signed_response_alg"] == "RS256"
    assert metadata["scope"] == "email openid profile"
    assert metadata["token_endpoint_auth_method"] != "none"  # a secret, for client_secret_post


# An image in Markdown, ![alt](path), or in HTML, <img src="path">.
_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)|<img\b[^>]*\bsrc=\"([^\"]+)\"")
_DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _images_referenced() -> dict[Path, list[str]]:
    """Each local image the documents show, resolved, with the documents that show it."""
    found: dict[Path, list[str]] = {}
    for document in _DOCUMENTS:
        for match in _IMAGE.finditer(document.read_text()):
            target = match.group(1) or match.group(2)
            if "://" in target or target.startswith("data:"):
                continue
            image = (document.parent / target).resolve()
            found.setdefault(image, []).append(document.relative_to(ROOT).as_posix())
    return found


def test_every_image_the_documents_show_exists() -> None:
    missing = [
        f"{', '.join(sorted(set(documents)))}: {image.relative_to(ROOT).as_posix()}"
        for image, documents in _images_referenced().items()
        if not image.is_file()
    ]
    assert missing == [], f"no such image (make screenshots makes the pages'): {missing}"


def test_every_picture_in_docs_images_is_shown_by_a_document() -> None:
    shown = set(_images_referenced())
    unused = sorted(
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "docs" / "images").glob("*.png")
        if path.resolve() not in shown
    )
    assert unused == [], f"show these in a document (docs/pages.md) or delete them: {unused}"
