"""`p`: the plan of the selected domain's fixes, and publishing it (SPEC §6 "Dashboard").

A mixin of `EsmApp`. The plan is computed as `esm-tui fix` computes it (esm_tui.publish
.service), from the latest report and the zone's record sets read fresh, in a worker of
its own so the screen never waits on DNS. With `[publish]` the plan screen offers to
publish; once published the domain goes into watch mode, so the admin sees the records
propagate and the cards turn green.
"""

from __future__ import annotations

from esm_tui.dns import Dns, system_nameservers
from esm_tui.publish.plan import Plan
from esm_tui.publish.zone import Zone
from esm_tui.widgets.plan_screen import PlanScreen


class PublishActions:
    def action_plan(self) -> None:
        record = self.current_record()  # type: ignore[attr-defined]
        if record is None:
            self.notify("Select a domain first.", markup=False)  # type: ignore[attr-defined]
            return
        domain = record[0]
        if self.monitor.report(domain) is None:  # type: ignore[attr-defined]
            self.notify(f"{domain} has not been checked yet.", markup=False)  # type: ignore[attr-defined]
            return
        self.notify(f"Reading the zone of {domain}…", title="Plan", markup=False, timeout=2)  # type: ignore[attr-defined]
        self.run_worker(self._show_plan(domain), group="plan", exit_on_error=False)  # type: ignore[attr-defined]

    def _plan_resolver(self) -> Dns:
        settings = self.config.settings  # type: ignore[attr-defined]
        servers = self._nameservers or settings.nameservers or system_nameservers()  # type: ignore[attr-defined]
        return Dns(list(servers), timeout=settings.timeout, retries=settings.retries)

    async def _show_plan(self, domain: str) -> None:
        from esm_tui.publish.render import plan_text
        from esm_tui.publish.service import PublishError, plan_for, target_for
        from esm_tui.publish.zone import ZoneError

        config = self.config  # type: ignore[attr-defined]
        report = self.monitor.report(domain)  # type: ignore[attr-defined]
        note = ""
        try:
            target = target_for(config, domain)
        except PublishError as exc:
            target, note = None, str(exc)
        if target is None and not note:
            note = "No [publish] configured: this is the guide. c copies a record's value."
        resolver = self._plan_resolver()
        try:
            zone, plan = await plan_for(
                resolver, report, config.domain_settings(domain), target, config.settings.port
            )
        except ZoneError as exc:
            self.notify(str(exc), title="No plan", severity="error", markup=False)  # type: ignore[attr-defined]
            return
        finally:
            resolver.close()
        text = plan_text(plan) + _host_steps(report, plan)
        confirm = next((c.confirm for c in plan.automatic if c.confirm), None)
        screen = PlanScreen(
            f"Fix {domain}",
            text,
            can_publish=target is not None and bool(plan.automatic),
            confirm=confirm,
            note=note,
        )

        def published(go: bool | None) -> None:
            if go:
                self.run_worker(  # type: ignore[attr-defined]
                    self._publish(domain, zone, target, plan), group="plan", exit_on_error=False
                )

        self.push_screen(screen, published)  # type: ignore[attr-defined]

    async def _publish(self, domain: str, zone: Zone, target, plan: Plan) -> None:
        from esm_tui.publish.service import PublishError, publish

        resolver = self._plan_resolver()
        try:
            settings = self.config.settings  # type: ignore[attr-defined]
            # The journal (for `esm-tui fix --undo`) lives with the history: not in a run
            # that keeps none (the demo).
            outcome = await publish(
                resolver,
                domain,
                zone,
                target,
                plan.automatic,
                settings.port,
                journal_it=settings.history,
            )
        except PublishError as exc:
            self.notify(str(exc), title="Not published", severity="error", markup=False)  # type: ignore[attr-defined]
            return
        finally:
            resolver.close()
        if not outcome.applied:
            self.notify(outcome.message, title="Not published", severity="error", markup=False)  # type: ignore[attr-defined]
            return
        self.notify(  # type: ignore[attr-defined]
            f"{outcome.message}: {len(plan.automatic)} record set(s) of {domain}. Watching it "
            "until every record is OK.",
            title="Published",
            markup=False,
        )
        watches = self.watches  # type: ignore[attr-defined]
        if not watches.is_watching(domain):
            watches.start(domain)
        self._watch_tick()  # type: ignore[attr-defined]
        self._refresh_row(domain)  # type: ignore[attr-defined]
        self._refresh_cards()  # type: ignore[attr-defined]


def _host_steps(report, plan: Plan) -> str:
    """The DNS host's own steps for each change (esm_tui.hosts), after the plan."""
    lines: list[str] = []
    for change in plan.changes:
        result = report.checks.get(change.check)
        fix = result.fix if result is not None else None
        if fix is None or not fix.host_steps:
            continue
        lines.append("")
        lines.append(f"At your DNS host — {change.type} {change.name}:")
        lines.extend(f"  {i}. {step}" for i, step in enumerate(fix.host_steps, start=1))
    return "\n".join(lines) + ("\n" if lines else "")
