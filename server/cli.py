"""The ``govkg`` command: serve, dump, query and validate the knowledge graph.

Each command is a thin layer over plain functions; domain errors become one-line
``click.ClickException`` messages.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from govkg.graph.knowledge_graph import DataFileError
from govkg.rdf.formats import RDF_FORMATS, RESULTS_FORMATS, rdf_format
from govkg.settings import SETTINGS, Setting, load_settings


class SettingValue(click.ParamType):
    """A setting on the command line, checked by the setting's own parser (one rule for CLI and env)."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        self.name = setting.name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:  # noqa: ANN401
        try:
            self.setting.parse(value)
        except (TypeError, ValueError) as error:
            self.fail(str(error), param, ctx)
        return value  # parsed again, with the environment, by load_settings


def _setting_options(command):  # noqa: ANN001, ANN202
    """Add one option per setting of :data:`govkg.settings.SETTINGS`, in declared order."""
    for setting in reversed(SETTINGS):
        command = click.option(
            setting.cli_flag,
            setting.name,
            type=SettingValue(setting),
            default=None,
            help=f"{setting.help} [env: {setting.env_var}; default: {_show_default(setting.default)}]",
        )(command)
    return command


def _show_default(default: Any) -> str:
    if isinstance(default, tuple):
        return " ".join(default) or "none"
    return str(default)


def _settings_from_options(options: dict[str, Any]) -> dict[str, Any]:
    overrides = {name: value for name, value in options.items() if value is not None}
    try:
        return load_settings(overrides)
    except ValueError as error:
        raise click.ClickException(str(error)) from None


@click.group()
@click.version_option(package_name="govkg")
def main() -> None:
    """govkg: the Zhaoqing rule-of-law knowledge graph and its SPARQL endpoint.

    \b
    Exit status: 0 done; 1 an error, said in one line starting "Error:"
    (a bad data file, a bad query, a file that cannot be written, a port in use);
    2 a usage error (an unknown option, a bad option value). validate: 0 valid,
    1 invalid, 2 could not run.
    """


# Options several commands share, declared once.
base_iri_option = click.option(
    "--base-iri", envvar="GOVKG_BASE_IRI", default=None, help="Base IRI of the resources."
)
output_option = click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout)."
)


create_option = click.option(
    "--create",
    is_flag=True,
    default=False,
    help="With --store DIR: make a new store there if it has none (without it, a folder with no store "
    "is refused, so that a mistyped path is not served as an empty store).",
)


@main.command()
@_setting_options
@create_option
def serve(create: bool, **options: Any) -> None:
    """Serve the SPARQL endpoint and linked-data pages (gunicorn, 127.0.0.1:5000 by default)."""
    from govkg.web.serving import run_server

    _serve_with(_settings_from_options(options), create, run_server)


@main.command("serve-public")
@_setting_options
@create_option
def serve_public(create: bool, **options: Any) -> None:
    """Serve on the open internet: nginx on --host/--port in front of --instances govkg servers.

    \b
    nginx (Debian's nginx-light) reads whole requests and buffers answers, bounds headers,
    bodies and idle time, and limits each client; the instances share the loaded store and
    stand in for each other. See the README's Limits section.
    """
    from govkg.web.public import PublicProfile

    _serve_with(_settings_from_options(options), create, lambda settings: PublicProfile(settings).run())


