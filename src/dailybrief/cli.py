"""The command line: a thin layer that loads config, calls the pipeline and reports.

Only this module turns errors into messages and exit codes:
0 a briefing was produced (or published); 1 no briefing could be produced, or a
publish target failed; 2 bad config or usage; 3 another run holds the lock.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from . import config as config_mod
from .console import WARN, out, styled, tinted
from .console import err as console
from .demo import DEMO_DATE, demo_config, demo_dir, serve_directory
from .errors import BusyError, ConfigError, DailybriefError, NoBriefError, NotDueError, PublishError
from .evals.cluster import BASELINE_DISTANCE, EvalError, evaluate
from .evals.days import (
    EvalDaysError,
    PairsReport,
    TopicsReport,
    day_folders,
    evaluate_pairs,
    evaluate_topics,
    read_day,
    report_lines,
    run_day,
    score_day,
)
from .files import load_briefs, write_atomic
from .glossary import Glossary
from .ingest.extract import extract_file
from .publish.base import load_edition
from .records import RunReport, as_dict
from .render.formats import get_renderer, render_json
from .run.distributed import start_worker
from .run.editions import EditionRun, plan, run_editions, union_sources
from .run.pipeline import Hooks, Pipeline, brief_digest, check_due, file_stem
from .run.schedule import lock_path, run_lock, scheduler, schedules, serve
from .store import Store, bare_url, edition_label, is_postgres, shown
from .stories.embed import Embedder, default_embedder
from .stories.rank import PARTS
from .write.grounding import CHECKER_VERSION, Checker, Passage, evidence, with_judge
from .write.judge import ModelJudge, judge_by_source
from .write.llm import ChatClient, LLMSettings


def _today(cfg: config_mod.Config) -> date:
    """The default edition: the latest whose window has closed (today's from its cutoff on, else yesterday's)."""
    return cfg.edition.due(datetime.now(cfg.edition.tz))


FIRST_EDITION = date(2000, 1, 1)  # --date before this (or over a year ahead) is a typo, not an edition


def _date(value: str | None, cfg: config_mod.Config) -> date:
    if value is None:
        return _today(cfg)
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD, e.g. 2026-04-10, or leave --date out "
                                 "for today", param_hint="--date") from None
    last = _today(cfg).replace(year=_today(cfg).year + 1, day=28 if _today(cfg).day == 29 else _today(cfg).day)
    if not FIRST_EDITION <= day <= last:
        raise click.BadParameter(f"'{value}' is out of range; use a date from {FIRST_EDITION} to {last}",
                                 param_hint="--date")
    return day


class ConfigProblem(click.ClickException):
    exit_code = 2


class Busy(click.ClickException):
    exit_code = 3


class Ctx:
    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._cfg: config_mod.Config | None = None
        self.overrides: dict[str, Any] | None = None

    @property
    def cfg(self) -> config_mod.Config:
        if self._cfg is None:
            try:
                self._cfg = config_mod.load(self.config_path)
            except ConfigError as exc:
                raise ConfigProblem(str(exc)) from exc
        return self._cfg

    def edition(self, name: str | None) -> config_mod.Config:
        """The config of edition `name` ([[editions]]); None: the one edition (an error when there are several)."""
        try:
            return self.cfg.for_edition(name)
        except ConfigError as exc:
            raise ConfigProblem(str(exc)) from exc

    def store(self) -> Store:
        try:
            return Store.open(self.cfg.db_url())
        except DailybriefError as exc:
            raise click.ClickException(str(exc)) from exc


pass_ctx = click.make_pass_decorator(Ctx)
EDITION_HELP = "The edition ([[editions]] name); needed when the config has several."


def _progress() -> tuple[Progress, Hooks]:
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=True)
    tasks: dict[str, Any] = {}

    def fetch_total(n: int) -> None:
        tasks["fetch"] = progress.add_task("fetching sources", total=n)

    def fetched(result: Any) -> None:
        progress.advance(tasks["fetch"])

    def write_total(n: int) -> None:
        tasks["write"] = progress.add_task("writing stories", total=n)

    def wrote(title: str) -> None:
        progress.advance(tasks["write"])

    return progress, Hooks(fetch_total, fetched, write_total, wrote)


def summarise(run: RunReport, currency: str = "USD") -> None:
    """The final summary: counts, faithfulness, model use, failures and output paths."""
    what = "fetch" if run.fetch_only else "run"  # a fetch is recorded under the edition whose run would have done it
    table = Table(title=f"dailybrief {what} {run.id} · edition {edition_label(run.name, run.edition)} · {run.status}",
                  show_lines=False)
    for col in ("stage", "seconds", "counts"):
        table.add_column(col)
    for s in run.stages:
        counts = ", ".join(f"{k}={v}" for k, v in s.counts.items())
        table.add_row(s.name + ("" if s.ok else " ✗"), f"{s.seconds:.2f}", counts)
    console.print(table)
    console.print(
        f"items fetched: {run.count('fetch', 'fetched')} · new: {run.count('store', 'new')} · "
        f"stories: {run.count('cluster', 'stories')} · sections written: {run.count('write', 'sections')} · "
        f"failures: {len(run.failures)}"
    )
    write = next((s.counts for s in run.stages if s.name == "write"), {})
    verify = next((s.counts for s in run.stages if s.name == "verify"), {})
    if "cited" in verify:
        writers = ", ".join(f"{k[3:]} {v}" for k, v in write.items() if k.startswith("by_"))
        flagged = f" ({verify.get('marked', 0)} marked, {verify.get('dropped', 0)} dropped)" \
            if verify.get("marked") or verify.get("dropped") else ""
        console.print(f"faithfulness: {verify['sentences']} sentences · {verify['cited']} cited · "
                      f"{verify['supported']} supported{flagged} · sections by writer: {writers or 'none'}")
        parts = " · ".join(f"{k[10:]} {v}" for k, v in verify.items() if k.startswith("supported_"))
        judge = f" · model judge: {verify['judge_calls']} calls, {verify.get('judge_rejected', 0)} rejected" \
            if verify.get("judge_calls") else ""
        dropped = f" · sections dropped: {verify['dropped_sections']}" if verify.get("dropped_sections") else ""
        console.print(f"supported by part: {parts or 'none'} · checker {verify.get('checker', '?')}{judge}{dropped}")
    if "calls" in write:  # the writer's calls, and the judge's (counted by the verify stage)
        write = {k: v + w if isinstance(v, int | float) and isinstance(w := verify.get(k), int | float) else v
                 for k, v in write.items()}
        console.print(f"model: {write['calls']} calls, {write['cached']} from the cache, {write['retries']} retries · "
                      f"tokens: {write['prompt_tokens']} prompt + {write['completion_tokens']} answer = {write['tokens']} · "
                      f"cost: {write['cost']:.4f} {currency} · fallbacks to extractive: {write.get('fallbacks', 0)}")
    for f in run.failures:
        console.print(styled(("✗", "red"), f" {f}"))
    for name, path in sorted(run.outputs.items()):
        out.print(f"{name}: {path}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Config file (default: $DAILYBRIEF_CONFIG, ./dailybrief.toml, or the user dir's).")
@click.version_option(__version__, prog_name="dailybrief")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """dailybrief: write a cited daily technology briefing from the day's news."""
    ctx.obj = Ctx(config_path)


