"""The `zhenggai` command: the one way to run things."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

import click


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhenggai.settings")
    import django

    django.setup()


def _migrate(verbose: bool = False) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)


def _org(org_id: int | None):
    from zhenggai.org.models import Organisation

    qs = Organisation.objects.order_by("pk")
    org = qs.filter(pk=org_id).first() if org_id else qs.first()
    if org is None:
        raise click.ClickException(
            "No organisation yet. Run `zhenggai replay` for the Anshan demo, "
            "or create one in the admin."
        )
    return org


@click.group()
@click.version_option(package_name="zhenggai")
def main() -> None:
    """zhenggai (整改): run a rectification campaign and keep its figures honest.

    Data lives in $ZHENGGAI_DATA (default ./data) unless DATABASE_URL selects PostgreSQL.
    """


@main.command()
def migrate() -> None:
    """Create or update the database tables."""
    _setup()
    _migrate(verbose=True)


@main.command()
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="", help="Display name of the member.")
@click.option("--org", "org_id", type=int, default=None, help="Organisation id (default: first).")
def createadmin(username: str, password: str, name: str, org_id: int | None) -> None:
    """Create an administrator (Django superuser and member of the organisation)."""
    _setup()
    _migrate()
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from zhenggai.org.models import Member, Organisation

    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise click.ClickException(f"User {username!r} exists already.")
    if len(password) < 8:
        raise click.ClickException("Use a password of at least 8 characters.")
    with transaction.atomic():
        org = (Organisation.objects.filter(pk=org_id).first() if org_id
               else Organisation.objects.order_by("pk").first())
        if org is None:
            org = Organisation.objects.create(name="组织", name_en="Organisation")
        user = User.objects.create_superuser(username=username, password=password)
        Member.objects.create(org=org, user=user, name=name or username)
    click.echo(f"Created administrator {username} in {org.name}.")


@main.command()
@click.option("--once", is_flag=True, help="Enqueue today's sweep if needed, run what is "
                                           "queued, and stop.")
@click.option("--every", default=60.0, show_default=True, type=float,
              help="Seconds between the scheduler's rounds (telling events, sending).")
def worker(once: bool, every: float) -> None:
    """Run the background work: notifications of each event and their sending (mail, group
    robots), and once a day deadline reminders, overdue problems to the board,
    consolidation re-checks, follow-up questionnaires and the daily summaries. No broker
    needed."""
    _setup()
    _migrate()
    from zhenggai.notifications.worker import run

    run(once=once, every=every)


@main.command()
def embed() -> None:
    """Compute the sentence vector of every opinion that has none (the worker does this
    every minute), for semantic grouping."""
    _setup()
    from zhenggai.grouping import vectors

    if vectors.model() is None:
        raise click.ClickException("the embedding model is off (ZHENGGAI_EMBEDDINGS) or not "
                                   "installed / 嵌入模型未启用或未安装")
    total = 0
    while n := vectors.embed_pending():
        total += n
    click.echo(f"{total} opinions embedded.")


@main.command()
@click.option("--now", is_flag=True, help="Release the day so far too (its rows are then "
                                          "grouped apart from the rest of the day).")
def shuffle(now: bool) -> None:
    """Rewrite the rows of the days that are over in random order (the worker's daily sweep
    does this), so that no order in the database dates an anonymous opinion."""
    _setup()
    from zhenggai.opinions import shuffle as S

    if now:
        S.mark_day(now=True)
    click.echo(f"{S.shuffle()} rows written again in random order.")


@main.group("import")
def import_() -> None:
    """Import opinions from paper forms, or an events export."""


@import_.command("opinions")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option("--as", "username", required=True, help="The clerk doing the import.")
@click.option("--dry-run", is_flag=True, help="Report row by row; write nothing.")
def import_opinions(path: str, campaign_id: int, username: str, dry_run: bool) -> None:
    """Import opinions from an .xlsx or .csv file (headers in Chinese or English).

    Safe to run again, or after it was interrupted: each row goes in exactly once."""
    _setup()
    from zhenggai.campaigns.models import Campaign
    from zhenggai.errors import DomainError
    from zhenggai.exchange.importer import import_opinions as run
    from zhenggai.org.models import Member

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    actor = Member.objects.filter(user__username=username).first()
    if campaign is None or actor is None:
        raise click.ClickException("No such campaign or user.")
    try:
        report = run(path, campaign=campaign, actor=actor, dry_run=dry_run,
                     progress=lambda r: click.echo(f"  {r.imported:,} imported…", err=True))
    except DomainError as e:
        raise click.ClickException(str(e)) from None
    for r in report.results if dry_run else report.errors:
        label = {"import": "would import", "exists": "already in", "error": "ERROR"}[r.status]
        click.echo(f"row {r.row}: {label}: {r.reason or r.text}")
    verb = "would import" if dry_run else "imported"
    n = sum(1 for r in report.results if r.status == "import") if dry_run else report.imported
    click.echo(f"{report.rows} rows: {verb} {n}, already in {report.existing}, "
               f"bad {len(report.errors)}")


@import_.command("events")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_events(path: str) -> None:
    """Load an events export (with its .org.json) into an empty instance."""
    _setup()
    _migrate()
    from zhenggai.errors import DomainError
    from zhenggai.exchange.reimport import import_events as run

    try:
        info = run(path)
    except DomainError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"loaded {info['opinions']:,} opinions, {info['problems']:,} problems, "
               f"{info['events']:,} events into organisation {info['org']}")


@main.group()
def export() -> None:
    """Export the ledger (整改台账) or the event log."""


@export.command("ledger")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--english", is_flag=True, help="English headers and words.")
@click.option("--org", "org_id", type=int, default=None)
def export_ledger(path: str, english: bool, org_id: int | None) -> None:
    """The ledger as .xlsx or .csv, with the columns a plant's 整改台账 uses."""
    _setup()
    from zhenggai.exchange.exporter import export_ledger as run

    n = run(_org(org_id), path, english)
    click.echo(f"{n:,} problems written to {path}")


