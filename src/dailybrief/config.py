"""Configuration: packaged defaults, overridden key by key by the user's TOML file.

Validation happens here and only here. A bad value raises one ``ConfigError``
that names the key, the value and the fix.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from . import plugins, redact
from .cron import cron_trigger
from .errors import ConfigError
from .glossary import Glossary
from .images import logo_problem
from .ingest import sources as source_kinds
from .ingest.http import FetchSettings
from .netguard import parse_allow
from .records import DEFAULT_EDITION, TIERS, Branding, Source
from .store import is_postgres, shown

_S = TypeVar("_S")


def stage_settings(cls: type[_S], section: BaseModel, **derived: Any) -> _S:
    """The one way a config section becomes a stage's settings: every field the two share, by name, and then
    ``derived``, the values the stage computes from its section (a tuple for a list, records for tables)."""
    shared = {f.name for f in dataclasses.fields(cls)} & set(type(section).model_fields)  # type: ignore[arg-type]
    return cls(**{**{n: getattr(section, n) for n in shared}, **derived})


@dataclass(slots=True)
class CheckSettings:
    semantic: float = 0.65  # same language: a sentence (or pair) of the passage at least this close
    cross_semantic: float = 0.40  # a Chinese claim on an English passage, or the reverse
    lexical: float = 0.5  # or this share of the claim's content words in the passage (same language)
    off_topic: float = 0.30  # below this the claim is about something else
    analysis_semantic: float = 0.35  # analysis: on the topic of the passage


CHECK_DEFAULTS = CheckSettings()

AI_DESCRIPTION = ("Artificial intelligence: AI models and language models, AI labs, AI products and agents, "
                  "machine learning research, compute for AI, and AI policy.")
AI_TOPICS = (
    "a new AI language model release from an AI lab",
    "an AI chatbot or AI coding agent product",
    "machine learning and deep learning research on neural networks",
    "GPUs, AI chips and data centres for training AI models",
    "government policy and regulation of artificial intelligence",
    "an open-source LLM tool, AI agent framework or model weights",
    "人工智能大模型发布",
)
# The beat's own sites: the AI labs' (a subdomain counts). A link to one of their pages, posted anywhere, is the
# lab's own post (rank.py), except a status page or forum (LAB_SITE_NOT).
AI_SITES = (
    "openai.com", "anthropic.com", "claude.com", "blog.google", "deepmind.google", "research.google", "ai.google.dev",
    "ai.meta.com", "mistral.ai", "x.ai", "deepseek.com", "qwen.ai", "qwenlm.github.io", "moonshot.ai", "z.ai",
    "minimax.io", "thinkingmachines.ai", "cohere.com", "stability.ai", "seed.bytedance.com", "machinelearning.apple.com",
    "huggingface.co/blog", "nvidia.com/blog", "blogs.nvidia.com", "microsoft.com/research",
)
# Terms that name the beat outright. Latin terms match as whole words (case as written when the term has capitals
# inside a word, so "AI" is not "ai" in a URL slug, else case-insensitively); CJK terms as substrings.
AI_TERMS = (
    "AI", "A.I.", "AGI", "artificial intelligence", "machine learning", "deep learning", "neural network",
    "neural networks", "neural", "LLM", "LLMs", "language model", "language models", "foundation model",
    "GPT", "ChatGPT", "Claude", "Claude Code", "Gemini", "Llama", "Mistral", "Qwen", "DeepSeek", "Kimi", "Grok",
    "OpenAI", "Anthropic", "DeepMind", "Hugging Face", "Copilot", "Codex", "Sora", "Cursor", "OpenClaw", "Ollama",
    "llama.cpp", "GGUF", "LoRA", "MCP", "RAG", "agent", "agents", "agentic", "chatbot", "chatbots", "prompt",
    "prompts", "prompt injection", "inference", "fine-tuning", "fine-tune", "transformer", "transformers",
    "diffusion model", "embeddings", "quantization", "vibe coding", "vibe-coded", "reasoning model",
    "open weights", "open-weight", "open model", "open models", "NPU", "TPU", "Neural Engine", "computer vision",
    "speech-to-text",
    "text-to-speech", "speech-to-speech", "voice AI", "tokenizer", "pretraining", "pre-training", "vision-language",
    "1-bit", "parameters", "generative", "pose estimation", "SOTA", "object detection", "speech recognition",
    "benchmark", "multimodal", "GPT-5", "Nano Banana", "Midjourney",
    "Stable Diffusion", "PyTorch", "TensorFlow", "JAX", "CUDA", "vLLM", "SGLang", "Unsloth", "ComfyUI",
    "SWE-bench", "ARC-AGI", "Sam Altman", "Altman", "Dario Amodei", "Amodei", "Demis Hassabis", "Yann LeCun",
    "LeCun", "Karpathy", "Sutskever", "Mythos", "Sonnet", "Opus", "Gemma", "Phi-4",
    "人工智能", "大模型", "模型", "智能体", "机器学习", "深度学习", "神经网络", "算力", "生成式",
)

LANGUAGES = ("zh", "en")
# Output formats: md, html (standalone page), wechat (brief.wechat.html for the
# 公众号 editor), chat (brief.chat.md, a short message), txt (the whole brief
# as plain text), pdf, json.
FORMATS = ("md", "html", "wechat", "chat", "txt", "pdf", "json")
Format = Literal["md", "html", "wechat", "chat", "txt", "pdf", "json"]
WRITER_KINDS = ("extractive", "openai")  # the built-in writers; plugins add theirs (dailybrief.writers)


def _registered(name: str, builtin: tuple[str, ...], group: str, what: str) -> str:
    """A built-in name or one an installed plugin declares in `group`."""
    if name in builtin:
        return name
    installed = plugins.declared(group)
    if name not in installed:
        raise ValueError(f"unknown {what} {name!r}; use one of {', '.join([*builtin, *installed])}")
    return name


def _format(name: str) -> str:
    return _registered(name, FORMATS, plugins.RENDERERS, "output format")


Tier = Literal["official", "press", "community", "paper", "code"]
Language = Literal["zh", "en"]


def _check_zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("use an IANA time zone name such as 'Asia/Shanghai' or 'UTC'") from None
    return v


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceConfig(_Model):
    """One [[sources]] entry: the common keys here, the kind's own keys (categories, repos, ...) as extras."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    kind: str = "rss"
    url: str = ""  # optional for kinds with a default (hackernews, reddit, arxiv, github)
    tier: Tier | None = None  # default: the kind's (community for hackernews/reddit, paper, code, else press)
    language: Language = "en"
    enabled: bool = True
    comments: bool = True
    full_text: bool = False
    ranked: bool | None = None  # its feed is a ranked listing; default: the kind's (its front page, a hot list)
    tags: list[str] = Field(default_factory=list)  # what [[editions]] entries may name it by, besides its name

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("use an http:// or https:// URL")
        if v and not urlsplit(v).hostname:
            raise ValueError("the URL has no host; write the whole address, e.g. 'https://example.com/feed.xml'")
        return v

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if source_kinds.get(v) is None:
            raise ValueError(f"unknown source kind; use one of {', '.join(source_kinds.names())}")
        return v

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def to_source(self) -> Source:
        kind = source_kinds.get(self.kind)
        assert kind is not None  # checked by _known_kind
        url = self.url or kind.default_url
        return Source(
            name=self.name, kind=self.kind, url=url, tier=self.tier or kind.default_tier,
            language=self.language, comments=self.comments, full_text=self.full_text,
            ranked=self.ranked if self.ranked is not None else source_kinds.ranked_listing(kind, url, self.options),
            options=self.options, key=kind.identity(url, self.options),
        )


