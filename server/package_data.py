"""Where the article data, the ontology and the stored queries are, in a checkout and when installed.

A wheel ships them inside the package (``govkg/data``, ``govkg/ontology``, ``govkg/queries``,
mapped from the top-level folders by ``[tool.setuptools] package-dir``); in a source checkout
(an editable install, or the tests) the package folder ``server/`` sits beside those folders.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_folder(name: str) -> Path:
    """The folder ``name`` (``data``, ``ontology`` or ``queries``) of this installation.

    >>> shipped_folder("ontology").joinpath("govkg.ttl").is_file()
    True
    """
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


DATA_DIR = shipped_folder("data")
ONTOLOGY_DIR = shipped_folder("ontology")
QUERIES_DIR = shipped_folder("queries")
