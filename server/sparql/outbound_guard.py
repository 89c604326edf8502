"""The second line against SERVICE: the query engine may connect only to the allowlisted origins.

The first line (:mod:`govkg.sparql.service_check`) refuses a query whose SERVICE targets are not
allowed, by their whole IRI. A check is not the engine, though: if the two ever read a text
differently, a SERVICE call could slip through. So the engine itself is confined too, to the
*origins* of the allowed endpoints — their hosts and ports, not their paths: this line sees
connections, not requests (an https request only encrypted), so the path is the first line's.
pyoxigraph (0.5) has no hook to intercept its SERVICE calls, but its extension
module reaches the network only through two functions it imports from the C library,
``connect`` and ``getaddrinfo``, by pointers in its Global Offset Table (GOT). :func:`install`
swaps those two pointers for functions of this module:

* ``getaddrinfo`` resolves only the host names of allowed endpoints (anything else: ``EAI_FAIL``,
  so not even a DNS query leaves for another name), and every address it returns for such a
  name becomes allowed with the endpoint's port;
* ``connect`` goes through only to an allowed (IP address, port) pair; anything else fails with
  ``EACCES`` before a packet is sent, and one warning line is logged.

The rest of the process (Python's sockets: the remote store backend, ``govkg link``) imports
these functions through its own tables and is not affected. The module is linked with
``BIND_NOW`` and RELRO, so its GOT is read-only after loading: the page is made writable for the
swap (``mprotect``) and read-only again at once. The ELF relocations are read with :mod:`struct`
from the file that ``/proc/self/maps`` shows loaded; a layout this code does not recognize
(another architecture, a static build, symbols missing) raises :class:`GuardUnavailable`, as
does any other system (macOS: no ELF, no ``/proc``); the server then refuses to start with a
non-empty allowlist rather than run without the guard, and with an empty one starts and logs
that every SERVICE call is refused (the first line refuses them all).

Linux x86-64 and aarch64 with glibc only (the targets of pyoxigraph's manylinux wheels).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import ipaddress
import logging
import mmap
import os
import socket
import struct
import sys
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit

import pyoxigraph

log = logging.getLogger(__name__)

_EAI_FAIL = -4
_R_GLOB_DAT = {62: 6, 183: 1025}  # e_machine -> R_*_GLOB_DAT (x86-64, aarch64)
_R_JUMP_SLOT = {62: 7, 183: 1026}
_SHT_RELA = 4
_PROT_READ, _PROT_WRITE = 1, 2

_CONNECT = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32)
_GETADDRINFO = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p
)


class GuardUnavailable(RuntimeError):
    """The engine's outbound connections cannot be confined in this process (the reason says why)."""


class _SockaddrIn(ctypes.Structure):
    _fields_ = [("family", ctypes.c_uint16), ("port", ctypes.c_uint16), ("addr", ctypes.c_ubyte * 4)]


class _SockaddrIn6(ctypes.Structure):
    _fields_ = [
        ("family", ctypes.c_uint16),
        ("port", ctypes.c_uint16),
        ("flowinfo", ctypes.c_uint32),
        ("addr", ctypes.c_ubyte * 16),
        ("scope_id", ctypes.c_uint32),
    ]


class _AddrInfo(ctypes.Structure):
    pass


_AddrInfo._fields_ = [
    ("flags", ctypes.c_int),
    ("family", ctypes.c_int),
    ("socktype", ctypes.c_int),
    ("protocol", ctypes.c_int),
    ("addrlen", ctypes.c_uint32),
    ("addr", ctypes.c_void_p),
    ("canonname", ctypes.c_char_p),
    ("next", ctypes.POINTER(_AddrInfo)),
]