DEFAULT_TITLES: dict[str, str] = {"zh": "AI 技术每日分析", "en": "AI Technology Daily"}
_CUTOFF = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def parse_cutoff(v: str) -> tuple[int, int]:
    """"07:30" -> (7, 30); "24:00" is the end of the day."""
    hour, minute = v.split(":")
    return int(hour), int(minute)


class BeatConfig(_Model):
    """What the edition covers: a description, topic phrases and the terms that name it (see beat.py)."""

    name: str = Field("AI", min_length=1)
    description: str = Field(AI_DESCRIPTION, min_length=1)
    topics: list[str] = Field(default_factory=lambda: list(AI_TOPICS), min_length=1)
    terms: list[str] = Field(default_factory=lambda: list(AI_TERMS))
    sites: list[str] = Field(default_factory=lambda: list(AI_SITES))
    cut: float = Field(0.5, ge=0, le=1)


class EditionConfig(_Model):
    # The edition's name: its records in the store, and (with [[editions]]) its folder under [output].dir.
    name: str = DEFAULT_EDITION
    # One title for every edition, or one per language: {zh = "…", en = "…"}.
    title: str | dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_TITLES))
    languages: list[Language] = Field(default_factory=lambda: list[Language](["zh"]), min_length=1)
    timezone: str = "Asia/Shanghai"
    # Edition D covers (cutoff on D-1, cutoff on D], local time in `timezone`: editions tile time.
    cutoff: str = "07:30"
    # How many days one edition covers, up to its cutoff: 1 a daily, 7 a weekly (run it weekly: its cron).
    days: int = Field(1, ge=1, le=31)

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError("use a short slug of lower-case letters, digits, '-' and '_', e.g. name = \"ai-daily\"; "
                             "it names the edition's folder and its records")
        return v

    @field_validator("languages")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        twice = sorted({x for x in v if v.count(x) > 1})
        if twice:
            raise ValueError(f"{twice[0]!r} is listed twice; list each language once, e.g. [\"zh\", \"en\"]")
        return v
    top_stories: int = Field(5, ge=1, le=50)
    roundup_items: int = Field(8, ge=0, le=100)
    beat: BeatConfig = Field(default_factory=BeatConfig)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return _check_zone(v)

    @model_validator(mode="before")
    @classmethod
    def _no_window_hours(cls, data: Any) -> Any:
        if isinstance(data, dict) and "window_hours" in data:
            raise ConfigError("edition.window_hours", data["window_hours"],
                              "this key is gone: editions now tile time, edition D covering (cutoff on D-1, cutoff "
                              "on D]; remove it and set edition.cutoff = \"HH:MM\" (default \"07:30\")")
        return data

    @field_validator("cutoff")
    @classmethod
    def _cutoff(cls, v: str) -> str:
        if not _CUTOFF.match(v.strip()):
            raise ValueError("use a local time \"HH:MM\" from \"00:00\" to \"24:00\", e.g. cutoff = \"07:30\"")
        return v.strip()

    def window(self, day: date) -> tuple[datetime, datetime]:
        """(start, end] of edition `day`: from the cutoff `days` days before (the day before, for a daily) to the
        cutoff on `day`."""
        hour, minute = parse_cutoff(self.cutoff)
        end_day, at = (day + timedelta(days=1), dtime(0)) if hour == 24 else (day, dtime(hour, minute))
        end = datetime.combine(end_day, at, tzinfo=self.tz)
        start = datetime.combine(end_day - timedelta(days=self.days), at, tzinfo=self.tz)
        return start, end

    def due(self, now: datetime) -> date:
        """The latest edition whose window has closed at `now`: today's once the cutoff has passed, else yesterday's."""
        today = now.astimezone(self.tz).date()
        return today if self.window(today)[1] <= now else today - timedelta(days=1)

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, v: Any) -> Any:
        example = 'title = "AI 技术每日分析", or one per language: title = {zh = "AI 技术每日分析", en = "AI Daily"}'
        if isinstance(v, dict):
            bad = [k for k in v if k not in ("zh", "en")]
            if bad or not v or not all(isinstance(t, str) and t.strip() for t in v.values()):
                why = f"{bad[0]!r} is not an edition language ('zh' or 'en')" if bad else "each title must be text"
                raise ValueError(f"{why}; write {example}")
        elif not isinstance(v, str) or not v.strip():
            raise ValueError(f"give the briefing a title: {example}")
        return v

    def title_for(self, language: str) -> str:
        """The title of the edition in `language`: its own, else the title given for the first language."""
        if isinstance(self.title, str):
            return self.title
        return self.title.get(language) or self.title.get(self.languages[0]) or next(iter(self.title.values()))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class BrandingConfig(_Model):
    organisation: list[str] = Field(default_factory=lambda: ["Your Organisation"])
    website: str = ""
    contact: list[str] = Field(default_factory=list)
    qr_url: str = ""
    qr_caption: str = ""
    logo: str = ""
    about: str = ""

    def to_branding(self, base: Path | None = None) -> Branding:
        logo = self.logo
        if logo and base is not None and not Path(logo).is_absolute():
            logo = str((base / logo).resolve())
        return Branding(
            organisation=list(self.organisation), website=self.website, contact=list(self.contact),
            qr_url=self.qr_url, qr_caption=self.qr_caption, logo=logo, about=self.about,
        )


# What a model call's prompt holds besides the passages, in tokens (the system prompt's rules, the delimiters),
# what each passage's JSON fields add, and what one story adds to the abstract's prompt (its title and facts).
PROMPT_FRAME_TOKENS = 900
PASSAGE_FRAME_TOKENS = 30
ABSTRACT_TOKENS_PER_STORY = 400