def _serve_with(settings: dict[str, Any], create: bool, run: Callable[[dict[str, Any]], None]) -> None:
    """Check the store folder, then ``run(settings)`` until stopped; every start-up error is one line.

    ``serve`` and ``serve-public`` share it: the same checks (a mistyped ``--store`` is refused
    without ``--create``), the same ``govkg: …`` log lines and the same errors.
    """
    import logging

    from govkg.settings import REMOTE_STORE_PREFIX
    from govkg.sparql.outbound_guard import GuardUnavailable
    from govkg.store.persistent import StoreError, check_store_folder
    from govkg.web.public import NginxMissing
    from govkg.web.serving import CannotListen

    # govkg's own notes (progress of a --data load, warnings) as "govkg: …" lines; gunicorn has its own.
    logging.basicConfig(level=logging.INFO, format="govkg: %(message)s")
    _warn_of_moved_namespace(settings["base_iri"])
    try:
        if settings["store"] and not settings["store"].startswith(REMOTE_STORE_PREFIX):
            check_store_folder(settings["store"], create)
        run(settings)
    except (DataFileError, StoreError, CannotListen, GuardUnavailable, NginxMissing) as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:  # a file or folder named by the settings cannot be used
        raise click.ClickException(_os_error_message(error)) from None
    except Exception as error:
        # An external store's error: govkg.store.remote (and requests) is imported only when the
        # store is one, so only then can its error have been raised.
        remote = sys.modules.get("govkg.store.remote")
        if remote is not None and isinstance(error, remote.RemoteStoreError):
            raise click.ClickException(str(error)) from None
        raise


@main.command("proxy-config")
@click.option(
    "--upstream",
    "upstreams",
    multiple=True,
    default=("127.0.0.1:5000",),
    show_default=True,
    help="A govkg serve instance, host:port or a unix socket path; repeat for several.",
)
@_setting_options
def proxy_config(upstreams: tuple[str, ...], **options: Any) -> None:
    """Print the nginx config (http block) of the public profile, for your own nginx.

    \b
    Include it inside nginx's http { } block; nginx listens on --host/--port. The instances
    must trust nginx's forwarded headers: give them --trusted-proxies with nginx's address.
    """
    from govkg.web.public import http_config

    settings = _settings_from_options(options)
    host = settings["host"]
    listen = f"[{host}]:{settings['port']}" if ":" in host else f"{host}:{settings['port']}"
    click.echo(http_config(settings, upstreams, listen), nl=False)


@main.command()
@click.option(
    "--format",
    "format_name",
    type=click.Choice([fmt.name for fmt in RDF_FORMATS]),
    default="ttl",
    show_default=True,
    help="RDF format of the dump; nq and trig keep the named graphs.",
)
@output_option
@base_iri_option
def dump(format_name: str, output: Path | None, base_iri: str | None) -> None:
    """Write the whole graph (ontology, facts, links, dataset metadata)."""
    from govkg.rdf.serialize import serialize_quads
    from govkg.store.opening import open_knowledge_graph

    settings = _settings_from_options({"base_iri": base_iri})
    _warn_of_moved_namespace(settings["base_iri"])
    try:
        loaded = open_knowledge_graph(settings["base_iri"])
    except DataFileError as error:
        raise click.ClickException(str(error)) from None
    data = serialize_quads(
        loaded.store.quads_for_pattern(None, None, None), rdf_format(format_name), loaded.base_iri
    )
    _write_output(data, output)