@main.command()
@click.option("--path", type=click.Path(dir_okay=False), default="dailybrief.toml", show_default=True,
              help="Where to write the config.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented dailybrief.toml with the default sources."""
    p = Path(path)
    if p.exists() and not force:
        raise click.ClickException(f"{p} exists; pass --force to overwrite it")
    p.write_text(config_mod.default_text(), "utf-8")
    out.print(f"wrote {p}: edit [branding] and [[sources]], then run `dailybrief run`")


def _locked(ctx: Ctx, what: str) -> Any:
    """The run lock beside the database: two runs never overlap."""
    return run_lock(lock_path(ctx.cfg), what)


def deliveries_summary(pipe: Pipeline) -> None:
    marks = {"delivered": ("✓", "green"), "unchanged": ("·", ""), "skipped": ("–", "yellow"), "failed": ("✗", "red"),
             "interrupted": ("?", "red")}
    for d in pipe.deliveries:
        console.print(styled(marks.get(d.status, ("?", "")),
                             f" {d.kind} {d.target}: {d.status}" + (f" · {d.detail}" if d.detail else "")))
    if pipe.alert_note:
        console.print(pipe.alert_note)


def _run(ctx: Ctx, day: date | None, out_dir: Path | None, fetch: bool = True, distributed: bool = False,
         names: list[str] | None = None) -> list[EditionRun]:
    """Run the named editions (default: all) of `day` (default: each one's latest due), fetching once."""
    try:
        todo = plan(ctx.cfg, names, day)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
    try:
        with _locked(ctx, "run"):
            store = ctx.store()
            progress, hooks = _progress()
            with progress:
                try:
                    done = run_editions(todo, store, out_dir, fetch=fetch, hooks=hooks, distributed=distributed)
                except NotDueError as exc:
                    raise click.ClickException(str(exc)) from None
            for one in done:
                summarise(one.run, one.pipe.cfg.writer.currency)
                deliveries_summary(one.pipe)
            store.close()
    except BusyError as exc:
        raise Busy(str(exc)) from exc
    return done


def _undelivered(pipe: Pipeline) -> bool:
    """A publish target failed, was skipped for want of its credentials, or may have got the edition (interrupted)."""
    return any(d.status in ("failed", "skipped", "interrupted") for d in pipe.deliveries)


@main.command()
@click.option("--date", "day", help="Edition date, YYYY-MM-DD: news published after [edition].cutoff on the day "
              "before, up to the cutoff on that day (default: the latest edition whose cutoff has passed).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Write the edition here instead of <output.dir>/<date>/.")
@click.option("--no-fetch", is_flag=True, help="Use what is stored; don't fetch.")
@click.option("--distributed", is_flag=True, help="Run the heavy stages on the Celery workers ([cluster], "
              "`dailybrief worker`); on by default with [cluster].enabled = true.")
@click.option("--edition", "editions", multiple=True, help="Only this edition ([[editions]] name); repeat for more "
              "(default: every edition, their sources fetched once).")
@pass_ctx
def run(ctx: Ctx, day: str | None, out_dir: str | None, no_fetch: bool, distributed: bool,
        editions: tuple[str, ...]) -> None:
    """Fetch, build, render and publish the edition (every edition of [[editions]], or those named)."""
    done = _run(ctx, _date(day, ctx.cfg) if day is not None else None, Path(out_dir) if out_dir else None, fetch=not no_fetch,
                distributed=distributed or ctx.cfg.cluster.enabled, names=list(editions) or None)
    if any(one.run.status in ("empty", "failed") or not one.run.outputs or _undelivered(one.pipe) for one in done):
        raise SystemExit(1)


@main.command()
@click.option("--concurrency", type=click.IntRange(1, 256), default=None,
              help="Worker processes (default: one per core), each computing with one BLAS thread.")
@click.option("--hostname", default="", help="The worker's name in the cluster (default: celery@<host>).")
@click.option("--loglevel", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@pass_ctx
def worker(ctx: Ctx, concurrency: int | None, hostname: str, loglevel: str) -> None:
    """Start a Celery worker for distributed runs (broker: [cluster].broker or DAILYBRIEF_BROKER)."""
    start_worker(ctx.cfg, concurrency, loglevel.upper(), hostname)


@main.command()
@pass_ctx
def fetch(ctx: Ctx) -> None:
    """Fetch every enabled source (every edition's) and store new items; recorded as a fetch under the first edition,
    whose run holds the one fetch in `dailybrief run` too."""
    try:
        with _locked(ctx, "fetch"):
            store = ctx.store()
            progress, hooks = _progress()
            first = ctx.cfg.edition_configs()[0]  # no [[editions]]: the one edition, as before
            pipe = Pipeline(first, store, hooks)
            run = pipe.new_run(_today(first))
            with progress:
                pipe.fetch(run, union_sources(ctx.cfg.edition_configs()))  # every edition's sources
            summarise(pipe.finish(run, "degraded" if run.failures else "ok"))
            store.close()
            if run.count("fetch", "sources") and run.count("fetch", "failed") == run.count("fetch", "sources"):
                raise SystemExit(1)  # every source failed: nothing was fetched
    except BusyError as exc:
        raise Busy(str(exc)) from exc


@main.command()
@click.option("--date", "day", help="Edition date, YYYY-MM-DD (default: the latest edition whose cutoff has passed).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Folder for brief*.json (default: <output.dir>/<date>/).")
@click.option("--edition", "edition", default=None, help=EDITION_HELP)
@pass_ctx
def build(ctx: Ctx, day: str | None, out_dir: str | None, edition: str | None) -> None:
    """Cluster, rank and write the stored items of a day into brief*.json."""
    cfg = ctx.edition(edition)
    d = _date(day, cfg)
    folder = Path(out_dir) if out_dir else cfg.out_dir() / d.isoformat()
    try:
        check_due(cfg, d, datetime.now(cfg.edition.tz))
    except NotDueError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        with _locked(ctx, "build"):
            _build(ctx, cfg, d, folder)
    except BusyError as exc:
        raise Busy(str(exc)) from exc


def _build(ctx: Ctx, cfg: config_mod.Config, d: date, folder: Path) -> None:
    store = ctx.store()
    pipe = Pipeline(cfg, store)
    run = pipe.new_run(d)
    try:
        briefs = pipe.build(run, d)
    except NoBriefError as exc:
        run.failures.append(str(exc))
        summarise(pipe.finish(run, "empty"))
        raise SystemExit(1) from None
    folder.mkdir(parents=True, exist_ok=True)
    for b in briefs:
        path = folder / f"{file_stem(b.language, cfg.edition.languages)}.json"
        write_atomic(path, render_json(b).encode("utf-8"))
        run.outputs[path.name] = str(path)
        pipe.store.record_edition(d, b.language, run.id, str(path), brief_digest(b))
    summarise(pipe.finish(run, "degraded" if run.failures else "ok"), cfg.writer.currency)
    store.close()


@main.command()
@click.option("--date", "day", help="Edition date whose folder to render (default: the latest edition whose cutoff has passed).")
@click.option("--dir", "folder", type=click.Path(file_okay=False, exists=True), help="Folder holding brief*.json.")
@click.option("--format", "formats", multiple=True, type=click.Choice(config_mod.FORMATS), help="Formats (default: config).")
@click.option("--edition", "edition", default=None, help=EDITION_HELP + " Not needed with --dir.")
@pass_ctx
def render(ctx: Ctx, day: str | None, folder: str | None, formats: tuple[str, ...], edition: str | None) -> None:
    """Render brief*.json into Markdown, HTML and PDF."""
    cfg = ctx.cfg if folder else ctx.edition(edition)
    where = Path(folder) if folder else cfg.out_dir() / _date(day, cfg).isoformat()
    briefs = load_briefs(where)
    if not briefs:
        raise click.ClickException(f"no brief*.json in {where}; run `dailybrief build` first")
    langs = [b.language for b in briefs]
    for b in briefs:
        for fmt in formats or cfg.output.formats:
            r = get_renderer(fmt)
            if fmt == "json":
                continue
            path = r.render(b, where / f"{file_stem(b.language, langs)}{r.suffix}")
            out.print(f"{fmt}: {path}")


@main.command()
@click.option("--date", "day", help="Edition date, YYYY-MM-DD (default: the latest edition whose cutoff has passed).")
@click.option("--explain", is_flag=True, help="Show how each story's score is made up.")
@click.option("--limit", default=20, show_default=True, help="How many stories.")
@click.option("--edition", "edition", default=None, help=EDITION_HELP)
@pass_ctx
def stories(ctx: Ctx, day: str | None, explain: bool, limit: int, edition: str | None) -> None:
    """List a day's stories with their scores: what the build made of the day, changing nothing.

    A day no build has clustered yet is clustered and ranked first (under the run lock).
    """
    cfg = ctx.edition(edition)
    d = _date(day, cfg)
    store = ctx.store()
    pipe = Pipeline(cfg, store)
    ranked = pipe.stored_stories(d)
    if ranked is None:
        try:
            with _locked(ctx, "stories"):
                run = pipe.new_run(d)
                try:
                    ranked = pipe.stories(run, d)
                except NoBriefError as exc:
                    run.failures.append(str(exc))
                    pipe.finish(run, "empty")
                    raise click.ClickException(str(exc)) from None
                pipe.finish(run, "ok")
        except BusyError as exc:
            raise Busy(str(exc)) from exc
    titles = _brief_titles(pipe.store, d, cfg.edition.languages[0])
    items = sum(len(s.items) for s in ranked)
    out.print(f"{d}: {items} items in {len(ranked)} stories "
              f"({sum(1 for s in ranked if len(s.outlets) > 1)} with more than one outlet, "
              f"{sum(1 for s in ranked if s.follow_up)} follow-ups)", markup=False)
    for n, story in enumerate(ranked[:limit], start=1):
        mark = (" [follow-up]" if story.follow_up else "") + ("" if story.on_beat else " [off the beat]")
        out.print(f"{n:>3}. {story.score:6.2f}  {titles.get(story.id, story.title)}{mark}")
        out.print(f"      {len(story.items)} items · {len(story.outlets)} outlets · first seen {story.first_seen}"
                  + (f" · briefed {story.briefed_on}" if story.briefed_on else ""))
        if explain:
            for part in PARTS:
                value = story.score_parts.get(part, 0.0)
                out.print(f"        {part:<10} {value:+6.2f}  {story.score_notes.get(part, '')}")
            out.print(f"        {'= score':<10} {story.score:6.2f}")
    store.close()


def _brief_titles(store: Store, day: date, language: str) -> dict[str, str]:
    """story id -> its section title in the edition written for `day` (empty when none was)."""
    path = store.edition_files(day).get(language)
    if not path or not Path(path).is_file():
        return {}
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {s["story_id"]: s["title"] for s in data.get("sections", []) if s.get("story_id")}


@main.group(name="eval")
def eval_group() -> None:
    """Measure a stage against gold labels (see `dailybrief eval cluster --help`)."""


@eval_group.command(name="cluster")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--text-column", "text_columns", multiple=True, required=True,
              help="Column holding the text; repeat it to add more (the first is the title, the others its text).")
@click.option("--label-column", required=True, help="Column holding the gold story/cluster label.")
def eval_cluster(csv_file: str, text_columns: tuple[str, ...], label_column: str) -> None:
    """Cluster the rows of a CSV and score the result against its labels, beside a TF-IDF baseline.

    Prints pairwise precision/recall/F1, B-cubed F1 and ARI; the last line is pairwise_f1=<value>.
    """
    try:
        report = evaluate(csv_file, text_columns, label_column, default_embedder())
    except EvalError as exc:
        raise click.ClickException(str(exc)) from None
    for note in report.skipped:
        console.print(styled(WARN, f" {note}"))
    if report.conflicts:
        text, labels = report.conflicts[0]
        console.print(styled(WARN, f" {len(report.conflicts)} texts occur under more than one gold label, "
                      f"e.g. {text[:60]!r} under {', '.join(labels)}: no clusterer that reads "
                      "only the text can score 1.0 here"))
    for pair in report.alike:
        console.print(styled(WARN, f" gold stories {pair.a} and {pair.b} are as alike across as "
                      f"within (mean similarity {pair.between:.3f} across; {pair.within[0]:.3f} and "
                      f"{pair.within[1]:.3f} within): by similarity they are one story"))
    if report.alike:
        console.print(styled(WARN, f" with those merged and every other row right, pairwise F1 would be "
                      f"{report.ceiling:.4f}: the most any clusterer that merges them can score on these labels"))
    out.print(f"{Path(csv_file).name}: {report.rows} rows, {report.gold_clusters} gold clusters "
              f"(text: {', '.join(text_columns)}; label: {label_column})")
    head = f"{'method':<58} {'clusters':>8} {'pair P':>7} {'pair R':>7} {'pair F1':>7} {'B3 P':>6} {'B3 R':>6} " \
           f"{'B3 F1':>6} {'ARI':>6}"
    out.print(head)
    rows = [(f"TF-IDF + agglomerative (average, cut {BASELINE_DISTANCE})", report.baseline)]
    if report.oracle is not None:
        rows.append((f"TF-IDF + agglomerative, best cut {report.oracle_cut} on these labels*", report.oracle))
    rows.append(("dailybrief (USE + names, incremental average linkage)", report.ours))
    for name, sc in rows:
        out.print(f"{name:<58} {sc.clusters:>8} {sc.pairwise_p:>7.4f} {sc.pairwise_r:>7.4f} {sc.pairwise_f1:>7.4f} "
                  f"{sc.bcubed_p:>6.3f} {sc.bcubed_r:>6.3f} {sc.bcubed_f1:>6.3f} {sc.ari:>6.3f}")
    out.print("* the cut was chosen on the gold labels: an upper bound for the baseline, not a result")
    out.print(f"embedding {report.embed_seconds:.2f} s, clustering {report.cluster_seconds:.3f} s")
    out.print(f"pairwise_f1={report.ours.pairwise_f1:.4f}")


@eval_group.command(name="days")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False, exists=True))
def eval_days(folder: str) -> None:
    """Run the whole pipeline on each golden day in DIR (its feeds served from 127.0.0.1) and score its sections
    against the published briefings: top@k and lead@k at k = N, 5, 10, beside a Hacker-News-points baseline.

    The last line is lead_recall=<pooled lead@N / strict ceiling>.
    """
    embedder = default_embedder()
    scores = []
    try:
        for path in day_folders(folder):
            scores.append(score_day(run_day(read_day(path), embedder)))
            console.print(f"{path.name}: {scores[-1].sections} sections", markup=False)
    except EvalDaysError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report_lines(scores):
        out.print(line, markup=False, highlight=False)