class WriterConfig(_Model):
    kind: str = "extractive"  # a built-in writer (WRITER_KINDS) or a plugin's
    base_url: str = ""
    model: str = ""
    api_key_env: str = "DAILYBRIEF_API_KEY"
    timeout: float = Field(60.0, gt=0)
    retries: int = Field(2, ge=0, le=10)
    backoff: float = Field(1.0, ge=0, le=60)
    requests_per_minute: float = Field(0, ge=0)
    max_tokens: int = Field(1500, ge=16, le=32_000)
    temperature: float = Field(0.0, ge=0, le=2)
    token_budget: int = Field(200_000, ge=0)
    response_format: Literal["json_schema", "json_object_schema", "json_object", "none"] = "json_schema"
    price_input_per_1k: float = Field(0.0, ge=0)
    price_output_per_1k: float = Field(0.0, ge=0)
    currency: str = "USD"
    cache: bool = True
    glossary: str = ""
    passage_chars: int = Field(1200, ge=100, le=20_000)
    max_passages: int = Field(12, ge=1, le=100)
    max_item_chars: int = Field(20_000, ge=1000, le=10_000_000)  # what the write stage reads of one item
    passage_budget: int = Field(6000, ge=200, le=200_000)
    # The section's shape, [fewest, most]: fact sentences, named positions of the views, analysis sentences.
    facts: tuple[int, int] = (3, 6)
    positions: tuple[int, int] = (2, 3)
    analysis: tuple[int, int] = (2, 4)

    @field_validator("facts", "positions", "analysis")
    @classmethod
    def _range(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= v[0] <= v[1] <= 12:
            raise ValueError("give [fewest, most] with 0 <= fewest <= most <= 12, e.g. [3, 6]")
        return v

    def story_tokens(self) -> int:
        """The most one story's call may spend: the prompt's frame, a full passage budget and the longest answer."""
        # A CJK character is about a token, other text about a quarter: count the budget as CJK to be safe.
        return PROMPT_FRAME_TOKENS + self.passage_budget + self.max_passages * PASSAGE_FRAME_TOKENS + self.max_tokens

    def edition_tokens(self, stories: int) -> int:
        """The most one edition of `stories` sections may spend, abstract included."""
        return stories * self.story_tokens() + PROMPT_FRAME_TOKENS + stories * ABSTRACT_TOKENS_PER_STORY + self.max_tokens

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        return _registered(v, WRITER_KINDS, plugins.WRITERS, "writer")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str) -> str:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("use the endpoint's http:// or https:// base URL, e.g. 'https://api.deepseek.com/v1'")
        return v.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if v and not v.replace("_", "").isalnum():
            raise ValueError("give the NAME of an env var (e.g. 'DEEPSEEK_API_KEY'), never the key itself")
        return v

    def glossary_path(self, base: Path) -> Path | None:
        if not self.glossary:
            return None
        p = Path(self.glossary).expanduser()
        return p if p.is_absolute() else base / p

    @model_validator(mode="after")
    def _endpoint(self) -> WriterConfig:
        if self.kind == "openai" and not (self.base_url and self.model):
            raise ValueError(
                "writer.kind = 'openai' needs writer.base_url and writer.model "
                "(e.g. base_url = 'http://127.0.0.1:11434/v1', model = 'qwen2.5')"
            )
        return self


class VerifyConfig(_Model):
    # What happens to a sentence its cited sources don't support: "mark" keeps it, flagged; "drop" removes it;
    # "auto" drops unsupported facts and marks the rest when the edition is published without review, and keeps
    # and marks every one for the editor when [review] required = true.
    unsupported: Literal["auto", "mark", "drop"] = "auto"
    semantic: float = Field(CHECK_DEFAULTS.semantic, ge=0, le=1)
    cross_semantic: float = Field(CHECK_DEFAULTS.cross_semantic, ge=0, le=1)
    lexical: float = Field(CHECK_DEFAULTS.lexical, ge=0, le=1)
    off_topic: float = Field(CHECK_DEFAULTS.off_topic, ge=0, le=1)
    analysis_semantic: float = Field(CHECK_DEFAULTS.analysis_semantic, ge=0, le=1)
    # With a model writer, also ask the model to judge each story's sentences (one call per story, cached).
    judge: bool = True

    def check_settings(self) -> CheckSettings:
        """The grounding checker's thresholds."""
        return stage_settings(CheckSettings, self)


_FETCH = FetchSettings()  # the fetch stage sits below config (ingest/): its dataclass holds the defaults


class FetchConfig(_Model):
    connect_timeout: float = Field(_FETCH.connect_timeout, gt=0)
    read_timeout: float = Field(_FETCH.read_timeout, gt=0)
    timeout: float = Field(_FETCH.timeout, gt=0)
    concurrency: int = Field(_FETCH.concurrency, ge=1, le=512)
    per_host: int = Field(_FETCH.per_host, ge=1, le=64)
    max_bytes: int = Field(_FETCH.max_bytes, ge=1024)
    max_redirects: int = Field(_FETCH.max_redirects, ge=0, le=30)
    user_agent: str = Field(_FETCH.user_agent, min_length=1)
    retries: int = Field(_FETCH.retries, ge=0, le=10)
    backoff: float = Field(_FETCH.backoff, ge=0, le=60)
    max_retry_after: float = Field(_FETCH.max_retry_after, ge=0, le=3600)
    respect_robots: bool = _FETCH.respect_robots
    comment_threads: int = Field(_FETCH.comment_threads, ge=0, le=200)
    top_comments: int = Field(_FETCH.top_comments, ge=0, le=100)
    full_text_items: int = Field(_FETCH.full_text_items, ge=0, le=500)
    parse_threads: int = Field(_FETCH.parse_threads, ge=0, le=64)
    parse_processes: int = Field(_FETCH.parse_processes, ge=-1, le=64)
    failing_runs: int = Field(3, ge=1, le=100)  # the run summary's, not the fetch stage's
    # Hosts or networks that links found in feeds may point at although they are private (an intranet):
    # e.g. ["10.1.2.0/24", "wiki.corp", "127.0.0.1"]. Configured source URLs need no entry.
    allow_private: list[str] = Field(default_factory=lambda: list(_FETCH.allow_private))
    deadline: float = Field(_FETCH.deadline, ge=0, le=24 * 3600)  # seconds for the whole fetch stage; 0: none
    host_timeouts: int = Field(_FETCH.host_timeouts, ge=0, le=1000)  # a host that timed out this often is skipped
    max_item_chars: int = Field(_FETCH.max_item_chars, ge=1000, le=10_000_000)  # text kept per item

    @field_validator("allow_private")
    @classmethod
    def _allow(cls, v: list[str]) -> list[str]:
        parse_allow(v)
        return v

    def settings(self) -> FetchSettings:
        """The fetch stage's settings."""
        return stage_settings(FetchSettings, self, allow_private=tuple(self.allow_private))


class ClusteringConfig(_Model):
    """How items become stories (stories/cluster.py reads this section as its settings)."""

    threshold: float = Field(0.43, ge=0, le=1)  # average similarity of two groups' items for them to be one story
    short_bonus: float = Field(0.16, ge=0, le=1)  # added to the similarity of two title-only items (half when one is)
    short_chars: int = Field(40, ge=0, le=10_000)  # an item whose body is shorter than this is title-only
    link: float = Field(0.88, ge=0, le=1)  # items this alike are one report (a translation, a rewrite): one story
    lookback_days: int = Field(7, ge=0, le=90)  # stories seen within this many days stay open for new items
    decay: float = Field(0.8, ge=0, le=1)  # weight per day of age of a story's earlier items
    max_size: int = Field(300, ge=2)  # a day's group above this is re-cut; a story above it needs large_margin more
    large_margin: float = Field(0.08, ge=0, le=1)
    name_margin: float = Field(0.1, ge=0, le=1)  # two groups this close below the threshold merge when a name ties
    name_share: float = Field(0.6, ge=0, le=1)  # ... a name found in this share of each group's items
    name_focus: float = Field(0.6, ge=0, le=1)  # ... and this share of all the day's items that mention it
    max_pool: int = Field(1000, ge=2)  # the day's linkage runs on at most this many items at once (time, memory: n²)
    name_weight: float = Field(0.2, ge=0, le=1)  # the share of an item's similarity that comes from its names
    name_dims: int = Field(256, ge=1, le=65_536)  # names are hashed into this many dimensions
    title_only_penalty: float = Field(0.2, ge=0, le=1)  # off two title-only texts' similarity, one a community thread
    release_bonus: float = Field(0.25, ge=0, le=1)  # two titles share a name with a version (DeepSeek V4, GPT-5.5)
    release_conflict: float = Field(1.0, ge=0, le=2)  # off two titles naming only different versions (GPT-5.5 / V4)


