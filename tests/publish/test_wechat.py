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
from dailybrief.render.formats import brief_view
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


def _brief(language: str, **kw):
    brief = make_brief(language, **kw)
    for k, sec in enumerate(s for s in brief.sections if s.kind == "story"):  # the coverage chart has bars to draw
        sec.coverage = {"press": 2 + k, "community": 1}
    brief.branding.qr_url = "https://org.example/qr"
    brief.branding.logo = str(demo_dir() / "logo.png")
    brief.url = f"https://org.example/2026-04-10/{language}"
    return brief


@pytest.fixture
def bilingual(tmp_path: Path):
    folder = tmp_path / "bilingual"
    render_edition(folder, [_brief("zh"), _brief("en")], formats=("html", "json"))
    return load_edition(folder, DAY)


def _cfg(base: str, extra: str = "") -> config.Config:
    Path("dailybrief.toml").write_text(
        f'[[publish]]\nkind = "wechat"\nname = "mp"\napi_base = "{base}"\nauthor = "测试机构编辑部"\n{extra}', "utf-8")
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


def test_each_language_edition_is_an_article_of_one_draft(bilingual, creds) -> None:
    with wechat_server() as wx:
        cfg = _cfg(wx.base)
        [d] = deliver(cfg, Store.open(cfg.db_path()), bilingual)
        assert d.status == "delivered" and "2 article(s) (zh, en" in d.detail, d.detail
        [draft] = wx.drafts
        zh, en = draft["articles"]
        assert (zh["title"], en["title"]) == ("AI 技术每日分析", "AI Daily Analysis") and wx.problems == []
        assert zh["content_source_url"].endswith("/zh") and en["content_source_url"].endswith("/en")
        assert zh["digest"] == en["digest"] == ""  # draft/add: only a one-article draft has a digest
        assert zh["thumb_media_id"] == en["thumb_media_id"]  # the one logo is the cover of both, uploaded once
        assert wx.count("/cgi-bin/material/add_material") == 1
        assert wx.count("/cgi-bin/media/uploadimg") == 2  # the logo and the QR code, once for both articles
        assert en["content"] != zh["content"] and all(u in zh["content"] + en["content"] for u in wx.images)
        for article, brief in ((zh, bilingual.briefs[0]), (en, bilingual.briefs[1])):  # the charts travel along,
            labels = brief_view(brief)["labels"]  # drawn as inline-styled bars (no image to upload)
            assert labels["coverage"] in article["content"] and "background-color:" in article["content"]


def test_a_target_with_a_language_sends_that_edition_alone(bilingual, creds) -> None:
    with wechat_server() as wx:
        cfg = _cfg(wx.base, 'language = "en"\n')
        [d] = deliver(cfg, Store.open(cfg.db_path()), bilingual)
        assert d.status == "delivered", d.detail
        [article] = wx.drafts[0]["articles"]
        assert article["title"] == "AI Daily Analysis" and article["digest"]


def test_an_article_over_the_content_limit_is_refused_before_any_upload(tmp_path: Path, creds) -> None:
    folder = tmp_path / "long"
    render_edition(folder, [_brief("zh"), _brief("en", sentences=400, long=True)], formats=("json",))
    edition = load_edition(folder, DAY)
    with wechat_server() as wx:
        cfg = _cfg(wx.base)
        [d] = deliver(cfg, Store.open(cfg.db_path()), edition)
        assert d.status == "failed" and "the en WeChat article is" in d.detail and "20,000 characters" in d.detail
        assert "top_stories" in d.detail and "`language`" in d.detail and "nothing was sent" in d.detail
        assert wx.calls == []  # no token, no upload: the check comes first


def test_a_gif_logo_is_uploaded_as_a_png(tmp_path: Path, creds) -> None:
    from PIL import Image

    gif = tmp_path / "logo.gif"
    Image.new("RGB", (32, 32), (200, 30, 30)).save(gif, "GIF")
    brief = _brief("zh")
    brief.branding.logo = str(gif)
    edition = render_edition(tmp_path / "gif", [brief], formats=("json",))
    with wechat_server() as wx:
        cfg = _cfg(wx.base)
        [d] = deliver(cfg, Store.open(cfg.db_path()), edition)
        assert d.status == "delivered", d.detail  # the stand-in, like uploadimg, refuses GIF
        assert wx.count("/cgi-bin/media/uploadimg") == 2 and wx.problems == []
