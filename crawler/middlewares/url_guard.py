"""Every request (start URL, link from a feed, sitemap or page, redirect
target, robots.txt) passes here before anything connects: only http(s), and
the host's resolved addresses must be allowed by crawler.urlpolicy.

A refused request raises IgnoreRequest; the request's errback records it as
an error of the source naming the URL. Runs before RobotsTxtMiddleware, so not
even robots.txt is fetched from a refused host, and redirects come back
through here, since Scrapy schedules a redirect as a new request.

Resolved addresses are cached per crawl and pinned into Scrapy's DNS cache,
so the connection goes to the address that was checked (a name answering
differently the second time cannot slip through)."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urljoin

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.resolver import dnscache
from w3lib.url import safe_url_string

from crawler import urlpolicy
from crawler.context import get_context

REFUSED = "refused"  # IgnoreRequest messages start with it (RunLog and the spiders count them)


class UrlGuardMiddleware:
    def __init__(self, crawler: Crawler, default_policy: urlpolicy.PrivatePolicy):
        self.crawler = crawler
        self.default_policy = default_policy
        self.pin_dns = crawler.settings.getbool("DNSCACHE_ENABLED") and str(crawler.settings.get(
            "TWISTED_DNS_RESOLVER", "")).endswith("CachingThreadedResolver")
        self._kinds: dict[str, urlpolicy.AddressKind] = {}
        self._start_hosts: frozenset[str] | None = None
        self._private_ok: bool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UrlGuardMiddleware:
        return cls(crawler, get_context(cls.__name__).config.crawl.private_addresses)

    async def process_request(self, request: Request) -> None:
        url = request.url
        if problem := urlpolicy.scheme_problem(url):
            raise IgnoreRequest(f"{REFUSED} {url}: {problem}")
        host = urlpolicy.host_of(url)
        start_hosts, private_ok = await self._start_rules()
        kind = await self._kind(host)
        if problem := urlpolicy.address_problem(host, kind, start_host=host in start_hosts, private_ok=private_ok):
            if redirects := request.meta.get("redirect_urls"):
                problem += f" (redirected from {redirects[-1]})"
            raise IgnoreRequest(f"{REFUSED} {url}: {problem}")
        return None

    async def _start_rules(self) -> tuple[frozenset[str], bool]:
        """The source's start hosts, and whether private targets elsewhere are allowed (computed once)."""
        if self._start_hosts is None or self._private_ok is None:
            source = self.crawler.spider.source
            hosts = frozenset(urlpolicy.host_of(u) for u in source.start_urls)
            kinds = [await self._kind(h) for h in hosts]
            self._private_ok = urlpolicy.private_allowed(source.private_addresses or self.default_policy, kinds)
            self._start_hosts = hosts
        return self._start_hosts, self._private_ok

    async def _kind(self, host: str) -> urlpolicy.AddressKind:
        if host not in self._kinds:
            self._kinds[host] = urlpolicy.classify_host(host, await self._addresses(host))
        return self._kinds[host]

    async def _addresses(self, host: str) -> list[str]:
        if host in urlpolicy.METADATA_HOSTS or urlpolicy.literal_address(host) is not None:
            return [host]
        cached = dnscache.get(host)
        if isinstance(cached, str):
            return [cached]
        if isinstance(cached, list):  # CachingHostnameResolver keeps address objects
            return [getattr(a, "host", "") for a in cached]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError):
            return []  # unresolvable: the download fails with Scrapy's own DNS error, which is recorded
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        ipv4 = [a for a in addresses if ":" not in a]
        if self.pin_dns and ipv4:
            dnscache[host] = ipv4[0]  # the connection uses the address checked here
        return addresses


class RedirectGuardMiddleware:
    """Sees 3xx responses before Scrapy's RedirectMiddleware (600), which drops a redirect to
    file: or data: silently: a refused target is recorded against the source, naming it.
    Redirects to http(s) are followed as new requests, which UrlGuardMiddleware checks."""

    REDIRECTS = (301, 302, 303, 307, 308)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in self.REDIRECTS or b"Location" not in response.headers:
            return response
        if request.meta.get("dont_redirect") or request.meta.get("handle_httpstatus_all") or \
                response.status in request.meta.get("handle_httpstatus_list", ()):
            return response  # not a redirect Scrapy would follow
        raw = response.headers[b"Location"]
        try:  # as RedirectMiddleware reads it
            location = safe_url_string(raw)
            if raw.startswith(b"//"):
                location = urlpolicy.scheme_of(request.url) + ":" + location
            target = urljoin(request.url, location)
        except ValueError as exc:  # UnicodeError included
            raise IgnoreRequest(f"{REFUSED} redirect from {request.url} to {raw[:300]!r}: "
                                f"not a valid URL ({exc})") from None
        if problem := urlpolicy.scheme_problem(target):
            raise IgnoreRequest(f"{REFUSED} redirect from {request.url} to {target[:300]}: {problem}")
        return response
