"""Delivery channels in newsmon.yaml: email (SMTP), webhook and apprise."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    Field,
    FilePath,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_validator,
)

from monitor.config._base import Duration, Strict, single_line

HTTP_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 field names


TEMPLATE_FIELDS = {"email": ("subject_template", "text_template", "html_template"), "webhook": ("body_template",),
                   "apprise": ("title_template", "body_template")}


class _Templated(Strict):
    # Per-rule overrides {rule name: {field: template}}, set by the loader from rules' `templates`.
    _rule_templates: dict[str, dict[str, str]] = PrivateAttr(default_factory=dict)


def checked_template(source: str | None, html: bool = False, json_out: bool = False) -> str | None:
    """A template field: it must compile and render against a sample alert (a config error otherwise)."""
    if source is not None:
        from monitor.channels.templates import check  # local: monitor.channels imports monitor.config

        error = check(source, html=html, json_out=json_out)
        if error:
            raise ValueError(f"template error: {error}")
    return source


class EmailChannelConfig(_Templated):
    type: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    # Logging in over `security: none` sends the password in clear text: refused unless set.
    allow_insecure_auth: bool = False
    username: str | None = None
    password: SecretStr | None = None
    from_: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    timeout: Duration = 30.0
    subject_prefix: str = "[newsmon]"
    ca_file: FilePath | None = None  # PEM CA certificate(s) to trust instead of the system's (a private CA)
    # Jinja2 templates (monitor.channels.templates, docs/alerts.md); each replaces that part of the built-in email.
    subject_template: str | None = None
    text_template: str | None = None
    html_template: str | None = None  # autoescaped

    @field_validator("subject_template", "text_template", "html_template")
    @classmethod
    def _template_compiles(cls, source: str | None, info: ValidationInfo) -> str | None:
        return checked_template(source, html=info.field_name == "html_template")

    @field_validator("host", "from_", "subject_prefix")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return single_line(value)

    @field_validator("to")
    @classmethod
    def _one_line_each(cls, addresses: list[str]) -> list[str]:
        for i, address in enumerate(addresses):
            single_line(address, f"address [{i}]")
        return addresses

    @field_validator("password")
    @classmethod
    def _one_line_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            single_line(value.get_secret_value(), "the password")
        return value

    @field_validator("username")
    @classmethod
    def _no_clear_text_login(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        single_line(value)
        if info.data.get("security") == "none" and not info.data.get("allow_insecure_auth"):
            raise ValueError("a login over `security: none` sends the password in clear text; use security: "
                             "starttls (usually port 587) or ssl (usually 465), or set allow_insecure_auth: true "
                             "for a trusted relay on this host or network")
        return value


class WebhookChannelConfig(_Templated):
    type: Literal["webhook"]
    url: str
    secret: SecretStr | None = None  # HMAC-SHA256 signing key
    timeout: Duration = 10.0
    headers: dict[str, str] = Field(default_factory=dict)
    ca_file: FilePath | None = None  # PEM CA certificate(s) to trust instead of the system's (a private CA)
    max_retry_after: Duration = 3600.0  # wait at most this long when a 429/503 asks for a Retry-After
    body_template: str | None = None  # Jinja2 rendering the JSON body (docs/alerts.md); must render to JSON

    @field_validator("body_template")
    @classmethod
    def _template_renders_json(cls, source: str | None) -> str | None:
        return checked_template(source, json_out=True)

    @field_validator("secret", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: object) -> object:
        # `${WEBHOOK_SECRET:-}` with the variable unset means "no signing".
        return None if value == "" else value

    @field_validator("secret")
    @classmethod
    def _one_line_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            single_line(value.get_secret_value(), "the secret")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        single_line(value, "the URL")
        if any(c.isspace() for c in value):
            raise ValueError("the URL contains white space; percent-encode it (%20) or remove it")
        return value

    @field_validator("headers")
    @classmethod
    def _valid_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not HTTP_TOKEN.match(name):
                raise ValueError(f"{name!r} is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)")
            single_line(value, f"the value of header {name!r}")
        return headers


APPRISE_MISSING = ("type apprise needs the optional Apprise package: pip install 'newsmon[apprise]' "
                   "(or pip install apprise)")


class AppriseChannelConfig(_Templated):
    """Any notification service Apprise speaks (slack://, tgram://, discord://, ntfy://, matrix://,
    json://, mailto://, ...): one delivery per URL, each URL's outcome recorded."""

    type: Literal["apprise"]
    urls: list[str] = Field(min_length=1)
    timeout: Duration = 30.0  # per URL (Apprise's connect and read timeouts)
    title_template: str | None = None  # Jinja2 (monitor.channels.templates); default: "<rule>: <title>"
    body_template: str | None = None  # Jinja2; default: the alert as plain text

    @field_validator("urls")
    @classmethod
    def _apprise_urls(cls, urls: list[str]) -> list[str]:
        try:
            import apprise
        except ImportError:
            raise ValueError(APPRISE_MISSING) from None
        for i, url in enumerate(urls):
            single_line(url, f"URL [{i}]")
            # The message never repeats the URL: it usually holds a token.
            if not url.strip():
                raise ValueError(f"URL [{i}] is empty (an unset environment variable with a :- default?)")
            if not apprise.Apprise().add(url):
                raise ValueError(f"URL [{i}] is not a URL Apprise understands (unknown scheme, or a required "
                                 "part missing); see https://github.com/caronc/apprise/wiki for the URL forms")
        return urls

    @field_validator("title_template", "body_template")
    @classmethod
    def _template_compiles(cls, source: str | None) -> str | None:
        return checked_template(source)


ChannelConfig = Annotated[
    EmailChannelConfig | WebhookChannelConfig | AppriseChannelConfig, Field(discriminator="type")
]
CHANNEL_TAGS = ("email", "webhook", "apprise")  # the `type` values: pydantic puts the chosen one in error locations
