"""Secret redaction for everything the tool logs or prints.

Tokens (GitHub, OIDC identity tokens) are registered with :func:`register_secret`
as soon as they are read; every log record and every CLI line passes through
:func:`redact`. JWT-shaped and GitHub-token-shaped strings are masked even when
nobody registered them.
"""

from __future__ import annotations

import logging
import re

_SECRETS: set[str] = set()
_PATTERNS = (
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"),  # JWT
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
)
MASK = "***"


def register_secret(value: str | None) -> None:
    """Remember ``value`` so it is masked wherever it would be printed or logged."""
    if value and len(value) >= 6:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_redaction(handler: logging.Handler) -> None:
    handler.addFilter(RedactingFilter())
