"""How a query's thread is scheduled, alike on the server's query processes and the CLI's threads.

:mod:`govkg.sparql.processes` (the server) and :mod:`govkg.sparql.threads` (``govkg query``, the
in-process app) both evaluate a query on a thread with a large stack and demote that thread
when the query runs long; the figures and the call are here, once.
"""

from __future__ import annotations

import os

#: The stack of a thread that evaluates queries. pyoxigraph recurses once per level of nesting
#: (groups, brackets, unary operators, long operator chains): on a thread's usual 8 MiB, 3,000
#: nested groups (9 KB of query) overflowed it and killed the process. 512 MiB holds queries of
#: several hundred KB, far above ``max_query_bytes``; it is address space, and only what a
#: query really uses is touched.
QUERY_STACK_BYTES = 512 * 1024 * 1024
#: A query still running after this many seconds yields the CPU: its thread runs at
#: :data:`DEMOTED_NICENESS` for the rest of its time (Linux gives a nice-10 thread about a
#: tenth of a CPU that a nice-0 one also wants). Its time limit is unchanged.
DEMOTE_AFTER = 0.5
DEMOTED_NICENESS = 10


def set_niceness(thread_id: int, niceness: int) -> bool:
    """Set a thread's niceness (``thread_id`` 0: the calling thread); False if the system refuses.

    Linux schedules threads one by one, so this demotes one query, not its process. Raising a
    priority back needs a privilege the server may lack: the caller then replaces the thread.

    >>> set_niceness(0, os.getpriority(os.PRIO_PROCESS, 0))
    True
    """
    try:
        os.setpriority(os.PRIO_PROCESS, thread_id, niceness)
    except OSError:
        return False
    return True