@export.command("events")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--org", "org_id", type=int, default=None)
def export_events(path: str, org_id: int | None) -> None:
    """Every event as a JSON line (and FILE.org.json beside it)."""
    _setup()
    from zhenggai.exchange.exporter import export_events as run

    n = run(_org(org_id), path)
    click.echo(f"{n:,} events written to {path}")


@main.group()
def token() -> None:
    """Per-member API tokens: shown once, stored hashed, revocable."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="", help="What the token is for.")
def token_create(username: str, name: str) -> None:
    """Issue a token for the member signed in as USERNAME; print it once."""
    _setup()
    from zhenggai.api.models import ApiToken
    from zhenggai.org.models import Member

    member = Member.objects.filter(user__username=username).first()
    if member is None:
        raise click.ClickException(f"No member signs in as {username!r}.")
    row, plain = ApiToken.issue(member, name)
    click.echo(plain)
    click.echo(f"Token {row.prefix}… for {member.name}. It is shown only now; keep it safe.",
               err=True)


@token.command("list")
@click.argument("username")
def token_list(username: str) -> None:
    """The tokens of USERNAME, by prefix."""
    _setup()
    from django.utils import timezone

    from zhenggai.api.models import ApiToken

    for row in ApiToken.objects.filter(member__user__username=username).order_by("created_at"):
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
        used = f"{timezone.localtime(row.last_used_at):%Y-%m-%d}" if row.last_used_at else "never"
        click.echo(f"{row.prefix}  {row.name:<20} {state:<18} last used {used}")


@token.command("revoke")
@click.argument("prefix")
def token_revoke(prefix: str) -> None:
    """Revoke the live token starting with PREFIX (as `token list` shows it, or zg_PREFIX)."""
    _setup()
    from zhenggai.api.models import ApiToken

    prefix = prefix.removeprefix("zg_")
    rows = list(ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True))
    if len(rows) != 1:
        raise click.ClickException(f"{len(rows)} live tokens start with {prefix!r}; "
                                   "need exactly one.")
    rows[0].revoke()
    click.echo(f"Revoked {prefix}….")


@main.command()
@click.option("--quiet", is_flag=True)
def replay(quiet: bool) -> None:
    """Build the Anshan 1958 replay into an empty database (does not serve)."""
    _setup()
    _migrate()
    from zhenggai.demo import replay as anshan

    if anshan.exists():
        click.echo("The Anshan replay is already in this database; nothing to do.")
        return
    result = anshan.build(progress=None if quiet else click.echo)
    if not quiet:
        click.echo(_replay_figures(result))


def _replay_figures(result) -> str:
    from zhenggai.demo.replay import CLAIMED_BY, REPORT, ROUND
    from zhenggai.figures.queries import figures

    rows = []
    for label, day in (("before the review (01-15)", CLAIMED_BY),
                       ("after the review round (01-20)", ROUND[1]),
                       ("the report (01-28)", REPORT)):
        t = figures(result.org.pk, day)["total"]
        rows.append(
            f"{label:<32} problems {t['problems']:>5}  claimed {t['claimed_resolved']:>5} "
            f"({t['claimed_share']:.1%})  verified {t['verified_resolved']:>5} "
            f"({t['verified_share']:.1%})  false figures {t['false_figures']:>4}"
        )
    return "\n".join(["", "The Anshan replay:", *rows])


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve zhenggai over HTTP (gunicorn)."""
    _setup()
    _migrate()
    _serve(host, port, workers)


