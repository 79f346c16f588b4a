"""Chat targets against a local server that checks payloads, sizes and signatures like each platform does."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import chatserver
from briefs import make_brief
from dailybrief import config
from dailybrief.errors import NotConfigured, PublishError
from dailybrief.publish.base import Edition
from dailybrief.publish.delivery import make_target
from dailybrief.records import Brief
from dailybrief.render.digest import join_sentences

LINK = "https://brief.example.org/2026-04-10/brief.html"
PLATFORMS = ["feishu", "dingtalk", "wecom", "slack", "telegram", "hook"]


def target(server: chatserver.ChatServer, name: str, **over: Any) -> Any:
    entries = [{**t, **over} if t["name"] == name else t for t in chatserver.targets(server.base)]
    cfg = config.from_dict({"edition": {"languages": ["zh", "en"]}, "publish": entries})
    return make_target(next(t for t in cfg.publish if t.name == name), cfg)


def edition(*briefs: Brief) -> Edition:
    return Edition(briefs[0].edition, list(briefs))


def message_parts(platform: str, got: chatserver.Received) -> tuple[str, list[str], str]:
    """(abstract text, headline lines, whole text) of a received edition message, read the platform's way."""
    data = got.json
    if platform == "feishu":
        post = next(iter(data["content"]["post"].values()))
        rows = post["content"]
        texts = [cell.get("text", "") for row in rows for cell in row]
        links = [cell["href"] for row in rows for cell in row if cell["tag"] == "a"]
        whole = "\n".join([post["title"], *texts, *links])
        return texts[0], [t for t in texts if t[:1].isdigit() and ". " in t], whole
    if platform in ("dingtalk", "wecom"):
        text = data["markdown"]["text" if platform == "dingtalk" else "content"]
    elif platform == "slack":
        text = data["text"]
    else:
        text = data["text"]
    blocks = text.split("\n\n")
    lines = [ln for ln in text.splitlines() if ln[:1].isdigit() and ". " in ln]
    return blocks[1], lines, text


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_platform_accepts_a_signed_edition_with_abstract_headlines_and_link(server, platform: str) -> None:
    brief = make_brief("zh")
    detail = target(server, platform).deliver(edition(brief, make_brief("en")))
    [got] = server.of(platform)
    assert got.accepted, got.answer  # the server recomputed the signature / checked the key and format
    abstract, headlines, whole = message_parts(platform, got)
    assert abstract == join_sentences([s.text for s in brief.abstract[0].sentences])
    assert headlines == [f"{i}. {s.title}" for i, s in enumerate(brief.sections[:4], 1)]
    assert LINK in whole and "AI 技术每日分析" in whole and "2026 年 4 月 10 日" in whole
    assert detail


def test_platform_formats(server) -> None:
    ed = edition(make_brief("zh"), make_brief("en"))
    for name in PLATFORMS:
        target(server, name).deliver(ed)
    feishu = server.of("feishu")[0].json
    assert feishu["msg_type"] == "post" and "zh_cn" in feishu["content"]["post"]
    assert feishu["content"]["post"]["zh_cn"]["title"] == "AI 技术每日分析 · 2026 年 4 月 10 日"
    ding = server.of("dingtalk")[0]
    assert ding.json["msgtype"] == "markdown" and f"[阅读全文]({LINK})" in ding.json["markdown"]["text"]
    assert set(ding.query) == {"access_token", "timestamp", "sign"}
    assert server.of("wecom")[0].json["msgtype"] == "markdown"
    assert f"<{LINK}|阅读全文>" in server.of("slack")[0].json["text"]
    tg = server.of("telegram")[0].json
    assert tg["chat_id"] == "@brief" and tg["link_preview_options"] == {"is_disabled": True}
    hook = server.of("hook")[0]
    assert hook.json["type"] == "edition" and hook.json["edition"] == "2026-04-10" and hook.json["link"] == LINK
    assert hook.headers["x-dailybrief-signature"].startswith("sha256=")
    # An English target gets the English brief and its own link.
    target(server, "slack", language="en").deliver(ed)
    text = server.of("slack")[-1].json["text"]
    assert "AI Daily Analysis" in text and "<https://brief.example.org/2026-04-10/brief.en.html|Read the full briefing>" in text


LIMITS = {"feishu": ("body", 20 * 1024), "dingtalk": ("body", 20_000), "wecom": ("content", 4096),
          "slack": ("chars", 4000), "telegram": ("utf16", 4096), "hook": ("chars", 4000)}


