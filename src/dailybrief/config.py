"""Configuration: packaged defaults, overridden key by key by the user's TOML file.

Validation happens here and only here. A bad value raises one ``ConfigError``
that names the key, the value and the fix.
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError
from .records import Branding, Source

LANGUAGES = ("zh", "en")
FORMATS = ("md", "html", "pdf", "json")

Tier = Literal["official", "press", "community", "paper", "code"]
Language = Literal["zh", "en"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceConfig(_Model):
    name: str = Field(min_length=1)
    kind: str = "rss"
    url: str = Field(min_length=1)
    tier: Tier = "press"
    language: Language = "en"
    enabled: bool = True
    comments: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("use an http:// or https:// URL")
        return v

    def to_source(self) -> Source:
        return Source(
            name=self.name, kind=self.kind, url=self.url, tier=self.tier,
            language=self.language, comments=self.comments,
        )


class EditionConfig(_Model):
    title: str = "AI 技术每日分析"
    languages: list[Language] = Field(default_factory=lambda: ["zh"], min_length=1)
    timezone: str = "Asia/Shanghai"
    window_hours: int = Field(24, ge=1, le=24 * 14)
    top_stories: int = Field(5, ge=1, le=50)
    roundup_items: int = Field(8, ge=0, le=100)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("use an IANA time zone name such as 'Asia/Shanghai' or 'UTC'") from None
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class BrandingConfig(_Model):
    organisation: list[str] = Field(default_factory=list)
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


class WriterConfig(_Model):
    kind: Literal["extractive", "openai"] = "extractive"
    base_url: str = ""
    model: str = ""
    api_key_env: str = "DAILYBRIEF_API_KEY"
    timeout: float = Field(60.0, gt=0)

    @model_validator(mode="after")
    def _endpoint(self) -> WriterConfig:
        if self.kind == "openai" and not (self.base_url and self.model):
            raise ValueError(
                "writer.kind = 'openai' needs writer.base_url and writer.model "
                "(e.g. base_url = 'http://127.0.0.1:11434/v1', model = 'qwen2.5')"
            )
        return self


class FetchConfig(_Model):
    connect_timeout: float = Field(5.0, gt=0)
    timeout: float = Field(20.0, gt=0)
    concurrency: int = Field(16, ge=1, le=512)
    per_host: int = Field(4, ge=1, le=64)
    max_bytes: int = Field(10_000_000, ge=1024)
    user_agent: str = "dailybrief/0.1"
    comment_threads: int = Field(10, ge=0, le=200)


class StorageConfig(_Model):
    path: str = ""


class OutputConfig(_Model):
    dir: str = "out"
    formats: list[Literal["md", "html", "pdf", "json"]] = Field(
        default_factory=lambda: list(FORMATS), min_length=1
    )


class PublishConfig(_Model):
    kind: Literal["folder"] = "folder"
    name: str = "archive"
    path: str = "out/editions"


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
    engagement: float = Field(0.8, ge=0, le=100)
    recency: float = Field(1.0, ge=0, le=100)
    half_life_hours: float = Field(12.0, gt=0, le=24 * 30)
    novelty: float = Field(1.5, ge=0, le=100)
    topic: float = Field(1.0, ge=0, le=100)
    watch: float = Field(1.0, ge=0, le=100)
    watchlist: list[str] = Field(default_factory=list)
    topics: list[TopicConfig] = Field(default_factory=lambda: [TopicConfig(**t) for t in DEFAULT_TOPICS])

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(v) - {"official", "press", "community", "paper", "code"})
        if bad:
            raise ValueError(f"unknown tier {bad[0]!r}; use official, press, community, paper, code")
        if any(w < 0 for w in v.values()):
            raise ValueError("tier weights must be 0 or more")
        return v


class Config(_Model):
    edition: EditionConfig = Field(default_factory=EditionConfig)
    branding: BrandingConfig = Field(default_factory=BrandingConfig)
    writer: WriterConfig = Field(default_factory=WriterConfig)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    publish: list[PublishConfig] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
    rank: RankConfig = Field(default_factory=RankConfig)

    # Where the config file lives; relative paths in it resolve from here.
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)

    def enabled_sources(self) -> list[Source]:
        return [s.to_source() for s in self.sources if s.enabled]

    def db_path(self) -> Path:
        env = os.environ.get("DAILYBRIEF_DB")
        if env:
            return Path(env)
        if self.storage.path:
            p = Path(self.storage.path).expanduser()
            return p if p.is_absolute() else self.base_dir / p
        return user_dir() / "dailybrief.db"

    def out_dir(self) -> Path:
        p = Path(self.output.dir).expanduser()
        return p if p.is_absolute() else Path.cwd() / p


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
    "tier": "use one of official, press, community, paper, code",
    "language": "use 'zh' or 'en'",
    "languages": "use a list of 'zh' and/or 'en', e.g. [\"zh\", \"en\"]",
    "formats": "use a list drawn from md, html, pdf, json",
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


def _config_error(err: ValidationError, data: dict[str, Any]) -> ConfigError:
    first = err.errors()[0]
    loc = tuple(p for p in first["loc"] if p not in ("function-after",))
    key = _key(loc)
    value: Any = first.get("input")
    if first["type"] == "missing":
        return ConfigError(key, None, f"this key is required; add it ({first['msg']})")
    if first["type"] == "extra_forbidden":
        return ConfigError(key, value, "this key is unknown; check its spelling against `dailybrief init`")
    msg = first["msg"].removeprefix("Value error, ")
    leaf = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
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


def from_dict(data: dict[str, Any], base: Path | None = None) -> Config:
    try:
        cfg = Config.model_validate(data)
    except ValidationError as err:
        raise _config_error(err, data) from None
    if base is not None:
        cfg.base_dir = base
    return cfg