def _serve(host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    from zhenggai.serving import configure
    from zhenggai.wsgi import application

    class App(BaseApplication):
        def load_config(self):
            # What the logs may say: see serving.py (nothing that dates an anonymous opinion).
            configure(self.cfg, bind=f"{host}:{port}", workers=workers)

        def load(self):
            return application

    App().run()


def _demo_logins(url: str) -> str:
    from zhenggai.campaigns.models import Role
    from zhenggai.demo.production import PRODUCTION_USERS
    from zhenggai.demo.replay import DEMO_PASSWORD, DEMO_USERS, receipt_file

    lines = [f"zhenggai is at {url}", "", "Sign in as (password: " + DEMO_PASSWORD + "):"]
    for username, (name, _unit, roles) in DEMO_USERS.items():
        role = roles[0] if roles else Role.WORKER
        lines.append(f"  {role:<15} {username:<15} {name}")
    for username, (name, roles) in PRODUCTION_USERS.items():
        lines.append(f"  {roles[0]:<15} {username:<15} {name}")
    f = receipt_file()
    if f.exists():
        lines.append("")
        lines.append(f"An anonymous proposer's receipt: {f.read_text().strip()}")
    lines.append(f"Admin (configuration): {url}admin/")
    return "\n".join(lines)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Build the replay and print the logins only.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Build the Anshan replay if needed, print the logins, and serve."""
    # The demo runs on its own key and any host name; a production server never does.
    os.environ["ZHENGGAI_DEMO"] = "1"
    _setup()
    _migrate()
    from zhenggai.demo import replay as anshan

    if not anshan.exists():
        click.echo("Building the Anshan 1958 replay (once; under two minutes)…")
        anshan.build(progress=click.echo)
    click.echo("")
    click.echo(_demo_logins(f"http://{host}:{port}/"))
    if not no_serve:
        # The demo's worker: notifications arrive within seconds of the act.
        import subprocess
        import sys

        worker_proc = subprocess.Popen([sys.executable, "-m", "zhenggai.cli", "worker",
                                        "--every", "5"])
        try:
            _serve(host, port, 2)
        finally:
            worker_proc.terminate()
            worker_proc.wait(10)


def _parse_day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use a date like 1958-01-20") from None


TABLE_COLUMNS = [
    ("opinions", "opinions"), ("problems", "problems"), ("claims", "claims"),
    ("claimed_resolved", "claimed"), ("verified_resolved", "verified"),
    ("false_figures", "false"), ("reopened", "reopened"), ("satisfied", "satisfied"),
    ("followups_answered", "answered"), ("overdue", "overdue"),
    ("mean_age_days", "age(d)"), ("mean_lead_days", "lead(d)"),
]


def _table(result: dict) -> str:
    head = ["", *[h for _k, h in TABLE_COLUMNS]]
    rows = [["total", *[result["total"][k] for k, _h in TABLE_COLUMNS]]]
    for g in result.get("groups", []):
        name = g["label"] if g["key"] is not None else "(none)"
        rows.append([str(name), *[g[k] for k, _h in TABLE_COLUMNS]])
    cells = [[("" if v is None else str(v)) for v in r] for r in [head, *rows]]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(head))]
    lines = []
    for r in cells:
        lines.append("  ".join(
            (c + " " * (widths[i] - _width(c))) if i == 0 else (" " * (widths[i] - _width(c)) + c)
            for i, c in enumerate(r)))
    from django.utils import translation

    from zhenggai.figures.shares import describe

    t = result["total"]
    lines.append("")
    with translation.override("en"):  # the table is in English
        lines.append(
            f"as of {result['as_of']}: claimed resolved {describe(t, 'claimed_share')}, "
            f"verified {describe(t, 'verified_share')}; false figures {t['false_figures']} "
            f"({describe(t, 'false_share')}); regression rate "
            f"{describe(t, 'regression_rate')}; satisfaction {describe(t, 'satisfaction')}"
        )
    return "\n".join(lines)


def _width(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


@main.command()
@click.option("--as-of", "as_of", default=None, help="A past day, YYYY-MM-DD (default: today).")
@click.option("--by", type=click.Choice(["unit", "category", "owner", "campaign"]), default=None)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--org", "org_id", type=int, default=None, help="Organisation id (default: first).")
@click.option("--verify", is_flag=True,
              help="Also recompute every figure from the events, fold every problem's events "
                   "and compare with the stored problem, and report any difference.")
def figures(as_of: str | None, by: str | None, fmt: str, org_id: int | None,
            verify: bool) -> None:
    """Print the figures: claimed against verified, false figures, and the rest."""
    day = _parse_day(as_of)
    _setup()
    from zhenggai.figures.queries import figures as compute
    from zhenggai.figures.reference import differences
    from zhenggai.org import clock

    org = _org(org_id)
    result = compute(org.pk, day, by)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(_table(result))
    if verify:
        from zhenggai.problems.audit import drift

        diffs = differences(org.pk, day or clock.today(org))
        drifted = drift(org.pk)
        if diffs:
            click.echo("\n".join(diffs[:50]), err=True)
            click.echo(f"{len(diffs)} figures disagree with the events.", err=True)
        if drifted:
            click.echo("\n".join(drifted), err=True)
            click.echo(f"{len(drifted)} fields of stored problems disagree with their events: "
                       "pages and exports show what the events do not support.", err=True)
        if diffs or drifted:
            sys.exit(1)
        click.echo("Every figure agrees with a recomputation from the events, and every "
                   "problem with the fold of its events.", err=True)


@main.command()
def lifecycle() -> None:
    """Print the lifecycle of a problem, from its registry: actions, from-states, to-state,
    roles; then where each is taken (page form, API endpoint)."""
    _setup()
    from zhenggai.problems.registry import ACTIONS, Absent

    for a in ACTIONS.values():
        src = ", ".join(sorted(a.sources)) or "(new)"
        to = a.target or "(unchanged)"
        click.echo(f"{a.kind:<20} {src:<55} → {to:<12} by {', '.join(sorted(a.roles))}")
        for outcome, sources, target in a.otherwise:
            click.echo(f"{'':<20} {'  ' + outcome + ': ' + ', '.join(sorted(sources)):<55} "
                       f"→ {target}")
    click.echo("")
    for a in ACTIONS.values():
        form = a.form.why if isinstance(a.form, Absent) else f"form do={a.form.do}"
        api = a.api.why if isinstance(a.api, Absent) else f"POST /api/v1{a.api.path}"
        click.echo(f"{a.kind:<20} {form}; {api}")


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def manage(ctx: click.Context) -> None:
    """Run a Django management command (e.g. `zhenggai manage check`)."""
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["zhenggai manage", *ctx.args])



@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
def backup(path: str) -> None:
    """Back up the database to PATH: SQLite by its online backup API (safe while serving),
    PostgreSQL by pg_dump (custom format). Photos go to PATH.media.tar beside it."""
    _setup()
    from zhenggai.errors import DomainError
    from zhenggai.exchange.backup import backup as run

    try:
        info = run(path)
    except DomainError as e:
        raise click.ClickException(str(e)) from None
    media = f" and {info['media']:,} media files" if info["media"] else ""
    click.echo(f"{info['engine']} backup written to {path} ({info['bytes']:,} bytes){media}")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace the data this instance holds.")
def restore(path: str, force: bool) -> None:
    """Restore a backup made by `zhenggai backup` into this (empty) instance. Stop the
    servers and workers first."""
    _setup()
    from zhenggai.errors import DomainError
    from zhenggai.exchange.backup import restore as run

    try:
        run(path, force=force)
    except DomainError as e:
        raise click.ClickException(str(e)) from None
    _migrate()  # a backup of an older release comes up to this one's schema
    click.echo(f"restored {path}; check it with `zhenggai figures --verify`")


@import_.command("members")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--campaign", "campaign_id", type=int, default=None,
              help="The campaign the roles are for.")
@click.option("--org", "org_id", type=int, default=None, help="Organisation id (default: first).")
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
def import_members(path: str, campaign_id: int | None, org_id: int | None,
                   dry_run: bool) -> None:
    """Import units, members, sign-in names and campaign roles from an .xlsx or .csv sheet
    (columns 姓名/name, 单位/unit, 单位名称/unit_name, 上级单位/parent, 用户名/username,
    角色/roles, 语言/language). Prints each new sign-in name's first password once."""
    _setup()
    from zhenggai.campaigns.models import Campaign
    from zhenggai.errors import DomainError
    from zhenggai.exchange.members import import_members as run

    org = _org(org_id)
    campaign = None
    if campaign_id is not None:
        campaign = Campaign.objects.filter(pk=campaign_id, org=org).first()
        if campaign is None:
            raise click.ClickException(f"No campaign {campaign_id} in {org.name}.")
    try:
        report = run(path, org=org, campaign=campaign, dry_run=dry_run)
    except DomainError as e:
        raise click.ClickException(str(e)) from None
    for row, reason in report.errors:
        click.echo(f"row {row}: ERROR: {reason}", err=True)
    if report.errors:
        raise click.ClickException(f"{len(report.errors)} bad rows; nothing imported.")
    for username, password in report.logins:
        click.echo(f"{username}\t{password}")
    verb = "would add" if dry_run else "added"
    click.echo(f"{report.rows} rows: {verb} {report.members_new} members, {report.units_new} "
               f"units, {report.roles_new} roles", err=True)
    if report.logins:
        click.echo("The first passwords above are shown only now; hand them out and ask each "
                   "member to change theirs.", err=True)


@main.group("org")
def org_() -> None:
    """Organisations and their campaigns (first setup; the admin pages edit them after)."""


@org_.command("create")
@click.option("--name", required=True, help="The organisation's name.")
@click.option("--name-en", default="", help="Its English name.")
def org_create(name: str, name_en: str) -> None:
    """Create an organisation and print its id."""
    _setup()
    _migrate()
    from zhenggai.org.models import Organisation

    org = Organisation.objects.create(name=name, name_en=name_en)
    click.echo(org.pk)


@org_.command("campaign")
@click.option("--name", required=True)
@click.option("--name-en", default="")
@click.option("--airing-from", required=True, help="YYYY-MM-DD")
@click.option("--rectification-from", required=True, help="YYYY-MM-DD")
@click.option("--review-from", required=True, help="YYYY-MM-DD")
@click.option("--org", "org_id", type=int, default=None, help="Organisation id (default: first).")
def org_campaign(name: str, name_en: str, airing_from: str, rectification_from: str,
                 review_from: str, org_id: int | None) -> None:
    """Create a campaign with its three phases and print its id."""
    days = [_parse_day(d) for d in (airing_from, rectification_from, review_from)]
    if not days[0] <= days[1] <= days[2]:
        raise click.BadParameter("the phases must follow each other: airing, rectification, "
                                 "review")
    _setup()
    from zhenggai.campaigns.models import Campaign

    c = Campaign.objects.create(org=_org(org_id), name=name, name_en=name_en,
                                airing_from=days[0], rectification_from=days[1],
                                review_from=days[2])
    click.echo(c.pk)


def _member(username: str, org_id: int | None = None):
    from zhenggai.org.models import Member

    qs = Member.objects.filter(user__username=username)
    if org_id is not None:
        qs = qs.filter(org_id=org_id)
    m = qs.first()
    if m is None:
        raise click.ClickException(f"No member signs in as “{username}”.")
    return m


def _campaign(campaign_id: int | None, org):
    from zhenggai.campaigns.models import Campaign, current_campaign
    from zhenggai.org import clock

    if campaign_id is not None:
        c = Campaign.objects.filter(pk=campaign_id).first()
    else:
        c = current_campaign(org.pk, clock.today(org))
    if c is None:
        raise click.ClickException("No such campaign.")
    return c


@main.command()
@click.option("--from", "from_user", required=True, help="Sign-in name of the member leaving.")
@click.option("--to", "to_user", default=None, help="Sign-in name of the successor.")
@click.option("--to-unit", "to_unit", default=None, help="Or the code of the successor unit.")
@click.option("--reason", required=True, help="Why (transferred, sent down, left…).")
@click.option("--as", "username", required=True, help="The leader handing over.")
@click.option("--campaign", "campaign_id", type=int, default=None,
              help="Campaign id (default: the current one).")
def handover(from_user: str, to_user: str | None, to_unit: str | None, reason: str,
             username: str, campaign_id: int | None) -> None:
    """Hand all the open problems of a member to a successor (下放): one event per problem,
    with the reason; figures by owner before today are unchanged."""
    _setup()
    from zhenggai.errors import DomainError
    from zhenggai.org.models import Unit
    from zhenggai.problems import actions

    actor = _member(username)
    campaign = _campaign(campaign_id, actor.org)
    unit = None
    if to_unit is not None:
        unit = Unit.objects.filter(org_id=actor.org_id, code=to_unit).first()
        if unit is None:
            raise click.ClickException(f"No unit with code “{to_unit}”.")
    try:
        moved = actions.hand_over(
            campaign, _member(from_user, actor.org_id), actor=actor,
            to=_member(to_user, actor.org_id) if to_user else None, to_unit=unit,
            reason=reason)
    except DomainError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"handed over {len(moved)} problems: "
               + ", ".join(f"#{p.pk}" for p in moved))


