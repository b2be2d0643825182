"""Fetching a document from a URL without becoming a proxy into the private network.

Every hop (the first request and each redirect) is checked the same way: http or https
only; the host is resolved here and *every* address it resolves to must be public
(loopback, private, link-local, CGNAT and reserved ranges only with ``allow_private``;
cloud metadata addresses never); the connection then goes to the checked address
itself (Host header and TLS SNI keep the name), so a second DNS answer cannot swap in
another address. Size and total time are capped; the body is streamed and cut off.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote, urljoin

import httpx

from chatkeep.core.errors import InvalidArgument, TooLarge

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)
USER_AGENT = "chatkeep-fetch/1"


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    max_bytes: int
    timeout_seconds: float = 20
    max_redirects: int = 5
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class Fetched:
    data: bytes
    name: str
    content_type: str | None
    url: str  # after redirects


class _Refused(Exception):
    pass


def address_allowed(address: IPAddress, *, allow_private: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA or address.is_multicast or address.is_unspecified:
        return False
    return address.is_global or allow_private


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


async def fetch(url: str, policy: FetchPolicy, resolve: Resolver = system_resolver) -> Fetched:
    """The document at ``url``; InvalidArgument("url", why) or TooLarge when refused."""
    try:
        async with asyncio.timeout(policy.timeout_seconds):
            return await _follow(url, policy, resolve)
    except TimeoutError:
        raise InvalidArgument(
            "url", f"the server did not answer within {policy.timeout_seconds:g} s"
        ) from None
    except _Refused as refused:
        raise InvalidArgument("url", str(refused)) from None
    except httpx.HTTPError as exc:
        raise InvalidArgument("url", f"could not fetch it: {type(exc).__name__}") from None


async def _follow(url: str, policy: FetchPolicy, resolve: Resolver) -> Fetched:
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
        for _hop in range(policy.max_redirects + 1):
            target, host, address = await _checked(url, policy, resolve)
            request = client.build_request(
                "GET", target.copy_with(host=str(address)),
                headers={"Host": _host_header(target), "User-Agent": USER_AGENT},
                extensions={"sni_hostname": host} if target.scheme == "https" else {},
            )  # fmt: skip
            response = await client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.is_redirect and location:
                    url = urljoin(str(target), location)
                    continue
                if response.status_code >= 400:
                    raise _Refused(f"the server answered {response.status_code}")
                data = await _read_capped(response, policy.max_bytes)
            finally:
                await response.aclose()
            content_type = response.headers.get("content-type")
            return Fetched(data, _name(response, target), content_type, str(target))
    raise _Refused(f"more than {policy.max_redirects} redirects")


async def _checked(
    url: str, policy: FetchPolicy, resolve: Resolver
) -> tuple[httpx.URL, str, IPAddress]:
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise _Refused(f"not a valid URL ({exc})") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise _Refused("only http and https URLs can be fetched")
    host = target.host
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        addresses = await resolve(host, port)
    except (OSError, ValueError):
        raise _Refused(f"the host {host!r} does not resolve") from None
    refused = [a for a in addresses if not address_allowed(a, allow_private=policy.allow_private)]
    if not addresses or refused:
        raise _Refused(
            f"the host {host!r} resolves to an address that may not be fetched "
            "(loopback, private, link-local or metadata)"
        )
    return target, host, addresses[0]


def _host_header(target: httpx.URL) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{host}:{target.port}" if target.port else host


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"The document is larger than the limit of {max_bytes} bytes.")
    body = bytearray()
    async for piece in response.aiter_bytes():
        body += piece
        if len(body) > max_bytes:
            raise TooLarge(f"The document is larger than the limit of {max_bytes} bytes.")
    return bytes(body)


def _name(response: httpx.Response, target: httpx.URL) -> str:
    found = _FILENAME.search(response.headers.get("content-disposition", ""))
    if found:
        return unquote(found.group(1)).strip()[:255] or target.host
    last = unquote(target.path.rstrip("/").rsplit("/", 1)[-1])
    return (last or target.host)[:255]
