"""A third-party distribution adds a writer, a renderer and a publisher through entry points, and config uses them.

The distribution is built here as a wheel (a zip with its dist-info, as any build backend writes it) and
installed by pip into a temporary target, offline; the target goes on sys.path the way a site directory
would. Nothing of it is imported by the test: config accepts the names from the installed metadata, and
each stage loads its plugin when the run asks for it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest

from dailybrief import config
from dailybrief.demo import DEMO_DATE, demo_config, demo_dir, serve_directory
from dailybrief.errors import ConfigError
from dailybrief.publish.base import PUBLISHERS
from dailybrief.render.formats import RENDERERS
from dailybrief.run.pipeline import Pipeline
from dailybrief.store import Store
from dailybrief.write.writer import WRITERS

PLUGIN = '''
"""A throwaway dailybrief plugin: a writer, a renderer and a publisher."""

import json
from pathlib import Path

from dailybrief.records import Paragraph, Section, Sentence


class EchoWriter:
    """Each story is its first item's title, cited; the abstract is the stories' count."""

    name = "echo"

    def section(self, story, language, book):
        item = story.items[0]
        return Section(kind="story", title=item.title, story_id=story.id, writer=self.name,
                       paragraphs=[Paragraph("facts", [Sentence(item.title, [book.cite(item)])])])

    def abstract(self, brief, language, book):
        first = next(s for s in brief.sections if s.kind == "story")
        return [Paragraph("abstract", [Sentence(first.title, list(first.paragraphs[0].sentences[0].refs))])]


def make_writer(ctx):
    return EchoWriter()


class Headlines:
    """Output format `headlines`: one story title a line."""

    name = "headlines"
    suffix = ".headlines.txt"

    def render(self, brief, path):
        path = Path(path)
        path.write_text("\\n".join(s.title for s in brief.sections if s.kind == "story") + "\\n", "utf-8")
        return path


HEADLINES = Headlines()


class JsonlTarget:
    """[[publish]] kind `jsonl`: appends one line per delivered edition to `path`."""

    kind = "jsonl"
    resend_on_change = False

    def __init__(self, name, path):
        self.name, self.path = name, Path(path)

    @classmethod
    def from_config(cls, conf, cfg):
        return cls(conf.name, conf.path)

    def deliver(self, edition):
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"day": edition.day.isoformat(), "files": sorted(p.name for p in edition.files)}) + "\\n")
        return str(self.path)
'''

ENTRY_POINTS = """[dailybrief.writers]
echo = dbplug:make_writer

[dailybrief.renderers]
headlines = dbplug:HEADLINES

[dailybrief.publishers]
jsonl = dbplug:JsonlTarget.from_config
"""


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(where: Path) -> Path:
    files = {
        "dbplug/__init__.py": PLUGIN.encode(),
        "dbplug-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: dbplug\nVersion: 0.1\n",
        "dbplug-0.1.dist-info/WHEEL": (b"Wheel-Version: 1.0\nGenerator: dailybrief-tests\nRoot-Is-Purelib: true\n"
                                        b"Tag: py3-none-any\n"),
        "dbplug-0.1.dist-info/entry_points.txt": ENTRY_POINTS.encode(),
    }
    record = "\n".join([*(_record_line(n, d) for n, d in files.items()), "dbplug-0.1.dist-info/RECORD,,"]) + "\n"
    wheel = where / "dbplug-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr("dbplug-0.1.dist-info/RECORD", record)
    return wheel


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """dbplug installed by pip into a target folder that is on sys.path."""
    target = tmp_path / "site"
    wheel = build_wheel(tmp_path)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                    "--target", str(target), str(wheel)], check=True, capture_output=True)
    monkeypatch.syspath_prepend(str(target))
    yield target
    # uninstalled again: what the run loaded into the registries goes with it
    sys.modules.pop("dbplug", None)
    WRITERS.pop("echo", None)
    RENDERERS.pop("headlines", None)
    PUBLISHERS.pop("jsonl", None)


def test_unknown_names_are_refused_naming_the_installed_ones() -> None:
    with pytest.raises(ConfigError, match="echo"):
        config.from_dict({"writer": {"kind": "echo"}})
    with pytest.raises(ConfigError, match="headlines"):
        config.from_dict({"output": {"formats": ["md", "headlines"]}})


def test_a_plugin_writer_renderer_and_publisher_run_from_config(installed: Path, tmp_path: Path) -> None:
    log = tmp_path / "deliveries.jsonl"
    out = tmp_path / "out"
    with serve_directory(demo_dir()) as base:
        data = demo_config(base)
        data["edition"]["languages"] = ["en"]
        data.update(writer={"kind": "echo"}, output={"formats": ["md", "json", "headlines"]},
                    publish=[{"kind": "jsonl", "name": "log", "path": str(log)}],
                    storage={"path": str(tmp_path / "db.sqlite")})
        cfg = config.from_dict(data)
        assert cfg.publish[0].kind == "jsonl" and cfg.writer.kind == "echo"
        store = Store.open(cfg.db_url())
        try:
            pipe = Pipeline(cfg, store)
            report = pipe.run(date.fromisoformat(DEMO_DATE), out)
            again = pipe.run(date.fromisoformat(DEMO_DATE), out)
        finally:
            store.close()
    assert report.status == "ok", report.failures
    brief = json.loads((out / "brief.json").read_text("utf-8"))
    stories = [s for s in brief["sections"] if s["kind"] == "story"]
    assert stories and {s["writer"] for s in stories} == {"echo"}
    headlines = (out / "brief.headlines.txt").read_text("utf-8").splitlines()
    assert headlines == [s["title"] for s in stories]
    lines = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert lines == [{"day": DEMO_DATE, "files": ["brief.headlines.txt", "brief.json", "brief.md"]}]  # once, not twice
    assert again.status == "ok", again.failures