def measured(platform: str, got: chatserver.Received) -> int:
    unit, _ = LIMITS[platform]
    if unit == "body":
        return len(got.body)
    if unit == "content":
        return len(got.json["markdown"]["content"].encode())
    text = got.json["text"]
    return len(text.encode("utf-16-le")) // 2 if unit == "utf16" else len(text)


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_long_edition_fits_the_limit_in_whole_sentences(server, platform: str, language: str) -> None:
    brief = make_brief(language, sentences=80, headlines=30, long=True)
    target(server, platform, language=language).deliver(Edition(brief.edition, [brief]))
    [got] = server.of(platform)
    assert got.accepted, got.answer
    assert measured(platform, got) <= LIMITS[platform][1]
    abstract, headlines, whole = message_parts(platform, got)
    sentences = [s.text for s in brief.abstract[0].sentences]
    # The abstract is the first k whole sentences, k >= 1: never a cut sentence.
    ks = [k for k in range(1, len(sentences) + 1) if abstract == join_sentences(sentences[:k])]
    assert ks, abstract[-80:]
    assert ks[0] < len(sentences)  # the limit did bite
    # Headlines are whole and in order, from the first; the rest are counted, not cut.
    titles = [s.title for s in brief.sections if s.kind == "story"]
    assert headlines == [f"{i}. {t}" for i, t in enumerate(titles[: len(headlines)], 1)]
    assert headlines, "at least one headline fits"
    assert str(len(titles) - len(headlines)) in whole  # "另有 N 条" / "N more"
    assert "2026-04-10/brief.html" in whole


