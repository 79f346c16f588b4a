"""The command line: a thin layer that loads config, calls the pipeline and reports.

Only this module turns errors into messages and exit codes:
0 a briefing was produced; 1 no briefing could be produced; 2 bad config or usage.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from . import config as config_mod
from .errors import ConfigError, DailybriefError, NoBriefError
from .pipeline import Hooks, Pipeline, file_stem, load_briefs
from .records import RunReport
from .store import Store

console = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)


def _today(cfg: config_mod.Config) -> date:
    return datetime.now(cfg.edition.tz).date()


def _date(value: str | None, cfg: config_mod.Config) -> date:
    if not value:
        return _today(cfg)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD, e.g. 2026-04-10", param_hint="--date") from None


class ConfigProblem(click.ClickException):
    exit_code = 2


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

    def store(self) -> Store:
        try:
            return Store.open(self.cfg.db_path())
        except DailybriefError as exc:
            raise click.ClickException(str(exc)) from exc


pass_ctx = click.make_pass_decorator(Ctx)


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


def summarise(run: RunReport) -> None:
    """The final summary: counts, failures and output paths."""
    table = Table(title=f"dailybrief run {run.id} · edition {run.edition} · {run.status}", show_lines=False)
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
    for f in run.failures:
        console.print(f"[red]✗[/red] {f}")
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


def _run(ctx: Ctx, day: date, out_dir: Path | None, fetch: bool = True) -> RunReport:
    store = ctx.store()
    progress, hooks = _progress()
    with progress:
        run = Pipeline(ctx.cfg, store, hooks).run(day, out_dir, fetch=fetch)
    summarise(run)
    store.close()
    return run


@main.command()
@click.option("--date", "day", help="Edition date, YYYY-MM-DD (default: today in the edition's time zone).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Write the edition here instead of <output.dir>/<date>/.")
@click.option("--no-fetch", is_flag=True, help="Use what is stored; don't fetch.")
@pass_ctx
def run(ctx: Ctx, day: str | None, out_dir: str | None, no_fetch: bool) -> None:
    """Fetch, build, render and publish one edition."""
    report = _run(ctx, _date(day, ctx.cfg), Path(out_dir) if out_dir else None, fetch=not no_fetch)
    if report.status in ("empty", "failed") or not report.outputs:
        raise SystemExit(1)


@main.command()
@pass_ctx
def fetch(ctx: Ctx) -> None:
    """Fetch every enabled source and store new items."""
    store = ctx.store()
    progress, hooks = _progress()
    pipe = Pipeline(ctx.cfg, store, hooks)
    run = pipe.new_run(_today(ctx.cfg))
    with progress:
        pipe.fetch(run)
    summarise(pipe.finish(run, "degraded" if run.failures else "ok"))


@main.command()
@click.option("--date", "day", help="Edition date, YYYY-MM-DD (default: today).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Folder for brief*.json (default: <output.dir>/<date>/).")
@pass_ctx
def build(ctx: Ctx, day: str | None, out_dir: str | None) -> None:
    """Cluster, rank and write the stored items of a day into brief*.json."""
    d = _date(day, ctx.cfg)
    folder = Path(out_dir) if out_dir else ctx.cfg.out_dir() / d.isoformat()
    store = ctx.store()
    pipe = Pipeline(ctx.cfg, store)
    run = pipe.new_run(d)
    try:
        briefs = pipe.build(run, d)
    except NoBriefError as exc:
        run.failures.append(str(exc))
        summarise(pipe.finish(run, "empty"))
        raise SystemExit(1) from None
    folder.mkdir(parents=True, exist_ok=True)
    from .render import render_json

    for b in briefs:
        path = folder / f"{file_stem(b.language, ctx.cfg.edition.languages)}.json"
        path.write_text(render_json(b), "utf-8")
        run.outputs[path.name] = str(path)
    summarise(pipe.finish(run, "degraded" if run.failures else "ok"))


@main.command()
@click.option("--date", "day", help="Edition date whose folder to render (default: today).")
@click.option("--dir", "folder", type=click.Path(file_okay=False, exists=True), help="Folder holding brief*.json.")
@click.option("--format", "formats", multiple=True, type=click.Choice(config_mod.FORMATS), help="Formats (default: config).")
@pass_ctx
def render(ctx: Ctx, day: str | None, folder: str | None, formats: tuple[str, ...]) -> None:
    """Render brief*.json into Markdown, HTML and PDF."""
    from .render import RENDERERS

    where = Path(folder) if folder else ctx.cfg.out_dir() / _date(day, ctx.cfg).isoformat()
    briefs = load_briefs(where)
    if not briefs:
        raise click.ClickException(f"no brief*.json in {where}; run `dailybrief build` first")
    langs = [b.language for b in briefs]
    for b in briefs:
        for fmt in formats or ctx.cfg.output.formats:
            r = RENDERERS[fmt]
            if fmt == "json":
                continue
            path = r.render(b, where / f"{file_stem(b.language, langs)}{r.suffix}")
            out.print(f"{fmt}: {path}")


@main.command()
@click.option("--date", "day", help="Edition date, YYYY-MM-DD (default: today in the edition's time zone).")
@click.option("--explain", is_flag=True, help="Show how each story's score is made up.")
@click.option("--limit", default=20, show_default=True, help="How many stories.")
@pass_ctx
def stories(ctx: Ctx, day: str | None, explain: bool, limit: int) -> None:
    """Cluster and rank a day's stored items; list the stories with their scores."""
    from .rank import PARTS

    d = _date(day, ctx.cfg)
    store = ctx.store()
    pipe = Pipeline(ctx.cfg, store)
    run = pipe.new_run(d)
    try:
        ranked = pipe.stories(run, d)
    except NoBriefError as exc:
        run.failures.append(str(exc))
        pipe.finish(run, "empty")
        raise click.ClickException(str(exc)) from None
    pipe.finish(run, "ok")
    counts = run.stages[0].counts
    out.print(f"{d}: {counts.get('items', 0)} items in {len(ranked)} stories "
              f"({counts.get('multi_outlet', 0)} with more than one outlet, {counts.get('follow_ups', 0)} follow-ups)")
    for n, story in enumerate(ranked[:limit], start=1):
        mark = " [follow-up]" if story.follow_up else ""
        out.print(f"{n:>3}. {story.score:6.2f}  {story.title}{mark}", markup=False, highlight=False)
        out.print(f"      {len(story.items)} items · {len(story.outlets)} outlets · first seen {story.first_seen}"
                  + (f" · briefed {story.briefed_on}" if story.briefed_on else ""), markup=False)
        if explain:
            for part in PARTS:
                value = story.score_parts.get(part, 0.0)
                out.print(f"        {part:<10} {value:+6.2f}  {story.score_notes.get(part, '')}", markup=False)
            out.print(f"        {'= score':<10} {story.score:6.2f}", markup=False)
    store.close()


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
    from .embed import default_embedder
    from .evaluate import BASELINE_DISTANCE, EvalError, evaluate

    try:
        report = evaluate(csv_file, text_columns, label_column, default_embedder())
    except EvalError as exc:
        raise click.ClickException(str(exc)) from None
    for note in report.skipped:
        console.print(f"[yellow]![/yellow] {note}")
    out.print(f"{Path(csv_file).name}: {report.rows} rows, {report.gold_clusters} gold clusters "
              f"(text: {', '.join(text_columns)}; label: {label_column})", markup=False)
    head = f"{'method':<58} {'clusters':>8} {'pair P':>7} {'pair R':>7} {'pair F1':>7} {'B3 P':>6} {'B3 R':>6} " \
           f"{'B3 F1':>6} {'ARI':>6}"
    out.print(head, markup=False)
    rows = [(f"TF-IDF + agglomerative (average, cut {BASELINE_DISTANCE})", report.baseline)]
    if report.oracle is not None:
        rows.append((f"TF-IDF + agglomerative, best cut {report.oracle_cut} on these labels*", report.oracle))
    rows.append(("dailybrief (USE + names, incremental average linkage)", report.ours))
    for name, sc in rows:
        out.print(f"{name:<58} {sc.clusters:>8} {sc.pairwise_p:>7.4f} {sc.pairwise_r:>7.4f} {sc.pairwise_f1:>7.4f} "
                  f"{sc.bcubed_p:>6.3f} {sc.bcubed_r:>6.3f} {sc.bcubed_f1:>6.3f} {sc.ari:>6.3f}", markup=False)
    out.print("* the cut was chosen on the gold labels: an upper bound for the baseline, not a result", markup=False)
    out.print(f"embedding {report.embed_seconds:.2f} s, clustering {report.cluster_seconds:.3f} s", markup=False)
    out.print(f"pairwise_f1={report.ours.pairwise_f1:.4f}", markup=False)