class StorageConfig(_Model):
    path: str = ""
    url: str = ""  # a PostgreSQL server instead of the file: postgresql://user@host:port/dbname

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, v: str) -> str:
        v = v.strip()
        if v and not is_postgres(v):
            raise ConfigError("storage.url", shown(v), "write postgresql://user@host:port/dbname, or leave it empty "
                              "for the SQLite file of [storage].path")
        if v and urlsplit(v).password:
            raise ConfigError("storage.url", shown(v), "keep the password out of the file: libpq reads it from "
                              "PGPASSWORD or ~/.pgpass, or put the whole URL in DAILYBRIEF_DB")
        return v


class OutputConfig(_Model):
    dir: str = "out"
    formats: list[Annotated[str, AfterValidator(_format)]] = Field(  # built-in or a plugin's
        default_factory=lambda: list(FORMATS), min_length=1)
    # Where readers find an edition online; {date} and {lang} are filled in. A
    # URL ending in "/" is a folder: the edition's HTML file name is added.
    edition_url: str = ""

    @field_validator("edition_url")
    @classmethod
    def _edition_url(cls, v: str) -> str:
        v = v.strip()
        if not v:
            return v
        if not v.startswith(("http://", "https://")):
            raise ValueError("use an http:// or https:// URL, e.g. 'https://brief.example.com/{date}/'")
        try:
            v.format(date="2026-01-01", lang="zh")
        except (KeyError, IndexError, ValueError):
            raise ValueError("only the placeholders {date} and {lang} may appear in it, "
                             "e.g. 'https://brief.example.com/{date}/'") from None
        return v

    def edition_link(self, day: date, language: str, stem: str) -> str:
        """The public URL of one edition's HTML page, or "" when edition_url is unset."""
        if not self.edition_url:
            return ""
        url = self.edition_url.format(date=day.isoformat(), lang=language)
        return f"{url}{stem}.html" if url.endswith("/") else url


# -- publish targets ---------------------------------------------------------------
# One model per kind, told apart by `kind`. Secrets are never config values: keys
# ending in _env hold the NAME of the environment variable that holds the secret.

PUBLISH_KINDS = ("folder", "site", "email", "feishu", "dingtalk", "wecom", "slack", "telegram", "webhook")
CHAT_KINDS = ("feishu", "dingtalk", "wecom", "slack", "telegram", "webhook")
ALERT_KINDS = ("email", *CHAT_KINDS)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(v: str) -> str:
    if v and not _ENV_NAME.match(v):
        raise ValueError("this key holds the NAME of an environment variable (e.g. 'FEISHU_SECRET'), "
                         "not the secret itself; put the secret in that variable")
    return v


def _http(v: str) -> str:
    if v and not v.startswith(("http://", "https://")):
        raise ValueError("use an http:// or https:// URL")
    return v


class _Target(_Model):
    name: str = Field(min_length=1)
    # false: the target gets no editions, only alerts (see [alerts])
    editions: bool = True


class FolderTarget(_Target):
    kind: Literal["folder"] = "folder"
    name: str = Field("archive", min_length=1)
    path: str = ""  # empty: <output root>/editions (see Config.target_path)


class SiteTarget(_Target):
    kind: Literal["site"] = "site"
    name: str = Field("site", min_length=1)
    path: str = ""  # empty: <output root>/site (see Config.target_path)
    base_url: str = ""
    title: str = ""
    feed_entries: int = Field(30, ge=1, le=1000)

    @field_validator("base_url")
    @classmethod
    def _base(cls, v: str) -> str:
        return _http(v).rstrip("/")


