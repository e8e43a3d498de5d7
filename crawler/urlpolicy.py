"""Which URLs a crawl may fetch: pure functions, no network.

Only http(s) is ever fetched. Beyond that the decision is about where a URL
points once its host is resolved (a public name resolving to 127.0.0.1 or
169.254.169.254 is the classic SSRF trick, so addresses are checked, not names):

* link-local addresses and cloud metadata endpoints (169.254.0.0/16,
  fe80::/10, fd00:ec2::254, metadata.google.internal) are fetched only on a
  host the source's own start URLs name;
* private and loopback addresses (10/8, 172.16/12, 192.168/16, 127/8, ::1,
  fc00::/7, 0.0.0.0/8, …) follow the `private_addresses` policy:
  `auto` fetches them when a start URL is itself on such an address (an
  intranet source, the replay site), `allow` always, `deny` only on a host
  a start URL names;
* everything else (public addresses) is fetched.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

HTTP_SCHEMES = ("http", "https")
PrivatePolicy = Literal["auto", "allow", "deny"]
AddressKind = Literal["public", "private", "link-local"]

# Names that are metadata services whatever they resolve to (some resolve only inside the cloud).
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data",
                            "instance-data.ec2.internal"})
_METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.169.253", "fd00:ec2::254", "fd00:ec2::253", "100.100.100.200"))
_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
# Not globally routable, so on someone's own network: private ranges, loopback, "this network",
# carrier-grade NAT, benchmarking, multicast, reserved.
_PRIVATE = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "172.16.0.0/12", "192.0.0.0/24",
    "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
    "::/128", "::1/128", "64:ff9b::/96", "fc00::/7", "ff00::/8"))


def scheme_problem(url: str) -> str | None:
    """Why `url` may not be fetched for its scheme or shape; None when it is an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme.lower() not in HTTP_SCHEMES:
        return f"not an http(s) URL (scheme {parts.scheme + ':' if parts.scheme else 'missing'})"
    if not host:
        return "no host name in URL"
    return None


def scheme_of(url: str) -> str:
    return url.split(":", 1)[0].lower() if ":" in url else ""


def host_of(url: str) -> str:
    """The lower-case host of an http(s) URL ('' when it has none)."""
    try:
        return (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def classify_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> AddressKind:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
    if address in _METADATA_ADDRESSES or any(address in net for net in _LINK_LOCAL):
        return "link-local"
    if any(address in net for net in _PRIVATE if net.version == address.version):
        return "private"
    return "public"


def classify_host(host: str, addresses: Iterable[str]) -> AddressKind:
    """The most sensitive kind among the addresses a host resolves to (any one could be used)."""
    if host.rstrip(".").lower() in METADATA_HOSTS:
        return "link-local"
    kinds = {classify_address(a) for a in (literal_address(text) for text in addresses) if a is not None}
    for kind in ("link-local", "private"):
        if kind in kinds:
            return kind  # type: ignore[return-value]
    return "public"


def private_allowed(policy: PrivatePolicy, start_kinds: Iterable[AddressKind]) -> bool:
    """Whether private/loopback targets off the start hosts may be fetched."""
    if policy == "allow":
        return True
    if policy == "deny":
        return False
    return any(kind != "public" for kind in start_kinds)


def address_problem(host: str, kind: AddressKind, *, start_host: bool, private_ok: bool) -> str | None:
    """Why a host of this kind may not be fetched; None when it may. Start hosts are the operator's choice."""
    if start_host or kind == "public":
        return None
    if kind == "link-local":
        return (f"{host} is a link-local or cloud metadata address; never fetched from a URL a site "
                "gave us (only a source's own start URLs may point there)")
    if private_ok:
        return None
    return (f"{host} is a private or loopback address and this source's start URLs are not; set "
            "private_addresses: allow (crawl or source config) to fetch it")
