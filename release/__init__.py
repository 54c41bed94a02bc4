"""release-channels: signed, resumable edge and stable release channels."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("release-channels")
except _metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0.dev0"

__all__ = ["__version__"]