class EmailTarget(_Target):
    kind: Literal["email"] = "email"
    host: str = Field(min_length=1)
    port: int | None = Field(None, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password_env: str = ""
    sender: str = Field(min_length=3)
    to: list[str] = Field(min_length=1)
    bcc: list[str] = Field(default_factory=list)  # recipients hidden from each other
    subject: str = "{title} · {date}"
    language: Language | None = None
    ca_file: str = ""
    timeout: float = Field(30.0, gt=0)

    @field_validator("password_env")
    @classmethod
    def _env(cls, v: str) -> str:
        return _env_name(v)

    @field_validator("sender", "to", "bcc")
    @classmethod
    def _address(cls, v: str | list[str]) -> str | list[str]:
        for addr in [v] if isinstance(v, str) else v:
            if "@" not in addr:
                raise ValueError(f"{addr!r} is not an email address; write it as name@example.org")
        return v

    @field_validator("subject")
    @classmethod
    def _subject(cls, v: str) -> str:
        try:
            v.format(title="t", date="d", iso="i")
        except (KeyError, IndexError, ValueError):
            raise ValueError("use only the placeholders {title}, {date} and {iso}, e.g. '{title} · {date}'") from None
        return v

    @model_validator(mode="after")
    def _login(self) -> EmailTarget:
        if self.username and not self.password_env:
            raise ValueError("a username needs password_env: the NAME of the env var holding the SMTP password")
        if self.username and self.security == "none":
            raise ValueError("refusing to send a password without TLS; use security = 'starttls' or 'ssl'")
        return self

    @property
    def smtp_port(self) -> int:
        return self.port or {"starttls": 587, "ssl": 465, "none": 25}[self.security]


class _ChatTarget(_Target):
    # The webhook URL often carries the credential: prefer url_env, the NAME of an env var holding it.
    url: str = ""
    url_env: str = ""
    language: Language | None = None
    # Link to the edition; {date} and {stem} are filled in. Default: the site target's base_url.
    link: str = ""
    max_length: int | None = Field(None, ge=200)
    timeout: float = Field(10.0, gt=0)
    retries: int = Field(1, ge=0, le=5)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _http(v)

    @field_validator("url_env", "secret_env", "token_env", check_fields=False)
    @classmethod
    def _env(cls, v: str) -> str:
        return _env_name(v)

    @model_validator(mode="after")
    def _where(self) -> _ChatTarget:
        if getattr(self, "kind", "") != "telegram" and bool(self.url) == bool(self.url_env):
            raise ValueError("set exactly one of url (the webhook URL) or url_env (the NAME of the env var holding it)")
        return self


class FeishuTarget(_ChatTarget):
    kind: Literal["feishu"] = "feishu"
    secret_env: str = ""  # the bot's signing secret, when signing is on


class DingtalkTarget(_ChatTarget):
    kind: Literal["dingtalk"] = "dingtalk"
    secret_env: str = ""  # the robot's SEC... signing secret, when signing is on


class WecomTarget(_ChatTarget):
    kind: Literal["wecom"] = "wecom"


class SlackTarget(_ChatTarget):
    kind: Literal["slack"] = "slack"


class TelegramTarget(_ChatTarget):
    kind: Literal["telegram"] = "telegram"
    token_env: str = Field(min_length=1)
    chat_id: str = Field(min_length=1)
    api_url: str = "https://api.telegram.org"

    @field_validator("api_url")
    @classmethod
    def _api(cls, v: str) -> str:
        return _http(v).rstrip("/")

    @field_validator("chat_id", mode="before")
    @classmethod
    def _chat(cls, v: object) -> object:
        return str(v) if isinstance(v, int) else v


class WebhookTarget(_ChatTarget):
    kind: Literal["webhook"] = "webhook"
    secret_env: str = ""  # signs the body: X-Dailybrief-Signature: sha256=<hex HMAC of "<timestamp>.<body>">
    max_length: int | None = Field(None, ge=200)


class WechatTarget(_Target):
    """The WeChat official account's draft box (公众号草稿箱): the editor publishes from WeChat (wechat.py)."""

    kind: Literal["wechat"] = "wechat"
    appid_env: str = "WECHAT_APPID"  # the NAMES of the env vars holding the AppID and the AppSecret
    secret_env: str = "WECHAT_SECRET"  # noqa: S105 - the name of an env var
    api_base: str = "https://api.weixin.qq.com"
    language: Language | None = None
    author: str = ""
    timeout: float = Field(20.0, gt=0)

    @field_validator("appid_env", "secret_env")
    @classmethod
    def _env(cls, v: str) -> str:
        return _env_name(v)

    @field_validator("api_base")
    @classmethod
    def _base(cls, v: str) -> str:
        return _http(v).rstrip("/")


class PluginTarget(_Target):
    """A [[publish]] target of a kind a plugin registers: its own keys are passed on as they are written."""

    model_config = ConfigDict(extra="allow")
    kind: str


def _publish_kind(value: Any) -> str:
    kind = str(value.get("kind", "folder") if isinstance(value, dict) else getattr(value, "kind", "folder"))
    if kind not in PUBLISH_KINDS and kind in plugins.declared(plugins.PUBLISHERS):
        return "plugin"
    return kind


PublishConfig = Annotated[
    Annotated[FolderTarget, Tag("folder")] | Annotated[SiteTarget, Tag("site")]
    | Annotated[EmailTarget, Tag("email")] | Annotated[FeishuTarget, Tag("feishu")]
    | Annotated[DingtalkTarget, Tag("dingtalk")] | Annotated[WecomTarget, Tag("wecom")]
    | Annotated[SlackTarget, Tag("slack")] | Annotated[TelegramTarget, Tag("telegram")]
    | Annotated[WebhookTarget, Tag("webhook")] | Annotated[WechatTarget, Tag("wechat")]
    | Annotated[PluginTarget, Tag("plugin")],
    Discriminator(_publish_kind),
]


def _check_cron(v: str) -> str:
    if v.strip():
        cron_trigger(v, "UTC")
    return v.strip()


class ScheduleConfig(_Model):
    # minute hour day month day-of-week (a sixth field in front is seconds); empty: daily at [edition].cutoff
    cron: str = ""
    timezone: str = ""  # empty: the edition's time zone
    misfire_grace_minutes: int = Field(60, ge=1, le=24 * 60)
    # After a scheduled run, targets that failed are tried again this many times, this many minutes apart.
    retries: int = Field(3, ge=0, le=48)
    retry_minutes: float = Field(20.0, gt=0, le=24 * 60)

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        return _check_cron(v)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return _check_zone(v) if v else v


class AlertsConfig(_Model):
    target: str = ""  # the name of an email or chat [[publish]] target; empty: no alerts
    on_degraded: bool = True  # false: alert on failed and empty runs only

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


class ClusterConfig(_Model):
    """A worker fleet on Celery (run/distributed.py): `dailybrief worker` on each machine, one Redis broker."""

    enabled: bool = False  # true: `dailybrief schedule` runs each edition on the workers, as `run --distributed` does
    broker: str = ""  # redis://host:port/db of the broker (results go there too); DAILYBRIEF_BROKER overrides
    fetch_shard: int = Field(25, ge=1, le=100_000)  # sources per fetch task
    embed_batch: int = Field(256, ge=1, le=1_000_000)  # items per embedding task
    # A task whose worker vanished (a SIGKILL, a lost machine) goes to another worker after this many seconds.
    visibility_timeout: float = Field(3600.0, ge=1, le=7 * 24 * 3600)
    wait: float = Field(6 * 3600.0, gt=0, le=7 * 24 * 3600)  # how long a distributed run waits for its tasks

    def broker_url(self) -> str:
        return os.environ.get("DAILYBRIEF_BROKER") or self.broker or DEFAULT_BROKER


class ReviewConfig(_Model):
    """The editor's desk (desk/): a scheduled run stops at a draft that an approver publishes."""

    required: bool = False  # true: runs stop at a draft; false: publish at once (the default)
    auto_publish_at: str = ""  # "HH:MM" in [edition].timezone: an untouched draft is published then; empty: never
    desk_url: str = "http://127.0.0.1:8750/"  # the desk's address in the alert that a draft waits

    @field_validator("desk_url")
    @classmethod
    def _desk_url(cls, v: str) -> str:
        v = v.strip()
        parts = urlsplit(v)
        try:
            parts.port  # noqa: B018 - a port that is not a number, or over 65535, raises here
        except ValueError:
            parts = parts._replace(netloc="")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("use the desk's address as an approver opens it, an http:// or https:// URL with a host "
                             "(and a port up to 65535), e.g. \"http://127.0.0.1:8751/\"")
        return v

    @field_validator("auto_publish_at")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if v and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError(f"auto_publish_at must be HH:MM (24-hour), or empty; got {v!r}")
        return v


class TopicConfig(_Model):
    """A topic the ranking weighs: matched by keywords (zh and en) in a story's titles and leads."""

    name: str = Field(min_length=1)
    zh: str = ""              # the topic's name in Chinese editions (themes); default: name
    en: str = ""              # the topic's name in English editions; default: name
    weight: float = Field(1.0, ge=0, le=10)
    keywords: list[str] = Field(min_length=1)

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, v: list[str]) -> list[str]:
        kept = [k.strip() for k in v if k.strip()]
        if not kept:
            raise ValueError("give at least one non-empty keyword, e.g. [\"security\", \"漏洞\"]")
        return kept


DEFAULT_TOPICS: list[dict[str, Any]] = [
    {"name": "security", "zh": "网络安全", "en": "Security", "weight": 1.5, "keywords": [
        "security", "cybersecurity", "cyber", "vulnerability", "vulnerabilities", "exploit", "zero-day", "malware",
        "hacker", "hacking", "breach", "CVE", "sandbox escape",
        "网络安全", "漏洞", "黑客攻击", "网络攻击", "零日", "恶意软件", "沙盒"]},
    {"name": "safety", "zh": "安全与治理", "en": "Safety", "weight": 1.2, "keywords": [
        "safety", "alignment", "guardrail", "guardrails", "red team", "red-teaming", "misuse", "child safety",
        "安全研究", "对齐", "护栏", "滥用", "儿童安全", "未成年人"]},
    {"name": "foundation-models", "zh": "基础模型", "en": "Foundation models", "weight": 1.2, "keywords": [
        "foundation model", "frontier model", "LLM", "large language model", "open weights", "open-weight",
        "reasoning model", "new model", "benchmark", "AGI",
        "大模型", "基础模型", "前沿模型", "开源模型", "权重", "推理能力", "通用人工智能"]},
    {"name": "compute", "zh": "算力", "en": "Compute", "weight": 1.2, "keywords": [
        "GPU", "GPUs", "TPU", "TPUs", "chip", "chips", "semiconductor", "data center", "data centre", "datacenter",
        "compute", "accelerator", "CoreWeave", "AI infrastructure",
        "算力", "芯片", "数据中心", "智算", "基础设施", "液冷", "英伟达"]},
    {"name": "policy", "zh": "政策与监管", "en": "Policy", "weight": 1.0, "keywords": [
        "regulation", "regulator", "regulators", "policy", "legislation", "lawsuit", "antitrust", "export controls",
        "AI Act", "Congress", "government",
        "监管", "政策", "法规", "立法", "诉讼", "出口管制", "反垄断"]},
]


