"""Text from config, feeds, errors and network answers is printed as itself: never read as Rich markup."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner
from rich.table import Table

from dailybrief.cli import main
from dailybrief.console import SafeConsole, styled
from echoserver import echo_server
from helpers import rss

HOSTILE = "[/oops] [bold red]Red[/bold red] [link=https://evil.example]click[/link] :skull:"


def _render(*objects) -> tuple[str, str]:
    plain = SafeConsole(file=io.StringIO(), width=200, force_terminal=False)
    styled_ = SafeConsole(file=io.StringIO(), width=200, force_terminal=True, color_system="truecolor")
    for o in objects:
        plain.print(o)
        styled_.print(o)
    return plain.file.getvalue(), styled_.file.getvalue()


def test_markup_in_text_is_printed_literally_never_applied() -> None:
    table = Table(title=HOSTILE)
    table.add_column("name")
    table.add_row(HOSTILE)
    text, ansi = _render(HOSTILE, table, styled(("✗", "red"), f" {HOSTILE}"))
    assert text.count("[/oops] [bold red]Red[/bold red] [link=https://evil.example]click[/link] :skull:") == 4
    assert "\x1b]8;" not in ansi  # no hyperlink escape: the [link=…] was not applied
    assert "\x1b[1;31m" not in ansi.replace("\x1b[31m✗", "")  # bold red was not applied either
    assert "\x1b[31m" in ansi  # only our own mark is coloured


def test_init_names_the_bracketed_sections() -> None:
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0
    assert "edit [branding] and [[sources]], then run" in result.output


def _feed(feed_dir: Path) -> None:
    (feed_dir / "f.xml").write_text(rss("F", [
        {"title": f"AI lab ships language model {HOSTILE}", "link": "https://f.example/1",
         "published": datetime(2026, 4, 10, 3, tzinfo=timezone.utc),
         "description": f"An AI lab shipped a new large language model today with better reasoning. {HOSTILE}"}]), "utf-8")


def _config(feed_server: str, extra: str = "") -> None:
    Path("dailybrief.toml").write_text(
        "[edition]\nlanguages = [\"en\"]\ncutoff = \"24:00\"\n[output]\nformats = [\"md\", \"json\"]\n"
        "[fetch]\nallow_private = [\"127.0.0.1\"]\nretries = 0\n"
        f"[[sources]]\nname = \"F\"\nurl = \"{feed_server}/f.xml\"\n"
        f"[[sources]]\nname = \"Down {HOSTILE}\"\nurl = \"{feed_server}/missing.xml\"\n" + extra, "utf-8")


def test_fetch_run_and_publish_survive_markup_from_config_feeds_and_answers(feed_dir: Path, feed_server: str,
                                                                             tmp_path: Path) -> None:
    _feed(feed_dir)
    with echo_server() as echo:
        echo.routes = {"/hook": (400, lambda post: f"rejected {HOSTILE}", 0.0)}
        _config(feed_server, f"[[publish]]\nkind = \"webhook\"\nname = \"hook\"\nurl = \"{echo.base}/hook\"\n"
                             "link = \"https://brief.example/{date}\"\nretries = 0\n")
        fetched = CliRunner().invoke(main, ["fetch"])
        ran = CliRunner().invoke(main, ["run", "--date", "2026-04-10", "--out", str(tmp_path / "o")])
        published = CliRunner().invoke(main, ["publish", "--dir", str(tmp_path / "o"), "--force"])
    for result in (fetched, ran, published):
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
        assert "MarkupError" not in result.output
    flat = " ".join(fetched.output.split())
    assert f"Down {HOSTILE}: HTTP 404" in flat  # the config's name, whole
    assert f"rejected {HOSTILE}" in " ".join(published.output.split())  # the network's answer, whole
    assert "rejected [/oops]" in " ".join(ran.output.split())


def test_a_slow_sources_hint_keeps_its_bracketed_key() -> None:
    from httpd import hang, serve

    with serve() as srv:
        srv.route("/slow.xml", hang(5))
        Path("dailybrief.toml").write_text(
            f'[fetch]\ntimeout = 0.5\nretries = 0\n[[sources]]\nname = "Slow"\nurl = "{srv.url("/slow.xml")}"\n',
            "utf-8")
        result = CliRunner().invoke(main, ["fetch"])
    flat = " ".join(result.output.split())
    assert "(raise [fetch].timeout if it is just slow)" in flat
