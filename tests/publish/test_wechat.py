"""The wechat target against a stand-in of the official-account API on 127.0.0.1 (tests/wechatserver.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from briefs import make_brief, render_edition
from dailybrief import config
from dailybrief.demo import demo_dir
from dailybrief.publish.base import load_edition
from dailybrief.publish.delivery import deliver, make_target
from dailybrief.store import Store
from wechatserver import APPID, SECRET, wechat_server

DAY = date(2026, 4, 10)


@pytest.fixture
def edition(tmp_path: Path):
    brief = make_brief("zh")
    brief.branding.qr_url = "https://org.example/qr"
    brief.branding.logo = str(demo_dir() / "logo.png")
    brief.sections[0].paragraphs[0].sentences[0].text = '<script>alert(1)</script> 报道称 <img src="https://evil.example/x.png">'
    folder = tmp_path / "edition"
    render_edition(folder, [brief], formats=("html", "json"))
    return load_edition(folder, DAY)


def _cfg(base: str) -> config.Config:
    Path("dailybrief.toml").write_text(
        f'[[publish]]\nkind = "wechat"\nname = "mp"\napi_base = "{base}"\nauthor = "测试机构编辑部"\n', "utf-8")
    return config.load()


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_APPID", APPID)
    monkeypatch.setenv("WECHAT_SECRET", SECRET)


def test_an_edition_lands_in_the_draft_box_once(edition, creds) -> None:
    with wechat_server() as wx:
        cfg = _cfg(wx.base)
        store = Store.open(cfg.db_url())
        [d] = deliver(cfg, store, edition)
        assert d.status == "delivered" and "DRAFT1" in d.detail, d.detail
        assert wx.count("/cgi-bin/token") == 1  # one token for every call
        assert wx.count("/cgi-bin/media/uploadimg") == 2  # the logo and the QR code
        assert wx.count("/cgi-bin/material/add_material") == 1 and wx.problems == []
        [article] = wx.drafts[0]["articles"]
        assert article["title"] == "AI 技术每日分析" and article["author"] == "测试机构编辑部"
        assert article["thumb_media_id"] == "COVER1" and "data:image" not in article["content"]
        assert "<script>" not in article["content"] and '<img src="https://evil' not in article["content"]
        assert "&lt;script&gt;" in article["content"]  # the sentence's text, as text
        assert all(u in article["content"] for u in wx.images)
        [again] = deliver(cfg, store, edition)  # the next run, or a second approval
        assert again.status == "unchanged" and len(wx.drafts) == 1


def test_an_expired_token_is_fetched_again_and_the_call_made_once_more(edition, creds) -> None:
    with wechat_server() as wx:
        target = make_target(_cfg(wx.base).publish[0], _cfg(wx.base))
        target.token()
        wx.expire_next = 1  # the platform expires the token before its time (another client fetched one)
        assert "DRAFT1" in target.deliver(edition)
        assert wx.count("/cgi-bin/token") == 2 and wx.problems == []


@pytest.mark.parametrize(("path", "code", "words"), [
    ("/cgi-bin/token", 40164, "IP whitelist"),
    ("/cgi-bin/draft/add", 45009, "daily API call limit"),
    ("/cgi-bin/material/add_material", 48001, "verified"),
])
def test_error_codes_get_clear_messages_and_never_the_secret(edition, creds, path, code, words) -> None:
    with wechat_server() as wx:
        wx.forced[path] = {"errcode": code, "errmsg": "as the platform says it"}
        cfg = _cfg(wx.base)
        [d] = deliver(cfg, Store.open(cfg.db_url()), edition)
        assert d.status == "failed" and f"errcode {code}" in d.detail and words in d.detail
        assert SECRET not in d.detail and "TOKEN" not in d.detail and "access_token=" not in d.detail


def test_wrong_credentials_and_missing_env_vars(edition, creds, monkeypatch: pytest.MonkeyPatch) -> None:
    with wechat_server() as wx:
        monkeypatch.setenv("WECHAT_SECRET", "not-the-secret")
        cfg = _cfg(wx.base)
        [d] = deliver(cfg, Store.open(cfg.db_url()), edition)
        assert d.status == "failed" and "40125" in d.detail and "not-the-secret" not in d.detail
        monkeypatch.delenv("WECHAT_APPID")
        [d] = deliver(cfg, Store.open(cfg.db_url()), edition)
        assert d.status == "skipped" and "WECHAT_APPID" in d.detail
