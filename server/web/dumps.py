"""``/dumps/``: the index and the download of each dump file (built by :mod:`govkg.store.dumps`)."""

from __future__ import annotations

import base64

from flask import Blueprint, Response, jsonify, request, send_file
from govkg.rdf.formats import content_type
from govkg.rdf.routes import DUMPS, dump_url, rule
from govkg.store.dumps import (
    DUMP_FILES_BY_NAME,
    cached_dump,
    dataset_graphs,
    human_size,
    listed_dumps,
)
from govkg.web.i18n import page_language
from govkg.web.negotiation import negotiate
from govkg.web.responses import conditional, html_page, security_headers, vary
from govkg.web.store import loaded_graph
from werkzeug.exceptions import NotAcceptable, NotFound

blueprint = Blueprint("dumps", __name__, url_prefix=rule(DUMPS).removesuffix("/"))


@blueprint.get("/")
def index() -> Response:
    """The list of dump files, as HTML or JSON."""
    chosen = negotiate(request.headers.get("Accept"), ["text/html", "application/json"])
    if chosen is None:
        raise NotAcceptable("The dumps index is available as text/html and application/json.")
    loaded = loaded_graph()
    built = listed_dumps(loaded)
    if chosen == "application/json":
        response = jsonify(
            dataset=f"{loaded.base_iri}id/dataset/zhaoqing-rule-of-law",
            dataset_version=loaded.dataset_version,
            last_modified=loaded.last_modified.isoformat().replace("+00:00", "Z"),
            license="https://creativecommons.org/licenses/by/4.0/",
            graphs=[graph.value for graph in dataset_graphs(loaded)],
            dumps=[
                {
                    "name": item.file.name,
                    "url": dump_url(loaded.base_iri, item.file.name),
                    "format": item.file.fmt.label,
                    "media_type": item.file.media_type,
                    "rdf_media_type": item.file.fmt.media_type,
                    "compressed": item.file.compressed,
                    "named_graphs": item.file.fmt.carries_graphs,
                    "byte_size": item.byte_size,
                    "sha256": item.sha256,
                    "built": item.built,
                }
                for item in built
            ],
        )
        security_headers(response)
    else:
        response = html_page(
            "dumps.html",
            loaded=loaded,
            built=built,
            graphs=[graph.value for graph in dataset_graphs(loaded)],
            human_size=human_size,
        )
    if chosen == "application/json":
        vary(response, "Accept")
        return conditional(response, loaded, "index-json")
    language = page_language()  # the HTML list is in the reader's language
    vary(response, "Accept", "Accept-Language")
    return conditional(response, loaded, f"index-html-{language}-{request.args.get('lang', '')}")


@blueprint.get("/<name>")
def download(name: str) -> Response:
    """One dump file, as an attachment; supports HEAD, conditional GET and byte ranges."""
    dump = DUMP_FILES_BY_NAME.get(name)
    if dump is None:
        raise NotFound(f"No such dump; the index at {rule(DUMPS)} lists them all.")
    loaded = loaded_graph()
    built = cached_dump(loaded, dump)
    assert built.path is not None
    if loaded.backend.large:
        response = send_file(
            built.path, mimetype=content_type(dump.media_type), conditional=False, etag=False
        )
        response.content_length = built.byte_size
    else:
        # A small file is answered from memory, as any other document: a client that
        # accepts gzip gets the plain formats compressed (govkg.web.compression).
        response = Response(built.path.read_bytes(), headers={"Content-Type": content_type(dump.media_type)})
    # Whether this request built the file or found it built (by an earlier request, or a previous run).
    response.headers["X-Govkg-Cache"] = "miss" if built.fresh else "hit"
    response.headers["Content-Disposition"] = f'attachment; filename="{dump.name}"'
    response.headers["Cache-Control"] = "public, no-cache"
    # RFC 9530: the digest of the whole file, also valid on a 206 partial response.
    assert built.sha256 is not None
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(built.sha256)).decode()}:"
    security_headers(response)
    # Strong: the checksum in the tag pins the bytes, even if another worker process built
    # a differently ordered (but equivalent) file.
    return conditional(response, loaded, f"{dump.name}-{built.sha256[:16]}", accept_ranges=True, weak=False)
