"""A non-editable install (a built wheel) serves pages: templates and static go in the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import sys
from pathlib import Path
from feedhub import create_app
import feedhub
app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "x"}, instance_path=sys.argv[2])
from feedhub.db import upgrade
upgrade(app.extensions["feedhub"].db)
client = app.test_client()
page = client.get("/")
css = client.get("/static/feedhub.css")
print(Path(feedhub.__file__).resolve())
print(Path(app.template_folder).resolve())
print(page.status_code, css.status_code, len(css.data))
print("<html" in page.get_data(as_text=True))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (built,) = out.glob("feedhub-*.whl")
    return built


def test_wheel_contains_templates_and_static(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "feedhub/_assets/templates/base.html" in names
    assert "feedhub/_assets/static/feedhub.css" in names
    assert any(n.startswith("feedhub/migrations/versions/0001") for n in names)
    assert any(n.startswith("feedhub/samples/") and n.endswith(".xml") for n in names)
    assert any(n.endswith("LC_MESSAGES/messages.mo") for n in names)


@pytest.mark.slow
def test_installed_wheel_serves_pages(wheel: Path, tmp_path: Path) -> None:
    """Install the wheel into a fresh environment whose dependencies come from ours."""
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    zipfile.ZipFile(wheel).extractall(purelib)
    # our dependencies, but not our editable feedhub (a plain path: its .pth files stay unread)
    (purelib / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDHUB_")}
    proc = subprocess.run(
        [python, "-c", CHECK, f"sqlite:///{tmp_path / 'db.sqlite3'}", str(tmp_path / "inst")],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    module, templates, statuses, has_html = proc.stdout.strip().splitlines()[-4:]
    assert module.startswith(str(purelib)), module
    assert templates.startswith(str(purelib)) and templates.endswith("_assets/templates")
    page_status, css_status, css_len = statuses.split()
    assert (page_status, css_status) == ("200", "200") and int(css_len) > 100
    assert has_html == "True"
