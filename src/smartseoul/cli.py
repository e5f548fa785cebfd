"""The ``smartseoul`` command."""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import sys
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from smartseoul.core.settings import Settings, get_settings

app = typer.Typer(
    help="Smart Seoul: run the platform, load the demo city, manage users.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
seed_app = typer.Typer(help="Load data.", no_args_is_help=True)
user_app = typer.Typer(help="Accounts and roles.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit ledger.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for devices and integrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(seed_app, name="seed")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(apikey_app, name="apikey")
out = Console()
err = Console(stderr=True)
log = logging.getLogger("smartseoul")


def _settings() -> Settings:
    settings = get_settings()
    from smartseoul.core.logs import setup_logging

    setup_logging(settings.log_level, settings.log_json)
    return settings


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def _platform(settings: Settings) -> Any:
    from smartseoul.core.bootstrap import bootstrap
    from smartseoul.core.db import DatabaseUnavailable, check_database

    platform = bootstrap(settings)
    try:
        check_database(platform.db.engine)
    except DatabaseUnavailable as error:
        _fail(str(error))
    return platform


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations of every domain."""
    from smartseoul.core.migrate import current_revision, upgrade

    platform = _platform(_settings())
    upgrade(platform.db.engine, revision)
    out.print(f"database at revision {current_revision(platform.db.engine)} ({platform.db.dialect})")


def _seed(platform: Any) -> dict[str, int]:
    from smartseoul.city import service as city
    from smartseoul.core.events import Event
    from smartseoul.domains import plugins

    events: list[Event] = []
    seeders = [p for p in plugins() if p.seed_demo is not None]
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("loading the demo city", total=len(seeders))
        for plugin in seeders:
            seeder = plugin.seed_demo
            assert seeder is not None
            with platform.db.session() as session:
                events.extend(seeder(platform, session))
            progress.advance(task)
    with platform.db.session() as session:
        counts = city.counts(session)

    async def announce() -> None:
        await platform.bus.start()
        for event in events:
            await platform.bus.publish(event)
        await platform.bus.close()

    asyncio.run(announce())
    return counts


def _city_counts(platform: Any) -> dict[str, int]:
    from smartseoul.city import service as city

    with platform.db.session() as session:
        return city.counts(session)


@seed_app.command("demo")
def seed_demo() -> None:
    """Load the demo city of Seoul: districts, neighbourhoods, police stations, 587 schools."""
    platform = _platform(_settings())
    counts = _seed(platform)
    out.print("demo city loaded: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def _read_password(password_stdin: bool) -> str:
    if password_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        _fail("the passwords differ")
    return first


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Option(help="Login name (lower case).")],
    role: Annotated[list[str], typer.Option(help="Role; repeat for several.")],
    display_name: Annotated[str, typer.Option(help="Name shown in the UI.")] = "",
    district: Annotated[str | None, typer.Option(help="District code of district staff.")] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
) -> None:
    """Add an account. The password is read from standard input or prompted (never an argument)."""
    from smartseoul.core import auth

    platform = _platform(_settings())
    password = _read_password(password_stdin)
    try:
        with platform.db.session() as session:
            user = auth.create_user(
                session,
                username=username,
                password=password,
                roles=role,
                actor="cli",
                display_name=display_name,
                district_code=district,
            )
            needs_mfa = user.needs_mfa
    except auth.InvalidInput as error:
        _fail(str(error), 2)
    out.print(f"user {username} added with roles {', '.join(sorted(set(role)))}")
    if needs_mfa:
        out.print("this role needs two-step verification: the user sets it up at the first web login")


@user_app.command("list")
def user_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the accounts."""
    from sqlalchemy import select

    from smartseoul.core.models import User

    platform = _platform(_settings())
    with platform.db.session() as session:
        users = [
            {"username": u.username, "roles": u.role_names, "mfa": u.totp_enabled, "active": u.active}
            for u in session.scalars(select(User).order_by(User.username))
        ]
    if as_json:
        print(json.dumps(users, ensure_ascii=False))
        return
    table = Table("username", "roles", "mfa", "active")
    for u in users:
        table.add_row(u["username"], ", ".join(u["roles"]), str(u["mfa"]), str(u["active"]))
    out.print(table)


@apikey_app.command("add")
def apikey_add(name: Annotated[str, typer.Option()], role: Annotated[str, typer.Option()]) -> None:
    """Create an API key; it is printed once."""
    from smartseoul.core import auth

    platform = _platform(_settings())
    try:
        with platform.db.session() as session:
            key = auth.create_api_key(session, name=name, role=role, actor="cli")
    except auth.InvalidInput as error:
        _fail(str(error), 2)
    print(key)


@audit_app.command("verify")
def audit_verify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check the hash chain of the audit ledger; exit 1 and name the first broken row if any."""
    from smartseoul.core import audit

    platform = _platform(_settings())
    with platform.db.session() as session:
        result = audit.verify(session)
    if as_json:
        print(
            json.dumps(
                {
                    "ok": result.ok,
                    "checked": result.checked,
                    "broken_at": result.broken_at,
                    "problem": result.problem,
                }
            )
        )
    elif result.ok:
        out.print(f"audit ledger intact: {result.checked} rows checked")
    else:
        err.print(
            f"[red]audit ledger broken at row {result.broken_at}:[/red] {result.problem} "
            f"({result.checked} rows before it are intact)"
        )
    if not result.ok:
        raise typer.Exit(1)


def _serve(settings: Settings, host: str | None, port: int | None, simulate: bool) -> None:
    import uvicorn

    from smartseoul.core import heap
    from smartseoul.core.bus import BusUnavailable
    from smartseoul.core.db import DatabaseUnavailable
    from smartseoul.web.app import create_app

    platform = _platform(settings)
    try:
        asyncio.run(platform.bus.start())
        asyncio.run(platform.bus.close())
    except BusUnavailable as error:
        _fail(str(error))
    platform = _platform(settings)
    application = create_app(platform, simulate=simulate, server=True)
    heap.tune_for_server()
    try:
        uvicorn.run(
            application,
            host=host or settings.host,
            port=port or settings.port,
            log_config=None,
            access_log=False,
        )
    except (DatabaseUnavailable, BusUnavailable) as error:
        _fail(str(error))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default SMARTSEOUL_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default SMARTSEOUL_PORT).")] = None,
    simulate: Annotated[bool, typer.Option(help="Run the simulator inside the server.")] = False,
) -> None:
    """Serve the web app, the API and the device listeners."""
    _serve(_settings(), host, port, simulate)


def _ensure_demo_users(platform: Any) -> list[tuple[str, str, str, str]]:
    """Demo accounts with known passwords and TOTP secrets, printed so a visitor can log in."""
    from smartseoul.core import auth

    demo = [
        ("admin", "admin", "Namsan-tower-2015"),
        ("operator", "operator", "Hangang-bridge-2015"),
        ("auditor", "auditor", "Gyeongbok-palace-2015"),
    ]
    from smartseoul.services.identity.seed import DEMO_PASSWORD, DEMO_USERNAME
    from smartseoul.tracking.seed import DEMO_GUARDIAN

    rows = []
    with platform.db.session() as session:
        seeded = [(DEMO_GUARDIAN[0], "guardian", DEMO_GUARDIAN[1]), (DEMO_USERNAME, "citizen", DEMO_PASSWORD)]
        for username, role, password in seeded:
            if auth.get_user(session, username) is not None:
                rows.append((username, role, password, f"(not needed for {role}s)"))
        for username, role, password in demo:
            user = auth.get_user(session, username)
            if user is None:
                user = auth.create_user(
                    session, username=username, password=password, roles=[role], actor="demo"
                )
                user.totp_secret = auth.new_totp_secret()
                user.totp_enabled = True
            rows.append((username, role, password, user.totp_secret or ""))
    return rows


@app.command()
def demo(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Migrate, load the demo city of Seoul, create demo users, and serve with the simulator running."""
    from smartseoul.core.migrate import upgrade

    settings = _settings()
    platform = _platform(settings)
    upgrade(platform.db.engine)
    counts = _city_counts(platform)
    if counts["districts"] == 0:
        counts = _seed(platform)
    users = _ensure_demo_users(platform)
    out.print("demo city: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    print("Demo accounts (two-step verification is on; add the secret to an authenticator app):")
    for username, role, password, secret in users:
        print(f"  {username:<9} role {role:<9} password {password:<22} TOTP secret {secret}")
    out.print("current codes: [bold]smartseoul user otp USERNAME[/bold] (demo accounts only)")
    base = f"http://{host or settings.host}:{port or settings.port}"
    out.print(f"open {base}/console (staff), {base}/portal (citizens), {base}/app (guardians)")
    _serve(settings, host, port, simulate=True)


@user_app.command("otp")
def user_otp(username: str) -> None:
    """Print the current TOTP code of a demo account (accounts created by `smartseoul demo` only)."""
    import pyotp
    from sqlalchemy import select

    from smartseoul.core.models import AuditEntry, User

    platform = _platform(_settings())
    with platform.db.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        created_by_demo = session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "user.create",
                AuditEntry.target == f"user:{username}",
                AuditEntry.actor == "demo",
            )
        )
        if user is None or not user.totp_secret or created_by_demo is None:
            _fail(f"{username} is not a demo account with two-step verification")
        print(pyotp.TOTP(user.totp_secret).now())


@app.command()
def simulate(
    duration: Annotated[float | None, typer.Option(help="Seconds to run (default: until Ctrl-C).")] = None,
    rate: Annotated[
        float | None, typer.Option(help="Events per second (default SMARTSEOUL_SIMULATE_RATE).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed, for a repeatable run.")] = None,
) -> None:
    """Drive synthetic city activity through the event bus (use the NATS bus to reach a server)."""
    from smartseoul.core.bus import BusUnavailable
    from smartseoul.core.simulate import Simulator

    settings = _settings()
    platform = _platform(settings)

    async def run() -> int:
        await platform.bus.start()
        try:
            with Progress(console=err) as progress:
                task = progress.add_task("simulating", total=None)
                simulator = Simulator(platform, rate=rate, seed=seed)
                return await simulator.run(duration, on_event=lambda n: progress.update(task, completed=n))
        finally:
            await platform.bus.close()

    try:
        published = asyncio.run(run())
    except BusUnavailable as error:
        _fail(str(error))
    except KeyboardInterrupt:
        return
    out.print(f"published {published} events")


@app.command()
def bench(
    name: Annotated[str | None, typer.Argument(help="Benchmark to run (see --list).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the benchmarks.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as one JSON object.")] = False,
    quick: Annotated[bool, typer.Option(help="Shorter runs (for smoke tests).")] = False,
) -> None:
    """Run a benchmark from bench/; each prints one comparable rate or ratio per line."""
    from smartseoul.benchmarks import available, run_benchmark

    names = available()
    if list_ or name is None:
        for bench_name, doc in names.items():
            print(f"{bench_name}\t{doc}")  # plain: `make bench` cuts the names on the tab
        return
    if name not in names:
        _fail(f"unknown benchmark {name!r}; choose from {', '.join(names)}", 2)
    figures = run_benchmark(name, quick=quick)
    if as_json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")


def _bounds(field: Any) -> str:
    symbols = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    found = [
        f"{symbols[name]}{getattr(meta, name)}"
        for meta in field.metadata
        for name in symbols
        if getattr(meta, name, None) is not None
    ]
    return f" ({', '.join(found)})" if found else ""


def settings_markdown() -> str:
    """The README's Configuration table, generated so that it cannot drift from the code."""
    lines = ["| variable | default | description |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = "(empty)" if field.default in ("", None) else f"`{field.default}`"
        lines.append(f"| `SMARTSEOUL_{name.upper()}` | {default} | {field.description}{_bounds(field)} |")
    return "\n".join(lines)


@app.command()
def config(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="The table for the README.")] = False,
) -> None:
    """Show every setting with its description and current value."""
    if markdown:
        print(settings_markdown())
        return
    settings = _settings()
    rows = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        shown = "***" if name == "secret_key" and value else str(value)
        rows.append(
            {"variable": f"SMARTSEOUL_{name.upper()}", "value": shown, "description": field.description}
        )
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("variable", "value", "description")
    for row in rows:
        table.add_row(row["variable"], row["value"], row["description"] or "")
    out.print(table)


def _add_domain_commands() -> None:
    """Each domain brings its own admin commands (`smartseoul device ...`, ...)."""
    from smartseoul.domains import plugins

    for plugin in plugins():
        if plugin.cli is not None:
            for name, sub in plugin.cli().items():
                app.add_typer(sub, name=name)


_add_domain_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