@main.command()
@click.argument("files", nargs=-1)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Persistent store folder to load into (made if missing: a new or empty folder); "
    "serve it with `govkg serve --store`.",
)
@click.option(
    "--into",
    "into",
    default=None,
    help="SPARQL Update endpoint of an external store: push the article graphs there, graph by graph.",
)
@click.option(
    "--graph-store",
    default=None,
    help="With --into: the store's Graph Store Protocol endpoint; each graph is replaced with one PUT.",
)
@base_iri_option
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar with triples/s (default: when stderr is a terminal; log lines otherwise).",
)
def load(
    files: tuple[str, ...],
    store_dir: Path | None,
    into: str | None,
    graph_store: str | None,
    base_iri: str | None,
    progress: bool | None,
) -> None:
    """Load RDF FILES (FILE or GRAPH_IRI=FILE, any RDF format, .gz too) into a store, each in its own graph.

    With --store DIR: a persistent on-disk store; all or nothing (a bad line stops the load
    with the file and line, and the store is left as it was). With --into URL: the article
    graphs (ontology, facts, links, metadata) are pushed into an external SPARQL store.
    """
    import logging
    import time

    settings = _settings_from_options({"base_iri": base_iri})
    if (store_dir is None) == (into is None):
        raise click.UsageError("give exactly one of --store DIR and --into URL")
    if into is not None:
        from govkg.store.opening import open_knowledge_graph
        from govkg.store.remote import RemoteStoreError, push_article_graphs

        if files:
            raise click.UsageError("--into pushes the article graphs; load big files with --store")
        try:
            article = open_knowledge_graph(settings["base_iri"])
            for line in push_article_graphs(into, article, graph_store=graph_store):
                click.echo(line, err=True)
        except RemoteStoreError as error:
            raise click.ClickException(str(error)) from None
        return
    from govkg.store.persistent import StoreDirectory, StoreError, check_store_folder, load_files

    logging.basicConfig(level=logging.INFO, format="govkg: %(message)s")
    _warn_of_moved_namespace(settings["base_iri"])
    started = time.monotonic()

    def report(loaded) -> None:  # noqa: ANN001
        rate = loaded.triples / max(loaded.seconds, 1e-9)
        click.echo(
            f"{loaded.path}: {loaded.triples:,} triples into <{loaded.graph_iri}> "
            f"in {loaded.seconds:.2f} s ({rate:,.0f} triples/s)",
            err=True,
        )

    folder = StoreDirectory(store_dir)
    outcome = "the store is unchanged"
    try:
        check_store_folder(store_dir, create=True)
        if not folder.has_loaded():
            outcome = "nothing was loaded: the new store is empty"
        load_files(folder, list(files), settings["base_iri"], progress, report)
    except (DataFileError, StoreError) as error:
        raise click.ClickException(f"{error} ({outcome})") from None
    except OSError as error:
        raise click.ClickException(f"{_os_error_message(error)} ({outcome})") from None
    click.echo(
        f"loaded in {time.monotonic() - started:.2f} s; serve with: govkg serve --store {store_dir}", err=True
    )


@main.command()
@click.argument("query_file", type=click.File("rb"))
@click.option(
    "--format",
    "format_name",
    type=click.Choice(["table", *(fmt.name for fmt in RESULTS_FORMATS)]),
    default="table",
    show_default=True,
    help="Output: a text table, or a SPARQL results format (graph results are Turtle).",
)
@output_option
@base_iri_option
def query(query_file: Any, format_name: str, output: Path | None, base_iri: str | None) -> None:
    """Run the SPARQL query in QUERY_FILE (or - for stdin) on the embedded graph."""
    from govkg.errors import ClientError
    from govkg.sparql.local import answer_locally
    from govkg.store.opening import open_knowledge_graph

    settings = _settings_from_options({"base_iri": base_iri})
    raw = query_file.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise click.ClickException(
            f"{query_file.name}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}); "
            "save the query as UTF-8"
        ) from None
    try:
        loaded = open_knowledge_graph(settings["base_iri"])
        data = answer_locally(loaded.backend, loaded.base_iri, text, format_name, settings)
    except ClientError as error:
        raise click.ClickException(error.message) from None
    except DataFileError as error:
        raise click.ClickException(str(error)) from None
    _write_output(data, output)


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Folder of fact files to check instead of data/ (its links/ too).",
)
@click.option(
    "--ontology",
    "ontology_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Ontology file instead of ontology/govkg.ttl.",
)
@click.option(
    "--shapes",
    "shapes_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="SHACL shapes instead of ontology/shapes.ttl.",
)
def validate(data_dir: Path | None, ontology_path: Path | None, shapes_path: Path | None) -> None:
    """Check ontology + data with SHACL and every evidence quote against the article.

    Exit status: 0 valid, 1 invalid, 2 could not run.
    """
    from govkg.graph.validation import validate_files

    try:
        report = validate_files(data_dir=data_dir, ontology_path=ontology_path, shapes_path=shapes_path)
    except DataFileError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1 if error.is_syntax_error else 2)
    except Exception as error:  # noqa: BLE001 - any failure to run is exit status 2
        click.echo(f"Error: could not validate: {error}", err=True)
        sys.exit(2)
    for problem in report.problems:
        click.echo(problem)
    if report.conforms:
        click.echo(f"valid: {report.checked_triples} triples, {report.checked_quotes} evidence quotes")
        sys.exit(0)
    click.echo(f"invalid: {len(report.problems)} problem(s)", err=True)
    sys.exit(1)