_Report = TypeVar("_Report", PairsReport, TopicsReport)


def _labelled(evaluate: Callable[[str, Embedder], _Report], path: str) -> _Report:
    """An evaluation against a labelled file: its error as the command's, the calls it got wrong printed first."""
    try:
        report = evaluate(path, default_embedder())
    except EvalDaysError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.wrong:
        out.print(f"  {line}", markup=False, highlight=False)
    return report


@eval_group.command(name="pairs")
@click.argument("pairs_file", metavar="FILE", type=click.Path(dir_okay=False, exists=True))
def eval_pairs(pairs_file: str) -> None:
    """Merge precision and recall on labelled same-event pairs (in their data set's folder, beside the days),
    all pairs and the pairs at different URLs apart. The last line is different_url_f1=<value>."""
    report = _labelled(evaluate_pairs, pairs_file)
    for name, sc in (("all pairs", report.all), ("same URL", report.same_url), ("different URLs", report.different_url)):
        out.print(sc.line(name), markup=False)
    out.print(f"different_url_f1={report.different_url.f1:.4f}", markup=False)


@eval_group.command(name="topics")
@click.argument("labels_file", metavar="FILE", type=click.Path(dir_okay=False, exists=True))
def eval_topics(labels_file: str) -> None:
    """Precision and recall of the edition's beat (relevance) on items labelled on the beat or not (in their data
    set's folder, beside the days); borderline items are counted apart. The last line is relevance_f1=<value>."""
    r = _labelled(evaluate_topics, labels_file)
    out.print(f"on the beat: precision={r.precision:.3f} recall={r.recall:.3f} (tp {r.tp} fp {r.fp} fn {r.fn} tn {r.tn}); "
              f"borderline kept {r.borderline_kept} of {r.borderline}; not found {r.missing}", markup=False)
    out.print(f"relevance_f1={r.f1:.4f}", markup=False)