class _Guard:
    """The installed state: what is allowed, the real functions, and our callbacks (kept alive)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hosts: dict[str, set[int]] = {}  # host name (lower case) -> allowed ports
        self.pairs: set[tuple[str, int]] = set()  # (IP address, port)
        self.refused = 0
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self._errno_location = getattr(libc, "__errno_location")  # noqa: B009 - a dunder is mangled in a class
        self._errno_location.restype = ctypes.POINTER(ctypes.c_int)
        self.real_connect = _CONNECT(("connect", libc))
        self.real_getaddrinfo = _GETADDRINFO(("getaddrinfo", libc))
        self.connect = _CONNECT(self._connect)
        self.getaddrinfo = _GETADDRINFO(self._getaddrinfo)

    def allow(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname.lower()
        with self.lock:
            self.hosts.setdefault(host, set()).add(port)
            try:
                self.pairs.add((str(ipaddress.ip_address(host)), port))
            except ValueError:
                pass  # a name: its addresses are allowed as getaddrinfo returns them

    def _set_errno(self, value: int) -> None:
        self._errno_location()[0] = value

    def _connect(self, fd: int, address: int | None, length: int) -> int:
        peer = _peer(address, length)
        with self.lock:
            allowed = peer is not None and peer in self.pairs
            if not allowed:
                self.refused += 1
        if allowed:
            return self.real_connect(fd, address, length)
        where = f"{peer[0]} port {peer[1]}" if peer else "a non-IP address"
        log.warning("Refused a connection of the query engine to %s: not an allowed SERVICE endpoint.", where)
        self._set_errno(errno.EACCES)
        return -1

    def _getaddrinfo(
        self, node: bytes | None, service: bytes | None, hints: int | None, result: int | None
    ) -> int:
        host = node.decode("utf-8", "replace").lower().strip("[]") if node else ""
        with self.lock:
            ports = set(self.hosts.get(host, ()))
            if not ports:
                self.refused += 1
        if not ports:
            log.warning("Refused to resolve %r for the query engine (not an allowed SERVICE endpoint).", host)
            return _EAI_FAIL
        status = self.real_getaddrinfo(node, service, hints, result)
        if status == 0 and result:
            entry = ctypes.cast(ctypes.c_void_p.from_address(result).value, ctypes.POINTER(_AddrInfo))
            addresses = []
            while entry:
                peer = _peer(entry.contents.addr, entry.contents.addrlen)
                if peer is not None:
                    addresses.append(peer[0])
                entry = entry.contents.next
            with self.lock:
                self.pairs.update((address, port) for address in addresses for port in ports)
        return status


def _peer(address: int | None, length: int) -> tuple[str, int] | None:
    """The (IP address, port) of a ``struct sockaddr``; ``None`` for other families."""
    if not address or length < 2:
        return None
    family = ctypes.c_uint16.from_address(address).value
    if family == socket.AF_INET and length >= ctypes.sizeof(_SockaddrIn):
        sin = _SockaddrIn.from_address(address)
        return str(ipaddress.IPv4Address(bytes(sin.addr))), socket.ntohs(sin.port)
    if family == socket.AF_INET6 and length >= ctypes.sizeof(_SockaddrIn6):
        sin6 = _SockaddrIn6.from_address(address)
        ip = ipaddress.IPv6Address(bytes(sin6.addr))
        return str(ip.ipv4_mapped or ip), socket.ntohs(sin6.port)
    return None


_guard: _Guard | None = None
_install_lock = threading.Lock()


def install(endpoints: Iterable[str] = ()) -> None:
    """Confine pyoxigraph's outbound connections to ``endpoints`` (SERVICE endpoint URLs).

    Idempotent: the first call patches the engine, later calls add endpoints (a test process
    that builds several apps allows the union of their allowlists). Raises
    :class:`GuardUnavailable` when the engine cannot be patched in this process.
    """
    global _guard
    with _install_lock:
        if _guard is None:
            if not sys.platform.startswith("linux"):  # macOS, Windows …: no ELF, no /proc
                raise GuardUnavailable(f"it patches an ELF module on Linux; this is {sys.platform}")
            try:
                guard = _Guard()
                _patch(_engine_library(), {"connect": guard.connect, "getaddrinfo": guard.getaddrinfo})
            except (OSError, AttributeError, ValueError, struct.error) as error:
                raise GuardUnavailable(f"{type(error).__name__}: {error}") from None
            _guard = guard
        for url in endpoints:
            _guard.allow(url)


def refused_count() -> int:
    """How many connections or name look-ups of the engine were refused in this process."""
    return _guard.refused if _guard is not None else 0


def _engine_library() -> str:
    """The path of pyoxigraph's extension module as loaded in this process."""
    module = getattr(pyoxigraph, "pyoxigraph", None)
    path = getattr(module, "__file__", None)
    if not path or not path.endswith(".so"):
        raise GuardUnavailable(f"pyoxigraph's extension module is not a shared object ({path!r})")
    return os.path.realpath(path)


