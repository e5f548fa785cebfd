"""`smartseoul portal ...`: import an old site from a folder of HTML files, list sites, search.

The import is audited with the actor ``cli:<user>`` (or ``--as``); each file is reported as
imported or failed with its reason, and a broken file leaves nothing behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from smartseoul.core.cli_support import cli_actor, command_platform, fail

app = typer.Typer(help="Portal content: sites, import of old sites, search.", no_args_is_help=True)


@app.command("import")
def import_site(
    site: Annotated[str, typer.Argument(help="The slug of the site to import into, e.g. gangnam-gu.")],
    folder: Annotated[Path, typer.Argument(help="The old site's folder of .html files and attachments.")],
    as_user: Annotated[str | None, typer.Option("--as", help="Name written to the audit ledger.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import every .html file under FOLDER: title, body, dates, attachments, old-URL redirects."""
    from smartseoul.portal.content import importer, service

    if not folder.is_dir():
        fail(f"{folder} is not a folder")
    platform = command_platform()
    with platform.db.session() as session:
        try:
            target = service.get_site(session, site)
        except service.NotFound as error:
            fail(str(error), 1)
        report = importer.import_folder(session, platform.settings, target, folder, actor=cli_actor(as_user))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for item in report.imported:
            typer.echo(f"imported {item['file']} -> {item['url']}")
        for item in report.failed:
            typer.echo(f"FAILED   {item['file']}: {item['error']}")
        typer.echo(
            f"{len(report.imported)} imported, {len(report.failed)} failed, "
            f"{report.attachments} attachments, {report.redirects} redirects"
        )
    if report.failed:
        raise typer.Exit(1)


@app.command("sites")
def list_sites(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List every site (slug, kind, name)."""
    from smartseoul.portal.content import service

    platform = command_platform()
    with platform.db.session() as session:
        sites = [service.site_dict(s) for s in service.list_sites(session, with_nav=True)]
    if as_json:
        typer.echo(json.dumps(sites, ensure_ascii=False, indent=2))
        return
    for site in sites:
        typer.echo(f"{site['slug']:<32} {site['kind']:<11} {site['name_ko']}")


@app.command("search")
def search_content(
    query: Annotated[str, typer.Argument(help="Words to find (Korean words inside phrases are found).")],
    site: Annotated[str | None, typer.Option(help="Only this site (slug).")] = None,
    kind: Annotated[str | None, typer.Option(help="page, news, notice, event or service.")] = None,
    relevance: Annotated[bool, typer.Option("--relevance", help="Best match first (else newest).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search the published documents of every site."""
    from smartseoul.portal.content import search, service

    platform = command_platform()
    order: search.Sort = "relevance" if relevance else "date"
    with platform.db.session() as session:
        total, hits = search.search(session, query, search.Filters(site=site, kind=kind), sort=order)
        items = [service.document_dict(d, full=False) for d in hits]
    if as_json:
        typer.echo(json.dumps({"total": total, "items": items}, ensure_ascii=False, indent=2))
        return
    for item in items:
        typer.echo(f"{item['url']}  {item['title']}")
    typer.echo(f"{total} found")