@main.command()
@click.option("--date", "day", help="Edition date, YYYY-MM-DD (default: the latest edition whose cutoff has "
              "passed; with --dir, the edition's own date).")
@click.option("--dir", "folder", type=click.Path(file_okay=False, exists=True),
              help="Folder holding the edition (default: <output.dir>/<date>/).")
@click.option("--target", "targets", multiple=True, help="Only this [[publish]] target; repeat for more (default: all).")
@click.option("--force", is_flag=True, help="Send again to targets that already have this edition.")
@click.option("--edition", "edition_name", default=None, help=EDITION_HELP)
@pass_ctx
def publish(ctx: Ctx, day: str | None, folder: str | None, targets: tuple[str, ...], force: bool,
            edition_name: str | None) -> None:
    """Deliver an already-built edition to the [[publish]] targets, each once."""
    cfg = ctx.edition(edition_name)
    known = {t.name: t for t in cfg.publish}
    for name in targets:
        if name not in known:
            raise click.BadParameter(f"no [[publish]] target is named '{name}'; yours: {', '.join(known) or 'none'}",
                                     param_hint="--target")
        if not known[name].editions:
            raise click.BadParameter(f"'{name}' takes alerts only (editions = false), or is not one of this edition's "
                                     "targets ([[editions]] publish)", param_hint="--target")
    d = _date(day, cfg) if day or not folder else None
    where = Path(folder) if folder else cfg.out_dir() / d.isoformat()  # type: ignore[union-attr]
    if not any(t.editions and (not targets or t.name in targets) for t in cfg.publish):
        raise click.ClickException("no [[publish]] targets take editions; add one to the config (see `dailybrief init`)")
    try:
        with _locked(ctx, "publish"):  # first: a running run may be writing the very edition
            try:
                edition = load_edition(where, d)
            except PublishError as exc:
                raise click.ClickException(str(exc)) from exc
            store = ctx.store()
            pipe = Pipeline(cfg, store)
            run = pipe.new_run(edition.day)
            pipe.publish_edition(run, edition, list(targets) or None, force=force)
            pipe.finish_and_alert(run, "degraded" if run.failures else "ok")
            store.close()
    except BusyError as exc:
        raise Busy(str(exc)) from exc
    out.print(f"edition {edition.day} ({', '.join(edition.languages)}) from {where}")
    deliveries_summary(pipe)
    if _undelivered(pipe):
        raise SystemExit(1)


