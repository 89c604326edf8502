"""Two knobs of glibc's allocator, the one pyoxigraph's Rust code uses too. Elsewhere: nothing."""

from __future__ import annotations

import ctypes
import functools

#: glibc's ``M_ARENA_MAX``. Each thread that allocates may otherwise get an arena of its own
#: (up to 8 per core), and the freed memory of a big answer stays in that arena: the query
#: threads would grow the worker by tens of megabytes each over a long run.
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        library = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return library if hasattr(library, "malloc_trim") and hasattr(library, "mallopt") else None


def limit_arenas() -> None:
    """Cap the malloc arenas at :data:`MALLOC_ARENAS` (forked processes inherit the cap)."""
    if (libc := _glibc()) is not None:
        libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


def release_free_memory() -> None:
    """Give the heap that was freed back to the kernel (glibc keeps it otherwise, so a process
    that once held a big load would stay big)."""
    if (libc := _glibc()) is not None:
        libc.malloc_trim(0)
