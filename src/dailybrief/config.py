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
    retries: int = Field(2, ge=0, le=10)
    backoff: float = Field(1.0, ge=0, le=60)
    requests_per_minute: float = Field(0, ge=0)
    max_tokens: int = Field(1200, ge=16, le=32_000)
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
    # What happens to a sentence its cited sources don't support: "mark" keeps it, flagged; "drop" removes it.
    unsupported: Literal["mark", "drop"] = "mark"
    lexical: float = Field(0.7, ge=0, le=1)
    semantic: float = Field(0.72, ge=0, le=1)
    cross_semantic: float = Field(0.64, ge=0, le=1)
    analysis_semantic: float = Field(0.45, ge=0, le=1)


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


class Config(_Model):
    edition: EditionConfig = Field(default_factory=EditionConfig)
    branding: BrandingConfig = Field(default_factory=BrandingConfig)
    writer: WriterConfig = Field(default_factory=WriterConfig)
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    publish: list[PublishConfig] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)

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