@main.command()
@click.option("--date", "day", help="Only this edition date, YYYY-MM-DD.")
@click.option("--limit", default=50, show_default=True, help="How many rows without --date.")
@click.option("--edition", "edition", default=None, help="Only this edition ([[editions]] name; default: all).")
@pass_ctx
def deliveries(ctx: Ctx, day: str | None, limit: int, edition: str | None) -> None:
    """List the delivery log: which edition went to which target, when, and what failed."""
    store = ctx.store()
    names = [ctx.edition(edition).edition.name] if edition else ctx.cfg.edition_names()
    rows = [r for n in names for r in store.scoped(n).deliveries(_date(day, ctx.cfg) if day else None, limit)]
    table = Table(title="deliveries")
    for col in ("edition", "target", "kind", "status", "attempts", "last attempt", "detail"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(edition_label(r["edition_name"], r["edition"]), r["target"], r["kind"] or "", r["status"],
                      str(r["attempts"]),
                      (r["last_attempt"] or "")[:19], (r["error"] or r["detail"] or "")[:120])
    out.print(table)


@main.group(name="store")
def store_group() -> None:
    """The database: copy the SQLite store to a PostgreSQL server."""


@store_group.command(name="migrate")
@click.option("--to", "to", required=True, metavar="URL",
              help="postgresql://user@host:port/dbname; the password from PGPASSWORD or ~/.pgpass.")
@click.option("--from", "frm", type=click.Path(dir_okay=False, exists=True), default=None,
              help="The SQLite file (default: the configured one).")
@pass_ctx
def store_migrate(ctx: Ctx, to: str, frm: str | None) -> None:
    """Copy every row of the SQLite store into PostgreSQL and check the counts; a rerun copies only what is missing."""
    source = Path(frm) if frm else ctx.cfg.db_path()
    if not is_postgres(to):
        raise click.UsageError(f"--to {shown(to)}: name a PostgreSQL server, postgresql://user@host:port/dbname")
    if not source.is_file():
        raise click.ClickException(f"no SQLite store at {source}: pass --from <file>")
    try:
        with run_lock(source.with_name(source.name + ".lock"), "store migrate"):
            src, dest = Store.open(source), Store.open(to)
            try:
                copies = src.copy_to(dest)
            finally:
                src.close()
                dest.close()
    except DailybriefError as exc:
        raise click.ClickException(str(exc)) from exc
    table = Table(title=f"{source} -> {shown(to)}")
    for col in ("table", "rows in SQLite", "copied now", "rows in PostgreSQL"):
        table.add_column(col, justify="left" if col == "table" else "right")
    for c in copies:
        table.add_row(c.table, f"{c.source:,}", f"{c.copied:,}", f"{c.dest:,}")
    out.print(table)
    out.print(f"checked: PostgreSQL holds every one of the {sum(c.source for c in copies):,} rows. "
              f'Point dailybrief at it with DAILYBRIEF_DB or [storage] url = "{bare_url(to)}".')


@main.command()
@click.option("--now", is_flag=True, help="Also run today's edition once right away.")
@pass_ctx
def schedule(ctx: Ctx, now: bool) -> None:
    """Run the day's edition every day at [schedule].cron, in its time zone (stays in the foreground)."""
    cfg = ctx.cfg
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "httpx", "httpcore"):  # httpx logs every request at INFO
        logging.getLogger(noisy).setLevel(logging.WARNING)

    def report(run: RunReport) -> None:
        summarise(run)

    try:
        sched = scheduler(cfg, ctx.config_path, report, now=now)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
    several = len(cfg.edition_names()) > 1
    for (line, tz), names in schedules(cfg).items():
        job = sched.get_job("daily") if sched.get_job(f"daily-{names[0]}") is None else sched.get_job(f"daily-{names[0]}")
        first = job.trigger.get_next_fire_time(None, datetime.now(job.trigger.timezone))
        console.print(f"dailybrief schedule: '{line}' in {tz}" + (f" ({', '.join(names)})" if several else "")
                      + f"; next run at {first:%Y-%m-%d %H:%M:%S %Z}.")
    console.print("Ctrl-C (or SIGTERM) stops.")
    serve(sched)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_ctx