class RankConfig(_Model):
    """Weights of the parts a story's score is made of (see rank.py)."""

    tiers: dict[str, float] = Field(default_factory=lambda: {
        "official": 3.0, "press": 2.0, "paper": 1.5, "code": 1.0, "community": 1.0})
    authority: float = Field(1.0, ge=0, le=100)
    outlets: float = Field(2.0, ge=0, le=100)
    listings: float = Field(1.5, ge=0, le=100)
    engagement: float = Field(3.0, ge=0, le=100)
    recency: float = Field(1.0, ge=0, le=100)
    half_life_hours: float = Field(12.0, gt=0, le=24 * 30)
    novelty: float = Field(1.5, ge=0, le=100)
    topic: float = Field(1.0, ge=0, le=100)
    watch: float = Field(1.0, ge=0, le=100)
    beat: float = Field(2.0, ge=0, le=100)
    announcement: float = Field(1.0, ge=0, le=100)
    commentary: float = Field(1.5, ge=0, le=100)
    watchlist: list[str] = Field(default_factory=list)
    topics: list[TopicConfig] = Field(default_factory=lambda: [TopicConfig(**t) for t in DEFAULT_TOPICS])

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(v) - set(TIERS))
        if bad:
            raise ValueError(f"unknown tier {bad[0]!r}; use {', '.join(TIERS)}")
        if any(w < 0 for w in v.values()):
            raise ValueError("tier weights must be 0 or more")
        return v


# The keys of an [[editions]] entry that are its own; every other key is an [edition] key, replacing it whole.
EDITION_OWN_KEYS = ("name", "sources", "publish", "branding", "output", "review", "cron")
# The [output] keys an [[editions]] entry may change (its folder is always <output.dir>/<name>).
EDITION_OUTPUT_KEYS = ("formats", "edition_url")


class EditionEntry(_Model):
    """One [[editions]] entry: an edition of its own from the shared store and fetch. Its [edition] keys (title,
    languages, timezone, cutoff, days, top_stories, roundup_items, beat) replace the top-level [edition]'s, each
    whole; what it leaves out is the top-level value. Its ``branding``, ``output`` (formats, edition_url) and
    ``review`` tables change those sections key by key. ``Config.edition_configs`` checks and resolves it."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    sources: list[str] | None = None  # names or tags of [[sources]] entries; None: every source
    publish: list[str] | None = None  # names of [[publish]] targets; None: every target
    branding: dict[str, Any] = Field(default_factory=dict)  # [branding] keys, each over the top-level value
    output: dict[str, Any] = Field(default_factory=dict)  # [output] formats / edition_url, each over the top-level value
    review: dict[str, Any] = Field(default_factory=dict)  # [review] keys, each over the top-level value
    cron: str = ""  # its own schedule; empty: [schedule].cron, else daily at its cutoff

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        return _check_cron(v)

    @property
    def edition_keys(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Config(_Model):
    edition: EditionConfig = Field(default_factory=EditionConfig)
    editions: list[EditionEntry] = Field(default_factory=list)
    branding: BrandingConfig = Field(default_factory=BrandingConfig)
    writer: WriterConfig = Field(default_factory=WriterConfig)
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    publish: list[PublishConfig] = Field(default_factory=list)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    rank: RankConfig = Field(default_factory=RankConfig)
    clustering: ClusteringConfig = Field(default_factory=ClusteringConfig)

    # Where the config file lives; relative paths in it resolve from here.
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)
    # `run --out`: the folder that holds this run's edition, and the default home of folder and site targets.
    out_override: Path | None = Field(None, exclude=True)
    # An [[editions]] entry's config: the ids of the sources whose items it briefs (None: every stored item's).
    source_ids: frozenset[str] | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _targets(self) -> Config:
        seen: set[str] = set()
        for i, t in enumerate(self.publish):
            if t.name in seen:
                raise ConfigError(f"publish[{i}].name", t.name, "two publish targets share this name; give each its own")
            seen.add(t.name)
            if t.kind in CHAT_KINDS and t.editions and not t.link and not self.site_url():  # type: ignore[union-attr]
                raise ConfigError(f"publish[{i}].link", "", "a chat message links to the edition: set link = "
                                  "'https://…/{date}/{stem}.html', or give a kind = 'site' target a base_url")
        w = self.writer
        need = len(self.edition.languages) * w.edition_tokens(self.edition.top_stories)
        if w.kind != "extractive" and w.token_budget and need > w.token_budget:
            raise ConfigError("writer.token_budget", w.token_budget,
                              f"{len(self.edition.languages)} edition(s) of {self.edition.top_stories} stories may need "
                              f"up to {need:,} tokens (writer.max_tokens, writer.passage_budget): raise the budget, or "
                              "lower those or edition.top_stories")
        if self.alerts.target:
            target = next((t for t in self.publish if t.name == self.alerts.target), None)
            if target is None or target.kind not in ALERT_KINDS:
                names = ", ".join(t.name for t in self.publish if t.kind in ALERT_KINDS) or "none configured"
                raise ConfigError("alerts.target", self.alerts.target,
                                  f"name an email or chat [[publish]] target (yours: {names})")
        return self

    # -- editions ---------------------------------------------------------------------------------------------
    def edition_configs(self) -> list[Config]:
        """Every edition as a config of its own: this one alone without [[editions]], else one per entry, its
        [edition], [branding], [[sources]] and [[publish]] narrowed to the entry's, and its output in
        <output.dir>/<name>. Raises ConfigError naming the entry's key."""
        if not self.editions:
            return [self]
        seen: set[str] = set()
        out = []
        for i, entry in enumerate(self.editions):
            if entry.name in seen:
                raise ConfigError(f"editions[{i}].name", entry.name,
                                  "two editions share this name; give each its own (it names its folder and records)")
            seen.add(entry.name)
            out.append(self._edition_config(i, entry))
        for i, target in enumerate(self.publish):
            if isinstance(target, FolderTarget | SiteTarget) and target.path:
                sharing = [c.edition.name for c in out if any(t.name == target.name and t.editions for t in c.publish)]
                if len(sharing) > 1:
                    raise ConfigError(f"publish[{i}].path", target.path, f"editions {' and '.join(sharing)} would all "
                                      "write their files here, the same names over each other; give each edition its "
                                      "own target ([[editions]] publish = [...]), or leave path out (each edition's "
                                      "then lives in <output.dir>/<name>/)")
        desks: dict[str, str] = {}
        for i, c in enumerate(out):
            if not c.review.required:
                continue
            url = c.review.desk_url.rstrip("/")
            if url in desks:
                raise ConfigError(f"editions[{i}].review.desk_url", c.review.desk_url,
                                  f"editions {desks[url]} and {c.edition.name} are both reviewed on this desk, and a "
                                  "desk serves one edition (`dailybrief desk --edition NAME --port N`): give each "
                                  "reviewed edition its own, e.g. review = { desk_url = \"http://127.0.0.1:8751/\" }")
            desks[url] = c.edition.name
        return out

    def edition_names(self) -> list[str]:
        return [e.name for e in self.editions] if self.editions else [self.edition.name]

    def for_edition(self, name: str | None) -> Config:
        """The config of edition `name`; with None, the one edition (an error naming them when there are several)."""
        configs = self.edition_configs()
        if name is None:
            if len(configs) > 1:
                raise ConfigError("--edition", None, f"this config has {len(configs)} editions; name one with "
                                  f"--edition ({', '.join(self.edition_names())})")
            return configs[0]
        found = next((c for c in configs if c.edition.name == name), None)
        if found is None:
            if not self.editions:  # one edition, named by [edition].name
                raise ConfigError("--edition", name, f"no such edition: this config has one, {configs[0].edition.name} "
                                  "(no [[editions]] entries); leave --edition out, or add an [[editions]] entry "
                                  f"named {name!r}")
            raise ConfigError("--edition", name, f"no such edition; use one of {', '.join(self.edition_names())}")
        return found

    def _edition_config(self, i: int, entry: EditionEntry) -> Config:
        key = f"editions[{i}]"
        edition = _sub_model(EditionConfig, {**self.edition.model_dump(), **entry.edition_keys, "name": entry.name},
                             key)
        branding = _sub_model(BrandingConfig, {**self.branding.model_dump(), **entry.branding}, f"{key}.branding")
        own_output = sorted(set(entry.output) - set(EDITION_OUTPUT_KEYS))
        if own_output:
            fix = ("each edition's files live in <output.dir>/<name>/; set [output].dir for all of them"
                   if own_output[0] == "dir" else "this key is unknown here; check its spelling against `dailybrief init`")
            raise ConfigError(f"{key}.output.{own_output[0]}", entry.output[own_output[0]],
                              f"{fix} (an edition's output table may set {' and '.join(EDITION_OUTPUT_KEYS)})")
        output = _sub_model(OutputConfig, {**self.output.model_dump(), **entry.output,
                                           "dir": str(self.out_dir() / entry.name)}, f"{key}.output")
        review = _sub_model(ReviewConfig, {**self.review.model_dump(), **entry.review}, f"{key}.review")
        sources = self.sources
        if entry.sources is not None:
            known = {s.name for s in self.sources} | {t for s in self.sources for t in s.tags}
            bad = [ref for ref in entry.sources if ref not in known]
            if bad:
                tags = sorted({t for s in self.sources for t in s.tags})
                raise ConfigError(f"{key}.sources", bad[0], "no [[sources]] entry has this name or tag; name sources "
                                  f"by name ({', '.join(s.name for s in self.sources) or 'none configured'})"
                                  + (f" or tag ({', '.join(tags)})" if tags else "")
                                  + ", or leave sources out for all of them")
            wanted = set(entry.sources)
            sources = [s for s in self.sources if s.name in wanted or wanted & set(s.tags)]
            update_ids: frozenset[str] | None = frozenset(s.to_source().id for s in sources)
        else:
            update_ids = None
        if not any(s.enabled for s in sources):
            raise ConfigError(f"{key}.sources", entry.sources, "the edition has no enabled source; name at least one "
                              "enabled [[sources]] entry")
        publish = self.publish
        if entry.publish is not None:
            names = {t.name for t in self.publish}
            bad = [n for n in entry.publish if n not in names]
            if bad:
                raise ConfigError(f"{key}.publish", bad[0], "no [[publish]] target has this name; use "
                                  f"{', '.join(sorted(names)) or 'none configured'}, or leave publish out for all")
            # The others stay (an alert target is looked up by name) but get none of this edition.
            publish = [t if t.name in entry.publish else t.model_copy(update={"editions": False}) for t in self.publish]
        update: dict[str, Any] = {
            "edition": edition, "branding": branding, "sources": sources, "publish": publish, "editions": [],
            "output": output, "review": review, "source_ids": update_ids,
        }
        if entry.cron:
            update["schedule"] = self.schedule.model_copy(update={"cron": entry.cron})
        return self.model_copy(update=update)

    def cron(self) -> str:
        """The schedule's crontab line: [schedule].cron, else every day at the edition's cutoff."""
        if self.schedule.cron:
            return self.schedule.cron
        hour, minute = parse_cutoff(self.edition.cutoff)
        return f"{minute} {hour % 24} * * *"

    def site_url(self) -> str:
        """The public base URL of the first site target that has one."""
        return next((t.base_url for t in self.publish if isinstance(t, SiteTarget) and t.base_url), "")

    def enabled_sources(self) -> list[Source]:
        return [s.to_source() for s in self.sources if s.enabled]

    def db_url(self) -> str:
        """The store to open: DAILYBRIEF_DB (a file or a postgresql:// URL), else [storage].url, else the file."""
        env = os.environ.get("DAILYBRIEF_DB", "").strip()
        if env and is_postgres(env):
            return env
        return self.storage.url if self.storage.url and not env else str(self.db_path())

    def db_path(self) -> Path:
        """The SQLite file, and the folder beside it for the run's staging (a PostgreSQL store: the data dir's)."""
        env = os.environ.get("DAILYBRIEF_DB", "").strip()
        if env and not is_postgres(env):
            return Path(env)
        if self.storage.path:
            p = Path(self.storage.path).expanduser()
            return p if p.is_absolute() else self.base_dir / p
        return user_dir() / "dailybrief.db"

    def out_dir(self) -> Path:
        p = Path(self.output.dir).expanduser()
        return p if p.is_absolute() else Path.cwd() / p

    def target_path(self, target: FolderTarget | SiteTarget) -> Path:
        """Where a folder or site target writes: its path, else <--out or [output].dir>/editions (or /site)."""
        if target.path:
            p = Path(target.path).expanduser()
            return p if p.is_absolute() else Path.cwd() / p
        return (self.out_override or self.out_dir()) / ("site" if target.kind == "site" else "editions")