@main.command()
@click.option(
    "--target",
    required=True,
    help="The other dataset: a SPARQL endpoint URL, or an RDF dump file (any format, .gz too).",
)
@click.option(
    "--type",
    "type_filter",
    default=None,
    help="Link only our resources of this family (place, organization, concept, ...) or class "
    "(CURIE or IRI, e.g. schema:AdministrativeArea).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=0.8,
    show_default=True,
    help="Lowest score of a link.",
)
@click.option(
    "--near-miss-floor",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Lowest score of a near miss (pairs between it and the threshold go to the CSV).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Turtle linkset to write (default: stdout).",
)
@click.option(
    "--near-misses",
    "near_misses_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV of the near misses to write, for a person to review.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Folder of our fact files to link instead of data/ (its links/ too).",
)
@click.option(
    "--page-size", type=click.IntRange(1), default=500, show_default=True, help="Rows per endpoint request."
)
@click.option(
    "--max-pages",
    type=click.IntRange(1),
    default=20,
    show_default=True,
    help="Most pages fetched per endpoint query.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds to wait for each endpoint request.",
)
def link(
    target: str,
    type_filter: str | None,
    threshold: float,
    near_miss_floor: float,
    output: Path | None,
    near_misses_path: Path | None,
    data_dir: Path | None,
    page_size: int,
    max_pages: int,
    timeout: float,
) -> None:
    """Propose links from our resources to another dataset: a VoID linkset and a CSV of near misses.

    The links are a proposal to review; curated links live in data/links/.
    """
    from govkg.linking.linker import run_link_discovery
    from govkg.linking.sources import LinkingError
    from govkg.linking.writing import linkset_turtle, near_miss_csv, summary

    try:
        run = run_link_discovery(
            target,
            type_filter=type_filter,
            threshold=threshold,
            near_miss_floor=near_miss_floor,
            data_dir=data_dir,
            page_size=page_size,
            max_pages=max_pages,
            timeout=timeout,
        )
    except LinkingError as error:
        raise click.ClickException(str(error)) from None
    _write_output(linkset_turtle(run), output)
    if near_misses_path is not None:
        _write_output(near_miss_csv(run), near_misses_path)
    click.echo(summary(run), err=True)


@main.command("write-expected")
@click.argument("names", nargs=-1, required=True)
def write_expected_command(names: tuple[str, ...]) -> None:
    """Rewrite the reviewed answers (queries/expected/NAME.srj) of the competency questions NAMES.

    For maintainers, after a reviewed change of the data: review the diff before committing.
    """
    from govkg.graph.stored_queries import write_expected
    from govkg.package_data import QUERIES_DIR
    from govkg.settings import DEFAULT_BASE_IRI
    from govkg.store.opening import open_knowledge_graph

    try:
        store = open_knowledge_graph(DEFAULT_BASE_IRI).store
        for path in write_expected(names, store):
            click.echo(path.relative_to(QUERIES_DIR.parent))
    except DataFileError as error:
        raise click.ClickException(str(error)) from None


def _warn_of_moved_namespace(base_iri: str) -> None:
    """Say so when ``--base-iri`` moves the ``gov:`` terms away from the published ontology's IRIs."""
    from govkg.settings import DEFAULT_BASE_IRI

    if base_iri != DEFAULT_BASE_IRI:
        click.echo(
            f"govkg: note: with --base-iri {base_iri} the gov: terms are {base_iri}ontology#…, "
            f"not {DEFAULT_BASE_IRI}ontology#…; queries must use that gov: prefix",
            err=True,
        )


def _os_error_message(error: OSError) -> str:
    """An operating-system error as one line: the file and what is wrong with it.

    >>> _os_error_message(NotADirectoryError(20, "Not a directory", "store/state.json"))
    'store/state.json: Not a directory'
    """
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}"


def _write_output(data: bytes | str, output: Path | None) -> None:
    """Write to ``output``, or to stdout; a file that cannot be written is a one-line error."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror or error}") from None