def sources(ctx: Ctx, as_json: bool) -> None:
    """List the configured sources with their health: last success, failures, latency, items per run."""
    store = ctx.store()
    health = {r["id"]: r for r in store.sources()}
    flag_after = ctx.cfg.fetch.failing_runs
    rows: list[dict[str, Any]] = []
    for s in ctx.cfg.enabled_sources():
        h = health.get(s.id, {})
        history = store.source_history(s.id, 7)
        rows.append({
            "name": s.name, "kind": s.kind, "tier": s.tier, "language": s.language, "url": s.url,
            "last_success": h.get("last_success"), "consecutive_failures": h.get("consecutive_failures") or 0,
            "last_error": h.get("last_error"), "latency": h.get("last_latency"), "status": h.get("last_status"),
            "items_last_run": h.get("last_items"),
            "runs": [{"at": r["at"], "ok": bool(r["ok"]), "status": r["status"], "items": r["items"],
                      "new": r["new_items"], "latency": r["latency"], "error": r["error"]} for r in history],
        })
    store.close()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"sources · flagged after {flag_after} failed runs in a row")
    for col in ("name", "kind", "tier", "last success", "fails", "latency", "items", "new", "runs"):
        table.add_column(col, overflow="fold")
    for r in rows:
        failing = r["consecutive_failures"] >= flag_after
        recent = "".join("✓" if x["ok"] else "✗" for x in reversed(r["runs"]))
        last = r["runs"][0] if r["runs"] else {}
        items = "304" if last.get("status") == 304 and last.get("ok") else (
            str(r["items_last_run"]) if r["items_last_run"] is not None else "")
        table.add_row(
            ("⚠ " if failing else "") + r["name"], r["kind"], r["tier"],
            (r["last_success"] or "never")[:16].replace("T", " "),
            tinted(str(r["consecutive_failures"]), "red" if failing else ""),
            f"{r['latency']:.2f}s" if r["latency"] is not None else "", items,
            str(last.get("new")) if last.get("new") is not None else "", recent,
        )
    out.print(table)
    for r in rows:
        if r["last_error"]:
            mark = "⚠" if r["consecutive_failures"] >= flag_after else "✗"
            click.echo(f"{mark} {r['name']}: failed {r['consecutive_failures']} run(s) in a row: {r['last_error']}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object mapping each path to its text.")