_M = TypeVar("_M", bound=BaseModel)


def _sub_model(cls: type[_M], data: dict[str, Any], prefix: str) -> _M:
    """Validate a section an [[editions]] entry builds; an error names the entry's key."""
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        inner = _config_error(err, data)
        raise ConfigError(f"{prefix}.{inner.key}", inner.value, inner.fix) from None
    except ConfigError as exc:
        raise ConfigError(f"{prefix}.{exc.key.removeprefix('edition.')}", exc.value, exc.fix) from None


def user_dir() -> Path:
    """The user data directory; DAILYBRIEF_HOME moves it."""
    env = os.environ.get("DAILYBRIEF_HOME")
    return Path(env) if env else Path(platformdirs.user_data_dir("dailybrief"))


def default_text() -> str:
    """The commented default config, as `dailybrief init` writes it."""
    return resources.files("dailybrief").joinpath("default_config.toml").read_text("utf-8")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


_FIXES = {
    "tier": f"use one of {', '.join(TIERS)}",
    "language": "use 'zh' or 'en'",
    "languages": "use a list of 'zh' and/or 'en', e.g. [\"zh\", \"en\"]",
    "formats": "use a list drawn from md, html, wechat, chat, txt, pdf, json",
    "kind": "see the comments in `dailybrief init` for the kinds allowed here",
}