@main.group("campaign")
def campaign_() -> None:
    """Work on a campaign: carry problems over from the one before it."""


@campaign_.command("carry-over")
@click.option("--to", "campaign_id", type=int, required=True, help="The new campaign's id.")
@click.option("--as", "username", required=True, help="A leader of the new campaign.")
@click.option("--problem", "problems", type=int, multiple=True,
              help="A problem to carry over (repeat it); leave out with --all.")
@click.option("--all", "everything", is_flag=True,
              help="Every unresolved problem of the previous campaign.")
@click.option("--list", "list_only", is_flag=True,
              help="Only list the unresolved problems that may carry over.")
def campaign_carry_over(campaign_id: int, username: str, problems: tuple[int, ...],
                        everything: bool, list_only: bool) -> None:
    """Carry unresolved problems of the previous campaign into a new one. Nothing carries
    over by itself; each problem keeps its first-raised day, so its age goes on."""
    _setup()
    from zhenggai.errors import DomainError
    from zhenggai.problems import actions

    actor = _member(username)
    campaign = _campaign(campaign_id, actor.org)
    if list_only:
        if campaign.previous_id is None:
            raise click.ClickException(f"Campaign “{campaign}” has no previous campaign.")
        for p in actions.unresolved_to_carry(campaign.previous):
            click.echo(f"#{p.pk}\t{p.first_raised}\t{p.state}\t{p.summary[:60]}")
        return
    if bool(problems) == everything:
        raise click.UsageError("Give --problem N (one or more) or --all.")
    try:
        moved = actions.carry_over_many(campaign, actor=actor,
                                        problems=None if everything else list(problems))
    except DomainError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"carried over {len(moved)} problems into “{campaign}”")