def extract(files: tuple[str, ...], as_json: bool) -> None:
    """Print the main text of saved article pages: dailybrief extract FILE.html [FILE.html ...].

    A file that cannot be read is named with the cause on stderr (its text is
    null in --json output), the others are still extracted, and the exit code is 1.
    """
    texts: dict[str, str | None] = {}
    for path in files:
        try:
            texts[path] = extract_file(path).text
        except DailybriefError as exc:
            click.echo(f"✗ {exc}", err=True)
            texts[path] = None
    if as_json:
        click.echo(json.dumps(texts, ensure_ascii=False))
    else:
        for n, (path, text) in enumerate(texts.items()):
            if text is None:
                continue
            if len(files) > 1:
                click.echo(("\n" if n else "") + f"==> {path} <==")
            click.echo(text)
    if any(t is None for t in texts.values()):
        raise SystemExit(1)


@main.command()
@click.option("--limit", default=10, show_default=True, help="How many runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def runs(ctx: Ctx, limit: int, as_json: bool) -> None:
    """List recent runs with their stages, counts and failures."""
    items = ctx.store().runs(limit)
    if as_json:
        out.print_json(json.dumps(as_dict(items), ensure_ascii=False))
        return
    table = Table(title="runs")
    for col in ("started", "edition", "status", "stages", "failures"):
        table.add_column(col, overflow="fold")
    for r in items:
        stages = " ".join(f"{s.name}:{s.seconds:.1f}s" for s in r.stages)
        status = f"{r.status} (fetch only)" if r.fetch_only else r.status  # `dailybrief fetch`: no edition made
        table.add_row(r.started.isoformat()[:19], edition_label(r.name, r.edition), status, stages,
                      str(len(r.failures)))
    out.print(table)


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/demo", show_default=True,
              help="Where to write the demo briefing.")