def _key(loc: tuple[Any, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += ("." if key else "") + str(part)
    return key


_TABLE_FIXES = {  # a table given as something else: how to write it in TOML
    "editions": "write each edition as its own [[editions]] table (double brackets), with at least name = \"…\"",
    "review": "e.g. review = { required = true, desk_url = \"http://127.0.0.1:8751/\" }",
    "output": "e.g. output = { formats = [\"html\", \"json\"] }",
    "branding": "e.g. branding = { website = \"https://example.org\" }",
}


def _toml_str(value: Any) -> str:
    """A value as a TOML string: what a fix suggests writing."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _config_error(err: ValidationError, data: dict[str, Any]) -> ConfigError:
    first = err.errors()[0]
    loc = tuple(p for p in first["loc"] if p not in ("function-after",))
    # A [[publish]] entry's loc carries its kind as a tag: publish.0.email.port -> publish[0].port
    loc = tuple(p for i, p in enumerate(loc) if not (i and isinstance(loc[i - 1], int) and p in PUBLISH_KINDS))
    key = _key(loc)
    value: Any = first.get("input")
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        kind = value.get("kind") if isinstance(value, dict) else None
        return ConfigError(f"{key}.kind", kind, f"use one of {', '.join(PUBLISH_KINDS)}")
    if key.endswith("_env") and isinstance(value, str) and not _ENV_NAME.match(value):
        value = "<hidden: it looks like a secret>"
    if first["type"] == "missing":
        return ConfigError(key, None, f"this key is required; add it ({first['msg']})")
    if first["type"] == "extra_forbidden":
        return ConfigError(key, value, "this key is unknown; check its spelling against `dailybrief init`")
    msg = first["msg"].removeprefix("Value error, ")
    leaf = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    if first["type"] in ("dict_type", "model_type", "model_attributes_type", "list_type") and (
            key in _TABLE_FIXES or (loc[:1] == ("editions",) and (isinstance(loc[-1], int) or leaf in _TABLE_FIXES))):
        what = "a list of tables" if first["type"] == "list_type" else "a table"
        return ConfigError(key, value, f"this must be {what}; {_TABLE_FIXES.get(leaf, _TABLE_FIXES['editions'])}")
    if loc[:1] == ("editions",) and leaf in ("sources", "publish") and first["type"] == "list_type":
        return ConfigError(key, value, f"this must be a list of names, e.g. {leaf} = [{_toml_str(value)}]")
    if first["type"] in ("bool_type", "bool_parsing"):
        return ConfigError(key, value, f"{msg}; use true or false, without quotes")
    if first["type"] == "string_type":
        quoted = f", e.g. {leaf} = {_toml_str(value)}" if isinstance(value, int | float) else ""
        return ConfigError(key, value, f"{msg}; put the value in quotes{quoted}")
    fix = _FIXES.get(leaf, "")
    text = f"{msg}; {fix}" if fix and fix not in msg else msg
    return ConfigError(key, value, text)


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the config: packaged defaults, then the user file over them.

    With no path: $DAILYBRIEF_CONFIG, else ./dailybrief.toml if present, else
    <user dir>/dailybrief.toml if present, else the defaults alone.
    """
    defaults = tomllib.loads(default_text())
    candidates = [path] if path else [os.environ.get("DAILYBRIEF_CONFIG"), "dailybrief.toml",
                                      user_dir() / "dailybrief.toml"]
    data = defaults
    base = Path.cwd()
    for cand in candidates:
        if not cand:
            continue
        p = Path(cand).expanduser()
        if not p.exists():
            if path:
                raise ConfigError("--config", str(p), "the file does not exist; run `dailybrief init` to write one")
            continue
        try:
            user = tomllib.loads(p.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(p), "", f"the file is not valid TOML ({exc}); fix the line it names") from None
        except UnicodeDecodeError:
            raise ConfigError(str(p), "", "the file is not UTF-8; save it as UTF-8") from None
        data = _merge(defaults, user)
        base = p.resolve().parent
        break
    return from_dict(data, base)


_COMMON_KEYS = ("name", "kind", "url", "tier", "language", "enabled", "comments", "full_text", "tags")


def _check_source_options(cfg: Config) -> None:
    """Each source's kind-specific keys, validated by its kind; errors name sources[i].<key>."""
    for i, src in enumerate(cfg.sources):
        kind = source_kinds.get(src.kind)
        if kind is None:  # pragma: no cover - _known_kind already refused it
            continue
        own = ", ".join(kind.Options.model_fields) or "none"
        try:
            kind.Options.model_validate(src.options)
        except ValidationError as err:
            first = err.errors()[0]
            key = f"sources[{i}].{_key(tuple(first['loc']))}"
            if first["type"] == "missing":
                raise ConfigError(key, None, f"kind '{src.kind}' needs this key; add it "
                                             f"(its own keys: {own})") from None
            if first["type"] == "extra_forbidden":
                raise ConfigError(key, first.get("input"),
                                  f"this key is unknown for kind '{src.kind}'; check its spelling "
                                  f"(common keys: {', '.join(_COMMON_KEYS)}; kind '{src.kind}' adds: {own})") from None
            raise ConfigError(key, first.get("input"), first["msg"].removeprefix("Value error, ")) from None
        if not (src.url or kind.default_url):
            raise ConfigError(f"sources[{i}].url", None, f"kind '{src.kind}' needs a url; add one "
                                                         "(an http:// or https:// address)")


def _resolve(path: str, base: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else base / p


def from_dict(data: dict[str, Any], base: Path | None = None) -> Config:
    try:
        cfg = Config.model_validate(data)
    except ValidationError as err:
        raise _config_error(err, data) from None
    _check_source_options(cfg)
    if base is not None:
        cfg.base_dir = base
    _check_paths(cfg)
    if cfg.editions:
        for i, edition in enumerate(cfg.edition_configs()):  # each [[editions]] entry checked now, not mid-run
            _check_logo(edition.branding.logo, edition.base_dir, f"editions[{i}].branding.logo")
    register_secrets(cfg)
    return cfg


def _check_paths(cfg: Config) -> None:
    """Every file and folder the config names, checked now rather than mid-run or after the whole build;
    errors name the key."""
    if cfg.writer.glossary:
        where = cfg.writer.glossary_path(cfg.base_dir)
        if where is None or not where.is_file():
            raise ConfigError("writer.glossary", cfg.writer.glossary,
                              f"no such file ({where}); fix the path (a relative one starts at the config file's "
                              "folder) or leave it empty for the packaged glossary")
        Glossary.load(where)  # a malformed glossary names its line or term
    for i, target in enumerate(cfg.publish):
        ca_file = getattr(target, "ca_file", "")
        if ca_file:
            found = _resolve(ca_file, cfg.base_dir)
            if not found.is_file():
                raise ConfigError(f"publish[{i}].ca_file", ca_file,
                                  f"no such file ({found}); give the PEM file of the CA that signed the SMTP "
                                  "server's certificate, or leave it empty for the system's CAs")
            target.ca_file = str(found)  # type: ignore[union-attr]
    _check_logo(cfg.branding.logo, cfg.base_dir, "branding.logo")
    out = cfg.out_dir()
    for folder in (out, *out.parents):
        if folder.exists():
            if not folder.is_dir():
                raise ConfigError("output.dir", cfg.output.dir,
                                  f"{folder} is a file, not a folder; point output.dir at a folder (or a new path)")
            break


def _check_logo(logo: str, base: Path, key: str) -> None:
    if logo:
        path = Path(logo).expanduser()
        problem = logo_problem(path if path.is_absolute() else base / path)
        if problem:
            raise ConfigError(key, logo, problem)


def register_secrets(cfg: Config) -> None:
    """Hand every secret the config leads to (the values of the env vars its *_env keys name, and
    webhook URLs written in the file) to ``redact``, so no log, record, print or alert can show them."""
    models: list[BaseModel] = [cfg.writer, cfg.alerts, *cfg.publish]
    for model in models:
        for key, value in model:
            if not isinstance(value, str) or not value:
                continue
            if key.endswith("_env"):
                secret = os.environ.get(value, "")
                if key == "url_env" or secret.startswith(("http://", "https://")):
                    redact.register_url(secret)
                else:
                    redact.register(secret)
            elif key == "url" and getattr(model, "kind", "") in CHAT_KINDS:
                redact.register_url(value)
