"""Channel index v1 (pure): documents, invariants, and how a new one follows the old one.

Three document types, each a frozen dataclass parsed from **bytes** and written as
canonical bytes (see :mod:`release.channel.strictjson`):

``Index``            ``index.json`` / ``index/v{N}.json``: per channel its latest, its
                     live lines (not EOL) and a pin of the current channel document.
``ChannelDocument``  ``channels/<ch>/v{N}.json``: every line with its support window,
                     latest and a pin of the line document.
``LineDocument``     ``channels/<ch>/lines/<line>/v{N}.json``: the releases of one line.

Sharding by line keeps every document small as history grows: publishing a release
rewrites one line document, the channel document (one entry per line) and the index
(live lines only). Frozen lines are reached through pins, never inlined.

Unknown fields survive ``from_dict``/``to_dict``. ``schema_version`` is ``Major.Minor``:
an unknown major is refused, a newer minor is accepted and reported as a warning.
Every function here takes values (including ``now``) and returns values.

The package: :mod:`.records` (what documents hold), :mod:`.documents` (the three
document types), :mod:`.transitions` (how the next document follows the previous one);
everything callers use is importable from here.
"""

from release.channel.model.documents import (
    ChannelDocument,
    ChannelEntry,
    Index,
    LineDocument,
    LineEntry,
    LineSummary,
    parse_channel,
    parse_index,
    parse_line_document,
)
from release.channel.model.records import (
    INDEX_PATH,
    KNOWN_ARCH,
    KNOWN_OS,
    SCHEMA_VERSION,
    TYPE_CHANNEL,
    TYPE_INDEX,
    TYPE_LINE,
    AnyVersion,
    Artifact,
    FileRef,
    Parsed,
    Pin,
    Provenance,
    Release,
    Source,
    Support,
    Withdrawal,
    channel_document_path,
    index_version_path,
    line_document_path,
    parse_version,
    pin_for,
    select_artifacts,
)
from release.channel.model.records import _parse_line as line_key
from release.channel.model.transitions import (
    add_release,
    append_release_dict,
    channel_entry,
    channel_entry_dict,
    compute_support,
    consistent,
    line_consistent,
    next_index,
    update_channel,
    update_channel_dict,
    withdraw,
)
from release.channel.strictjson import DocumentError  # sort key for lines

__all__ = [
    "INDEX_PATH",
    "KNOWN_ARCH",
    "KNOWN_OS",
    "SCHEMA_VERSION",
    "TYPE_CHANNEL",
    "TYPE_INDEX",
    "TYPE_LINE",
    "AnyVersion",
    "Artifact",
    "ChannelDocument",
    "ChannelEntry",
    "DocumentError",
    "FileRef",
    "Index",
    "LineDocument",
    "LineEntry",
    "LineSummary",
    "Parsed",
    "Pin",
    "Provenance",
    "Release",
    "Source",
    "Support",
    "Withdrawal",
    "add_release",
    "append_release_dict",
    "channel_document_path",
    "channel_entry",
    "channel_entry_dict",
    "compute_support",
    "consistent",
    "index_version_path",
    "line_consistent",
    "line_document_path",
    "line_key",
    "next_index",
    "parse_channel",
    "parse_index",
    "parse_line_document",
    "parse_version",
    "pin_for",
    "select_artifacts",
    "update_channel",
    "update_channel_dict",
    "withdraw",
]