@click.option("--date", "day", default=None, help="Edition date (default: the demo day, 2026-04-10).")
def demo(out_dir: str, day: str | None) -> None:
    """Serve the bundled demo day on 127.0.0.1 and run the whole pipeline against it."""
    target = Path(out_dir)
    db = Path(os.environ.get("DAILYBRIEF_DB") or target / ".state" / "dailybrief.db")
    with serve_directory(demo_dir()) as base:
        console.print(f"demo feeds served at {base}/feeds/")
        ctx = Ctx(None)
        cfg = config_mod.from_dict({**demo_config(base), "storage": {"path": str(db.resolve())}})
        ctx._cfg = cfg
        report = _run(ctx, date.fromisoformat(day or DEMO_DATE), target)[0].run
    if report.status in ("empty", "failed") or not report.outputs:
        raise SystemExit(1)
    out.print(f"\nThe demo briefing is in {target.resolve()}/")


from .desk.cli import desk as _desk  # noqa: E402 - the editor's desk (desk/)

main.add_command(_desk)

if __name__ == "__main__":  # pragma: no cover
    main()


@main.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--model", "use_model", is_flag=True,
              help="Also ask the configured model writer ([writer] kind = \"openai\") to judge each claim.")
@pass_ctx
def check(ctx: Ctx, file: TextIO, use_model: bool) -> None:
    """Check claims against their sources: dailybrief check FILE.jsonl (use - for stdin).

    Each line holds "claim" and "source_text" (optionally "id", "part", "claim_lang", "source_lang");
    "source_text" may be a list of the passages the claim cites: each is read alone, and two together.
    Prints one JSON line per input, {"id", "supported", "reasons"}, with the same checker the pipeline
    uses (the config's [verify] thresholds and writer glossary, as verify reads them), then a summary
    line. With --model, the claims resting on one source also go to the model in one call, and a claim
    fails if either check fails. A line that cannot be read gets an "error" naming the fix; the others
    are still checked, and the exit code is 1.
    """
    judge = None
    cfg = ctx.cfg
    if use_model:
        if cfg.writer.kind != "openai":
            raise click.UsageError("--model needs a model writer: set [writer] kind = \"openai\", base_url and model")

        judge = ModelJudge(ChatClient(LLMSettings.from_config(cfg.writer), ctx.store()))

    rows: list[tuple[str, dict[str, str] | None, str]] = []
    for n, line in enumerate(file, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            texts = row.get("source_text") if isinstance(row, dict) else None
            texts = [texts] if isinstance(texts, str) else texts
            if not isinstance(row, dict) or not isinstance(row.get("claim"), str) or not isinstance(texts, list) \
                    or not texts or not all(isinstance(t, str) for t in texts):
                raise ValueError("needs \"claim\" (a string) and \"source_text\" (a string, or a list of the "
                                 "passages it cites: two are also read together)")
            row["source_text"] = texts
            rows.append((str(row.get("id", n)), row, ""))
        except ValueError as exc:
            rows.append((str(n), None, f"line {n}: {exc}; write one JSON object per line, "
                                       "e.g. {\"claim\": \"...\", \"source_text\": \"...\"}"))
    checker = Checker(default_embedder(), Glossary.load(cfg.writer.glossary_path(cfg.base_dir)),
                      cfg.verify.check_settings())  # Pipeline.verify's checker
    good = [r for _, r, _ in rows if r is not None]
    checker.prepare_pairs([r["claim"] for r in good], [t for r in good for t in r["source_text"]])
    passages = {rid: [Passage(f"{rid}/{k}", t) for k, t in enumerate(r["source_text"], start=1)]
                for rid, r, _ in rows if r is not None}
    claims = [(r["claim"], str(r.get("part", "facts")), passages[rid]) for rid, r, _ in rows if r is not None]
    second = iter(judge_by_source(judge, claims) if judge is not None else [None] * len(claims))
    supported = errors = 0
    for rid, row, error in rows:
        if row is None:
            errors += 1
            click.echo(json.dumps({"id": rid, "supported": None, "reasons": [], "error": error}, ensure_ascii=False))
            continue
        result = checker.check(row["claim"], evidence(passages[rid]), str(row.get("part", "facts")))
        reasons = with_judge(result.reasons, next(second))
        supported += not reasons
        click.echo(json.dumps({"id": rid, "supported": not reasons, "reasons": reasons}, ensure_ascii=False))
    checked = len(rows) - errors
    summary: dict[str, object] = {"claims": checked, "supported": supported, "unsupported": checked - supported,
                                  "errors": errors, "checker": CHECKER_VERSION}
    if judge is not None:
        summary["judge"] = {"calls": judge.stats.calls, "rejected": judge.stats.rejected, "failed": judge.stats.failed,
                            "unaligned": judge.stats.unaligned,
                            "tokens": judge.client.usage.tokens, "cached": judge.client.usage.cached}
    click.echo(json.dumps({"summary": summary}))
    if errors:
        raise SystemExit(1)