@main.group("webhook")
def webhook() -> None:
    """Group robots (群机器人) of WeCom, DingTalk or Feishu that are told of problems."""


@webhook.command("add")
@click.option("--name", required=True)
@click.option("--provider", required=True, type=click.Choice(["wecom", "dingtalk", "feishu"]))
@click.option("--url", required=True, help="The robot's webhook URL (with its key or token).")
@click.option("--secret", default="", envvar="ZHENGGAI_WEBHOOK_SECRET",
              help="DingTalk/Feishu signing secret (or from ZHENGGAI_WEBHOOK_SECRET).")
@click.option("--unit", "unit_code", default=None, help="Only this unit's problems (code).")
@click.option("--campaign", "campaign_id", type=int, default=None)
@click.option("--language", default="", type=click.Choice(["", "zh-hans", "en"]))
@click.option("--org", "org_id", type=int, default=None, help="Organisation id (default: first).")
def webhook_add(name, provider, url, secret, unit_code, campaign_id, language, org_id) -> None:
    """Add a group robot and print its id."""
    _setup()
    _migrate()
    from django.core.exceptions import ValidationError

    from zhenggai.campaigns.models import Campaign
    from zhenggai.notifications.models import Webhook
    from zhenggai.org.models import Unit

    org = _org(org_id)
    unit = campaign = None
    if unit_code:
        unit = Unit.objects.filter(org=org, code=unit_code).first()
        if unit is None:
            raise click.BadParameter(f"no unit {unit_code!r}", param_hint="--unit")
    if campaign_id:
        campaign = Campaign.objects.filter(org=org, pk=campaign_id).first()
        if campaign is None:
            raise click.BadParameter(f"no campaign {campaign_id}", param_hint="--campaign")
    hook = Webhook(org=org, name=name, provider=provider, url=url, secret=secret, unit=unit,
                   campaign=campaign, language=language)
    try:
        hook.full_clean()
    except ValidationError as e:
        # Which fields are wrong, never their values (the URL holds a credential).
        raise click.ClickException("invalid: " + ", ".join(sorted(e.message_dict))) from None
    hook.save()
    click.echo(hook.pk)


