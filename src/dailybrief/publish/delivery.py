"""Delivery: each [[publish]] target gets an edition at most once; the delivery log says what went where.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .. import plugins
from ..errors import Interrupted, NotConfigured, PublishError

if TYPE_CHECKING:
    from ..config import Config, PublishConfig
    from ..store import Store
from . import mail, site, webhooks, wechat  # noqa: F401

__all__ = ["deliver", "make_target"]
from .base import PUBLISHERS, Delivery, Edition, Target, register_publisher

log = logging.getLogger(__name__)


def make_target(conf: PublishConfig, cfg: Config) -> Target:
    """Build the target a [[publish]] entry names; NotConfigured when its credentials are missing."""
    if conf.kind not in PUBLISHERS:
        plugins.load(plugins.PUBLISHERS, conf.kind, register_publisher)
    factory = PUBLISHERS.get(conf.kind)
    if factory is None:
        raise PublishError(f"publish target '{conf.name}': no publisher for kind '{conf.kind}' "
                           f"(known: {', '.join(sorted(PUBLISHERS))})")
    return factory(conf, cfg)


def _interrupted(row: dict[str, Any]) -> str:
    return (f"a delivery started {str(row.get('last_attempt') or '')[:19]} was interrupted; it may or may not have "
            "arrived. Check, then resend with `dailybrief publish --force` if it did not")


def deliver(cfg: Config, store: Store, edition: Edition, *, names: list[str] | None = None,
            force: bool = False) -> list[Delivery]:
    """Deliver an edition to every [[publish]] target (or the named ones), each at most once.

    Never raises for one target's failure: each outcome is a Delivery, and the
    delivery log says what was sent, when, and what failed.
    """
    confs = [c for c in cfg.publish if c.editions and (names is None or c.name in names)]
    results: list[Delivery] = []
    digest = edition.digest
    for conf in confs:
        name, kind = conf.name, conf.kind
        try:
            target = make_target(conf, cfg)
        except NotConfigured as exc:
            results.append(Delivery(name, kind, "skipped", str(exc)))
            continue
        except PublishError as exc:
            results.append(Delivery(name, kind, "failed", str(exc)))
            continue
        row = store.delivery(edition.day, name)
        if row and not force:
            if row["status"] == "delivered" and (not target.resend_on_change or row["digest"] == digest):
                results.append(Delivery(name, kind, "unchanged", f"already delivered {str(row['delivered'])[:19]}"))
                continue
            if row["status"] in ("sending", "interrupted") and not target.resend_on_change:
                results.append(Delivery(name, kind, "interrupted", _interrupted(row)))
                continue
        store.start_delivery(edition.day, name, kind, digest)
        try:
            detail = target.deliver(edition)
        except Interrupted as exc:
            store.finish_delivery(edition.day, name, ok=False, error=str(exc), status="interrupted")
            results.append(Delivery(name, kind, "interrupted", str(exc)))
            continue
        except PublishError as exc:
            store.finish_delivery(edition.day, name, ok=False, error=str(exc))
            results.append(Delivery(name, kind, "failed", str(exc)))
            continue
        except Exception as exc:
            log.exception("publish target %s crashed", name)
            msg = f"crashed: {type(exc).__name__}: {exc}"
            store.finish_delivery(edition.day, name, ok=False, error=msg)
            results.append(Delivery(name, kind, "failed", msg))
            continue
        store.finish_delivery(edition.day, name, ok=True, detail=detail)
        results.append(Delivery(name, kind, "delivered", detail))
    return results
