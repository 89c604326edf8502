"""The one ``virtuoso.ini`` our tests and benchmarks start Virtuoso open source with.

Loopback only (both ports on 127.0.0.1, no Unix socket), everything in one folder, and
``ResultSetMaxRows`` raised: Debian's default of 10,000 silently truncates results.
``tests/stores.py`` (integration tests) and ``benchmarks/run.py`` (the peer in the
benchmark, bulk-loaded from ``data_dirs``) both write it with :func:`virtuoso_ini`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

_TEMPLATE = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = {connections}
CheckpointInterval = 0
CaseMode = 2
DirsAllowed = {dirs_allowed}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty_buffers}
MaxQueryMem = 2G
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 10

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
MaxClientConnections = {connections}
ServerThreads = {connections}
MaxKeepAlives = {connections}
KeepAliveTimeout = 10
EnabledGzipContent = 0

[SPARQL]
; The Debian default of 10000 rows silently truncates results.
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 120
DefaultGraph =
"""


def virtuoso_ini(
    db: Path,
    sql_port: int,
    http_port: int,
    buffers: int = 20_000,
    data_dirs: Iterable[str] = (),
    connections: int = 16,
) -> str:
    """The ini text for a database in ``db``; ``data_dirs`` are the folders bulk loads may read.

    ``buffers`` are 8 KiB pages (about 2.5 KiB per triple with its indexes).

    >>> text = virtuoso_ini(Path("/db"), 1111, 2222, data_dirs=["/data"])
    >>> "ServerPort = 127.0.0.1:2222" in text, "DirsAllowed = ., /db, /data" in text
    (True, True)
    """
    return _TEMPLATE.format(
        db=db,
        sql_port=sql_port,
        http_port=http_port,
        connections=connections,
        dirs_allowed=", ".join([".", str(db), *data_dirs]),
        buffers=buffers,
        dirty_buffers=buffers * 3 // 4,
    )