@webhook.command("list")
def webhook_list() -> None:
    """The group robots, without their URLs' keys or their secrets."""
    _setup()
    from urllib.parse import urlsplit

    from zhenggai.notifications.models import Webhook

    for h in Webhook.objects.select_related("unit", "campaign").order_by("pk"):
        scope = h.unit.code if h.unit else (f"campaign {h.campaign_id}" if h.campaign else "all")
        click.echo(f"{h.pk}\t{h.provider}\t{h.name}\t{urlsplit(h.url).hostname}\t{scope}\t"
                   f"{'signed' if h.secret else 'unsigned'}\t{'active' if h.active else 'off'}")


@webhook.command("test")
@click.argument("hook_id", type=int)
def webhook_test(hook_id: int) -> None:
    """Send a test message to a group robot now."""
    _setup()
    from zhenggai.notifications.channels import SendError, test_message
    from zhenggai.notifications.models import Webhook

    hook = Webhook.objects.filter(pk=hook_id).first()
    if hook is None:
        raise click.ClickException(f"no group robot {hook_id}")
    try:
        test_message(hook)
    except SendError as e:
        raise click.ClickException(f"not sent: {e}") from None
    click.echo("sent")


@webhook.command("remove")
@click.argument("hook_id", type=int)
def webhook_remove(hook_id: int) -> None:
    """Remove a group robot (its deliveries go with it)."""
    _setup()
    from zhenggai.notifications.models import Webhook

    if not Webhook.objects.filter(pk=hook_id).delete()[0]:
        raise click.ClickException(f"no group robot {hook_id}")
    click.echo("removed")


if __name__ == "__main__":
    main()
