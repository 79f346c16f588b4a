from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zlib import crc32

import numpy as np

from dailybrief.ids import canonical_url, content_hash, text_hash
from dailybrief.records import Item
from dailybrief.store import Store
from dailybrief.stories.dedup import (
    _PERM_A,
    _PERM_B,
    article_page,
    dedup_new,
    exact_duplicates,
    jaccard,
    mark_near_duplicates,
    minhash,
    minhash_many,
    near_duplicates,
    shingles,
    sign_texts,
)


def test_canonical_url_strips_tracking_and_noise() -> None:
    assert canonical_url("HTTP://WWW.Example.com:80/a/b/?utm_source=rss&id=3&fbclid=x#frag") == \
        "https://example.com/a/b?id=3"
    assert canonical_url("https://example.com/a?b=2&a=1") == canonical_url("https://example.com/a?a=1&b=2")
    assert canonical_url("https://example.com:8443/x") == "https://example.com:8443/x"


def test_content_hash_is_stable_and_distinct() -> None:
    assert content_hash("a", 1) == content_hash("a", 1) != content_hash("a", 2)
    assert text_hash("Title", "Body  text") == text_hash("title", "body text")


def test_exact_duplicates_point_at_the_earliest() -> None:
    def item(i: str, h: str, hour: int) -> Item:
        return Item(id=i, source_id="s", source_name="S", tier="press", url=i, canonical_url=i, title=i,
                    content_hash=h, published=datetime(2026, 4, 10, hour, tzinfo=timezone.utc))

    dupes = exact_duplicates([item("b", "h", 5), item("a", "h", 3), item("c", "other", 1)])
    assert dupes == {"b": "a"}


def test_a_later_fetch_of_stored_content_is_marked_a_copy_of_the_stored_item(tmp_path: Path) -> None:
    def item(i: str, h: str, hour: int) -> Item:
        return Item(id=i, source_id=i, source_name=i, tier="press", url=f"https://{i}.example/",
                    canonical_url=f"https://{i}.example/", title=f"Report {h}", text=f"The text of report {h}.",
                    content_hash=h, published=datetime(2026, 4, 10, hour, tzinfo=timezone.utc))

    store = Store.open(tmp_path / "d.db")
    first = [item("b1", "h1", 1), item("b2", "h2", 2)]
    store.add_items(first)
    assert dedup_new(store, first)["duplicates"] == 0
    # the next fetch: h1 again under two newer ids (both copies of the stored b1, not the second a copy of the
    # first), h2 under an id that sorts before the stored one (no copy by its hash; its text makes it a near
    # copy of the earlier b2), and new content
    later = [item("c1", "h1", 5), item("c2", "h1", 6), item("a2", "h2", 7), item("c3", "h3", 8)]
    store.add_items(later)
    assert dedup_new(store, later) == {"duplicates": 2, "near_duplicates": 1}
    marks = {i.id: i.duplicate_of for i in store.items([i.id for i in first + later])}
    assert marks == {"b1": None, "b2": None, "c1": "b1", "c2": "b1", "a2": "b2", "c3": None}


# -- near-duplicates ---------------------------------------------------------------------------------------


ARTICLE = ("Google, OpenAI and Anthropic have begun sharing information through the Frontier Model Forum to detect "
           "and block outside companies that copy their models by distillation. The forum was founded in 2023. "
           "Bloomberg first reported the cooperation on Thursday, citing people familiar with the effort.")
ZH = ("据彭博社报道，谷歌、OpenAI 和 Anthropic 正通过前沿模型论坛共享安全情报，"
      "联合识别并阻止外部公司用模型蒸馏手段获取其模型能力。前沿模型论坛成立于 2023 年。")


def news(key: str, title: str, text: str, hour: int, language: str = "en", tier: str = "press") -> Item:
    return Item(id=key, source_id=key, source_name=key, tier=tier, url=f"https://{key}.example/a",
                canonical_url=f"https://{key}.example/a", title=title, text=text, language=language,
                published=datetime(2026, 4, 10, hour, tzinfo=timezone.utc))


def test_shingles_are_character_trigrams_for_chinese_and_word_trigrams_for_english() -> None:
    assert shingles("模型蒸馏") == {"模 型 蒸", "型 蒸 馏"}
    assert shingles("The Frontier Model Forum met") == {"the frontier model", "frontier model forum", "model forum met"}
    assert "与 coreweave 签" in shingles("Meta 与 CoreWeave 签下协议")
    assert shingles("") == set() and shingles("hi") == {"hi"}


