"""release-channels: signed, resumable edge and stable release channels."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # Lazy: importlib.metadata costs tens of milliseconds, and read paths such as
    # `release status` never need the version.
    if name == "__version__":
        from importlib import metadata

        try:
            version = metadata.version("release-channels")
        except metadata.PackageNotFoundError:  # running from a source tree
            version = "0.0.0.dev0"
        globals()["__version__"] = version
        return version
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