def _load_base(path: str) -> int:
    """Where ``path`` is mapped in this process (its first mapping, at file offset 0)."""
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].strip() == path and int(fields[2], 16) == 0:
                return int(fields[0].split("-")[0], 16)
    raise GuardUnavailable(f"{path} is not mapped in this process")


def got_slots(path: str, names: Iterable[str]) -> dict[str, list[int]]:
    """The GOT offsets (from the load base) where ``path`` keeps the address of each imported function."""
    wanted = set(names)
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as elf:
        if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
            raise GuardUnavailable("not a 64-bit little-endian ELF file")
        machine = struct.unpack_from("<H", elf, 18)[0]
        if machine not in _R_GLOB_DAT:
            raise GuardUnavailable(f"unsupported ELF machine {machine}")
        first_vaddr = _first_load_vaddr(elf)
        (shoff,) = struct.unpack_from("<Q", elf, 40)
        shentsize, shnum = struct.unpack_from("<HH", elf, 58)
        sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
        slots: dict[str, list[int]] = {}
        kinds = (_R_GLOB_DAT[machine], _R_JUMP_SLOT[machine])
        for _, sh_type, _, _, offset, size, link, _, _, entsize in sections:
            if sh_type != _SHT_RELA or not entsize:
                continue
            symtab = sections[link]
            strtab = sections[symtab[6]]
            for index in range(size // entsize):
                r_offset, r_info, _ = struct.unpack_from("<QQq", elf, offset + index * entsize)
                if r_info & 0xFFFFFFFF not in kinds:
                    continue
                symbol = struct.unpack_from("<IBBHQQ", elf, symtab[4] + (r_info >> 32) * symtab[9])
                name_start = strtab[4] + symbol[0]
                name = elf[name_start : elf.find(b"\0", name_start)].decode()
                if name in wanted:
                    slots.setdefault(name, []).append(r_offset - first_vaddr)
    missing = wanted - set(slots)
    if missing:
        raise GuardUnavailable(f"{path} imports no {', '.join(sorted(missing))}")
    return slots


def _first_load_vaddr(elf: mmap.mmap) -> int:
    (phoff,) = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr = struct.unpack_from("<IIQQ", elf, phoff + i * phentsize)
        if p_type == 1 and p_offset == 0:  # PT_LOAD
            return p_vaddr
    raise GuardUnavailable("no PT_LOAD segment at file offset 0")


def _patch(path: str, replacements: dict[str, ctypes._CFuncPtr]) -> None:
    """Point each named GOT slot of ``path`` at its replacement (the page made writable meanwhile)."""
    base = _load_base(path)
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    mprotect = libc.mprotect
    mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    page = mmap.PAGESIZE
    for name, offsets in got_slots(path, replacements).items():
        target = ctypes.cast(replacements[name], ctypes.c_void_p).value
        for offset in offsets:
            slot = base + offset
            start = slot & ~(page - 1)
            protection = _protection(start)
            if mprotect(start, page, protection | _PROT_READ | _PROT_WRITE) != 0:
                raise GuardUnavailable(f"mprotect failed: {os.strerror(ctypes.get_errno())}")
            try:
                ctypes.c_void_p.from_address(slot).value = target
            finally:
                mprotect(start, page, protection)  # as the loader left it (read-only: RELRO)


def _protection(address: int) -> int:
    """The current protection of the page at ``address`` (from ``/proc/self/maps``)."""
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
        for line in maps:
            span, permissions = line.split(maxsplit=2)[:2]
            low, high = (int(bound, 16) for bound in span.split("-"))
            if low <= address < high:
                return (
                    (_PROT_READ if permissions[0] == "r" else 0)
                    | (_PROT_WRITE if permissions[1] == "w" else 0)
                    | (4 if permissions[2] == "x" else 0)
                )
    raise GuardUnavailable(f"address {address:#x} is not mapped")