def test_wrong_secret_is_refused_and_the_error_names_no_secret(server, monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("T_FEISHU_SECRET", "not-the-secret")
    monkeypatch.setenv("T_DINGTALK_SECRET", "SECnot-the-secret")
    monkeypatch.setenv("T_HOOK_SECRET", "wrong")
    ed = edition(make_brief("zh"))
    errors = []
    for name, expect in (("feishu", "19021"), ("dingtalk", "310000"), ("hook", "401")):
        with pytest.raises(PublishError) as err:
            target(server, name).deliver(ed)
        assert expect in str(err.value) and f"'{name}'" in str(err.value) and "127.0.0.1" in str(err.value)
        errors.append(str(err.value))
    monkeypatch.setenv("T_WECOM_URL", server.base + "/wecom/cgi-bin/webhook/send?key=wrongkey-5566")
    with pytest.raises(PublishError, match="93000"):
        target(server, "wecom").deliver(ed)
    monkeypatch.setenv("T_TELEGRAM_TOKEN", "999:wrong-token-777")
    with pytest.raises(PublishError, match="Unauthorized") as err:
        target(server, "telegram").deliver(ed)
    errors.append(str(err.value))
    everything = "\n".join(errors) + caplog.text
    for secret in (*chatserver.SECRETS, "not-the-secret", "wrongkey-5566", "wrong-token-777"):
        assert secret not in everything


def test_missing_env_var_means_not_configured(server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("T_TELEGRAM_TOKEN")
    with pytest.raises(NotConfigured, match="T_TELEGRAM_TOKEN is not set"):
        target(server, "telegram")
    monkeypatch.delenv("T_FEISHU_SECRET")
    with pytest.raises(NotConfigured, match="T_FEISHU_SECRET"):
        target(server, "feishu")
    monkeypatch.setenv("T_SLACK_URL", "hooks.slack.example/no-scheme")
    with pytest.raises(NotConfigured, match="http"):
        target(server, "slack")


def test_a_busy_platform_is_retried_within_the_run(server) -> None:
    server.fail_next["slack"] = [503]
    target(server, "slack", retries=1).deliver(edition(make_brief("zh")))
    assert [r.accepted for r in server.of("slack")] == [False, True]
    server.fail_next["slack"] = [503]
    with pytest.raises(PublishError, match="HTTP 503 after 1 attempt"):
        target(server, "slack", retries=0).deliver(edition(make_brief("zh")))


def test_a_rate_limited_platform_is_retried_after_the_wait_it_asks_for(server) -> None:
    server.fail_next["slack"] = [(429, {"Retry-After": "1"})]
    target(server, "slack", retries=1).deliver(edition(make_brief("zh")))
    first, second = server.of("slack")
    assert [first.accepted, second.accepted] == [False, True]
    assert second.at - first.at >= 0.95  # the second try waited the second asked for, not the 0.5 s backoff


def test_a_platform_asking_for_a_longer_wait_than_we_give_is_left_for_the_next_run(server) -> None:
    server.fail_next["hook"] = [(429, {"Retry-After": "3600"})]
    with pytest.raises(PublishError, match=r"HTTP 429 asking us to wait 3600 s, more than the 60 s we wait after 1 "):
        target(server, "hook", retries=3).deliver(edition(make_brief("zh")))
    assert len(server.of("hook")) == 1  # not asked again within the run


def test_feed_text_cannot_inject_markup_into_chat_markdown(server) -> None:
    evil = "Lab ships [click me](https://evil.example) <at user_id=\"all\"></at> # title"
    ed = edition(make_brief("en", headline=evil))
    for name in ("dingtalk", "wecom", "slack"):
        target(server, name, language="en").deliver(ed)
    ding = server.of("dingtalk")[0].json["markdown"]["text"]
    wecom = server.of("wecom")[0].json["markdown"]["content"]
    for text in (ding, wecom):
        assert "](https://evil.example)" not in text and "<at" not in text
        assert "click me" in text  # the words stay, as text
    slack = server.of("slack")[0].json["text"]
    assert "&lt;at user_id" in slack and "<at" not in slack


def test_alert_messages_fit_in_whole_lines(server) -> None:
    lines = [f"Source {n}: cannot connect to feeds{n}.example (connection refused); check the URL" for n in range(400)]
    for name in PLATFORMS:
        target(server, name).alert("[dailybrief] 2026-04-10 degraded: 400 failing sources", lines)
    for name in PLATFORMS:
        [got] = server.of(name)
        assert got.accepted, (name, got.answer)
        data = got.json
        text = (data.get("content", {}).get("text") or data.get("text", {}).get("content") if name in
                ("feishu", "dingtalk", "wecom") else data["text"])
        assert text.startswith("[dailybrief] 2026-04-10 degraded")
        shown = [ln[2:] for ln in text.splitlines()[1:]]
        assert shown[:-1] == lines[: len(shown) - 1] and len(shown) > 5
        assert f"and {400 - (len(shown) - 1)} more" in shown[-1]


@pytest.mark.parametrize(("entry", "key", "fix"), [
    ({"kind": "slack", "url": "https://hooks.example/x", "url_env": "X"}, "publish[0]", "exactly one of url"),
    ({"kind": "slack"}, "publish[0]", "exactly one of url"),
    ({"kind": "slack", "url": "hooks.example/x"}, "publish[0].url", "http://"),
    ({"kind": "feishu", "url_env": "X", "secret_env": "9f8e7d6c5b4a3f2e1d"}, "publish[0].secret_env", "NAME"),
    ({"kind": "telegram", "chat_id": "@c"}, "publish[0].token_env", "required"),
    ({"kind": "slak", "url": "https://hooks.example/x"}, "publish[0].kind", "feishu, dingtalk, wecom, slack"),
    ({"kind": "slack", "url": "https://hooks.example/x", "link": ""}, "publish[0].link", "base_url"),
    ({"kind": "wecom", "url": "https://hooks.example/x", "secret_env": "S"}, "publish[0].secret_env", "unknown"),
])
def test_bad_chat_config_names_key_and_fix(entry: dict, key: str, fix: str) -> None:
    entry = {"name": "c", "link": "https://brief.example.org/{date}/", **entry}
    if entry["link"] == "":
        del entry["link"]
    with pytest.raises(config.ConfigError) as err:
        config.from_dict({"publish": [entry]})
    assert err.value.key == key and fix in str(err.value)
    assert "9f8e7d6c5b4a3f2e1d" not in str(err.value)  # a secret pasted into *_env is not echoed back


def test_chat_link_defaults_to_the_site(server) -> None:
    cfg = config.from_dict({"publish": [{"kind": "site", "base_url": "https://brief.example.org/"},
                                        {"kind": "slack", "name": "s", "url_env": "T_SLACK_URL"}]})
    t = make_target(cfg.publish[1], cfg)
    t.deliver(edition(make_brief("zh")))
    assert f"<{LINK}|阅读全文>" in server.of("slack")[0].json["text"]
    with pytest.raises(config.ConfigError, match="share this name"):
        config.from_dict({"publish": [{"kind": "site", "name": "a"}, {"kind": "folder", "name": "a"}]})