@main.command()
@pass_ctx
def sources(ctx: Ctx) -> None:
    """List the configured sources with their health."""
    store = ctx.store()
    health = {r["id"]: r for r in store.sources()}
    table = Table(title="sources")
    for col in ("name", "tier", "lang", "last success", "failures", "latency", "items", "last error"):
        table.add_column(col, overflow="fold")
    for s in ctx.cfg.enabled_sources():
        h = health.get(s.id, {})
        table.add_row(s.name, s.tier, s.language, (h.get("last_success") or "never")[:19],
                      str(h.get("consecutive_failures") or 0),
                      f"{h['last_latency']:.2f}s" if h.get("last_latency") is not None else "",
                      str(h.get("last_items") if h.get("last_items") is not None else ""),
                      (h.get("last_error") or "")[:80])
    out.print(table)


@main.command()
@click.option("--limit", default=10, show_default=True, help="How many runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def runs(ctx: Ctx, limit: int, as_json: bool) -> None:
    """List recent runs with their stages, counts and failures."""
    from .records import as_dict

    items = ctx.store().runs(limit)
    if as_json:
        out.print_json(json.dumps(as_dict(items), ensure_ascii=False))
        return
    table = Table(title="runs")
    for col in ("started", "edition", "status", "stages", "failures"):
        table.add_column(col, overflow="fold")
    for r in items:
        stages = " ".join(f"{s.name}:{s.seconds:.1f}s" for s in r.stages)
        table.add_row(r.started.isoformat()[:19], r.edition.isoformat(), r.status, stages, str(len(r.failures)))
    out.print(table)


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/demo", show_default=True,
              help="Where to write the demo briefing.")
@click.option("--date", "day", default=None, help="Edition date (default: the demo day, 2026-04-10).")
def demo(out_dir: str, day: str | None) -> None:
    """Serve the bundled demo day on 127.0.0.1 and run the whole pipeline against it."""
    import os

    from .demo import DEMO_DATE, demo_config, demo_dir, serve_directory

    target = Path(out_dir)
    db = Path(os.environ.get("DAILYBRIEF_DB") or target / ".state" / "dailybrief.db")
    with serve_directory(demo_dir()) as base:
        console.print(f"demo feeds served at {base}/feeds/")
        ctx = Ctx(None)
        cfg = config_mod.from_dict({**demo_config(base), "storage": {"path": str(db.resolve())}})
        ctx._cfg = cfg
        report = _run(ctx, date.fromisoformat(day or DEMO_DATE), target)
    if report.status in ("empty", "failed") or not report.outputs:
        raise SystemExit(1)
    out.print(f"\nThe demo briefing is in {target.resolve()}/")


if __name__ == "__main__":  # pragma: no cover
    main()
