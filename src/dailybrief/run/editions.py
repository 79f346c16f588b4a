"""Several editions from one store and one fetch ([[editions]]: an AI daily, a semiconductor daily, a weekly).

    run_editions ─▶ every edition due? (else NotDueError, before any work)
                 ─▶ edition 1: fetch the union of the editions' sources, once ─▶ cluster … publish
                 ─▶ edition 2…: cluster … publish over the items and vectors already stored (comments and lead
                    texts of their own top stories still fetched)
    distributed: the one fetch, then every edition's chord in one Celery group (distributed.run_all_distributed)

Each edition is a Pipeline on its own config (Config.edition_configs: its sources, beat, languages, window,
branding and targets) and its own view of the store (Store.scoped): its own run record, stories, written
editions and delivery log, so a rerun sends nothing twice to any (edition, target). One config without
[[editions]] is one edition, run exactly as Pipeline.run runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ..config import Config
from ..records import RunReport, Source
from ..store import Store, utcnow
from ..stories.embed import Embedder
from .distributed import run_all_distributed
from .pipeline import Hooks, Pipeline, check_due

__all__ = ["EditionRun", "plan", "run_editions", "union_sources"]


@dataclass(slots=True)
class EditionRun:
    """One edition's run within a run of several: its pipeline (deliveries, alert note) and its record."""

    pipe: Pipeline
    run: RunReport


def plan(cfg: Config, names: list[str] | None = None, day: date | None = None,
         now: datetime | None = None) -> list[tuple[Config, date]]:
    """The editions to run (the named ones, else all) and the date of each: `day`, else the latest whose window
    has closed in its own time zone and cutoff."""
    configs = [cfg.for_edition(n) for n in dict.fromkeys(names)] if names else cfg.edition_configs()
    at = now or utcnow()
    return [(c, day or c.edition.due(at)) for c in configs]


def union_sources(configs: list[Config]) -> list[Source]:
    """Every enabled source of the editions, each once, in config order: what one run fetches."""
    seen: dict[str, Source] = {}
    for c in configs:
        for s in c.enabled_sources():
            seen.setdefault(s.id, s)
    return list(seen.values())


def run_editions(editions: list[tuple[Config, date]], store: Store, out: Path | None = None, fetch: bool = True,
                 now: datetime | None = None, hooks: Hooks | None = None, embedder: Embedder | None = None,
                 distributed: bool = False) -> list[EditionRun]:
    """Run each edition of `editions`, fetching their sources once (in the first edition's run) and embedding
    each item once (the store keeps the vectors; the editions share one embedder).

    With several editions, ``out`` (``run --out``) holds one folder per edition, named by it."""
    at = now or utcnow()
    for cfg, day in editions:  # every edition due, or none is run
        check_due(cfg, day, at)
    sources = union_sources([c for c, _ in editions])
    several = len(editions) > 1

    def where(cfg: Config) -> Path | None:
        return out / cfg.edition.name if out is not None and several else out

    if distributed:  # every edition at once on the workers, one fetch (run_all_distributed)
        pipes = [Pipeline(cfg, store, hooks, embedder=embedder) for cfg, _ in editions]
        runs = run_all_distributed([(p, day, where(cfg)) for p, (cfg, day) in zip(pipes, editions, strict=True)],
                                   fetch, sources)
        return [EditionRun(p, r) for p, r in zip(pipes, runs, strict=True)]
    done: list[EditionRun] = []
    for k, (cfg, day) in enumerate(editions):
        pipe = Pipeline(cfg, store, hooks, embedder=embedder)
        run = pipe.run(day, where(cfg), fetch, at, sources if k == 0 else [])
        embedder = pipe._embedder or embedder  # loaded once, by the first edition that needed it
        done.append(EditionRun(pipe, run))
    return done