def test_minhash_estimates_jaccard() -> None:
    a = ARTICLE
    b = ARTICLE.replace("Thursday", "Friday").replace("founded in 2023", "set up in 2023")
    true = len(shingles(a) & shingles(b)) / len(shingles(a) | shingles(b))
    assert abs(jaccard(minhash(a), minhash(b)) - true) < 0.12
    assert np.array_equal(minhash(a), minhash(a))  # stable
    assert jaccard(minhash(a), minhash(ZH)) < 0.1


def test_minhash_values_are_the_plain_formula_over_crc32_shingles() -> None:
    """The signatures are stored, so a faster computation must give the very same values: min over shingles
    of ((a·h + b) mod 2^64) mod (2^61 - 1), low 32 bits, computed here with Python's integers."""
    def plain(text: str) -> list[int]:
        hashes = [crc32(s.encode()) for s in shingles(text)]
        return [min(((h * int(a) + int(b)) % 2**64) % (2**61 - 1) & 0xFFFFFFFF for h in hashes)
                for a, b in zip(_PERM_A, _PERM_B, strict=True)] if hashes else [0xFFFFFFFF] * len(_PERM_A)

    texts = [ARTICLE, ZH, "", "one", "two words", ARTICLE[:200]] * 3  # more texts than one chunk
    many = minhash_many(texts)
    for row, text in zip(many, texts, strict=True):
        assert row.tolist() == plain(text)
    assert minhash(ZH).tolist() == plain(ZH)


def test_syndicated_and_reposted_copies_are_near_duplicates_but_translations_are_not() -> None:
    original = news("ledger", "Google, OpenAI and Anthropic team up against model distillation", ARTICLE, 3)
    copy = news("circuit", "Google, OpenAI and Anthropic team up against distillation",
                ARTICLE + " This article first appeared in TechLedger.", 5)
    zh = news("qianshao", "谷歌、OpenAI、Anthropic 联手防范模型蒸馏", ZH, 4, "zh")
    zh_repost = news("suanli", "谷歌、OpenAI、Anthropic 联手防范模型蒸馏（转载）", "本文转载自 AI 前哨。" + ZH, 6, "zh")
    other = news("other", "Meta signs a $21 billion deal with CoreWeave",
                 "Meta has agreed a $21 billion AI infrastructure deal with CoreWeave.", 2)
    items = [copy, zh_repost, other, zh, original]
    sigs = {i.id: minhash(f"{i.title}\n{i.body}") for i in items}
    found = {d.item_id: d.of for d in near_duplicates(items, sigs)}
    assert found == {"circuit": "ledger", "suanli": "qianshao"}
    # Against earlier items: a copy of a stored original points at it.
    again = near_duplicates([copy], sigs, pool=[original, zh])
    assert [(d.item_id, d.of) for d in again] == [("circuit", "ledger")] and again[0].similarity > 0.6


def test_near_duplicates_are_marked_in_the_store_once(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "d.db")
    original = news("ledger", "Labs team up against distillation", ARTICLE, 3)
    store.add_items([original])
    assert mark_near_duplicates(store, [original]) == []
    copy = news("circuit", "Labs team up against distillation (syndicated)", ARTICLE + " Via TechLedger.", 9)
    store.add_items([copy])
    [dup] = mark_near_duplicates(store, [copy])
    assert (dup.item_id, dup.of) == ("circuit", "ledger")
    assert store.items(["circuit"])[0].duplicate_of == "ledger"
    assert set(store.signatures(["ledger", "circuit"])) == {"ledger", "circuit"}
    window = (datetime(2026, 4, 10, tzinfo=timezone.utc), datetime(2026, 4, 11, tzinfo=timezone.utc))
    assert [i.id for i in store.items_between(*window)] == ["ledger"]


def test_a_big_batch_is_signed_over_worker_processes_with_the_same_rows_in_the_same_order() -> None:
    texts = [f"{ARTICLE} Report number {n} of the day, from desk {n % 7}." for n in range(40)] + ["", ZH]
    alone = minhash_many(texts)
    split = sign_texts(texts, workers=2, parallel_min=10)
    assert split.shape == alone.shape and (split == alone).all()
    assert not (split[0] == split[1]).all()  # rows differ where the texts do: nothing was shuffled or repeated


# -- the page of one article --------------------------------------------------------------------------------


def test_an_article_page_is_a_page_of_one_article_not_a_home_page() -> None:
    assert article_page("https://www.Example.com/2026/04/story?utm_source=x") == "https://example.com/2026/04/story"
    assert article_page("https://github.com/acme/voice") == "https://github.com/acme/voice"
    assert article_page("https://news.example/item?id=7") == "https://news.example/item?id=7"
    for home in ("https://example.com/", "https://example.com", "https://example.com/index.html",
                 "https://example.com/en/", "https://github.com/", "https://github.com/trending",
                 "https://github.com/acme", "https://huggingface.co/acme"):
        assert article_page(home) == "", home
