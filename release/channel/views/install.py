"""``channels/<ch>/install.sh``: a POSIX ``sh`` installer for a channel's newest release.

Generated on every change of the store (pure: a :class:`ViewInput` in, script text
out). It embeds, from the signed line documents, the size and sha256 of every file of
the channel's newest release and of each line's newest release, and the identity that
signed it. When it runs it:

1. detects OS and architecture (``OS=`` / ``ARCH=`` override) and picks the release:
   the channel's newest, ``VERSION=`` (a version or tag embedded here) or ``LINE=``;
2. checks that ``INSTALL_DIR`` (default ``$HOME/.local/bin``) is writable;
3. downloads the file (curl or wget) and checks its size and sha256 against the
   embedded values, then cross-checks the release's ``SHA256SUMS``;
4. with ``sigstore`` or ``cosign`` on ``PATH``, also verifies the Sigstore bundle
   against the signer identity; otherwise it says that only the hash was checked;
5. installs the executable (a ``binary`` artifact, or the executables in a ``.tar.gz``).

An older release (not embedded) is refused with a pointer to
``release channel download``, which verifies any release through the channel's TUF
metadata. Exit codes: 1 verification failed, 2 usage, 3 network, 4 precondition
(unsupported platform, missing build, unwritable directory, missing tools).
Values are embedded only when they consist of safe characters, so no document
content can inject shell code.
"""

from __future__ import annotations

import re

from release.channel import strictjson as sj
from release.channel.model import Release
from release.channel.views import DEV_TRUST_CONFIG, ViewInput, is_dev_signed, release_dir

_SAFE = re.compile(r"[A-Za-z0-9._+~@:/=%-]*")
INSTALLABLE_KINDS = ("binary", "archive")


def _safe(*values: str) -> bool:
    return all(_SAFE.fullmatch(v) for v in values)


def _release_rows(release: Release, line: str) -> list[str]:
    rows = []
    for a in release.artifacts:
        if a.os is None or a.arch is None:
            continue
        fields = [
            release.version,
            release.tag,
            line,
            a.os,
            a.arch,
            a.kind,
            a.name,
            a.path,
            str(a.size),
            a.sha256,
            a.sigstore_bundle.path,
            release.signer.identity,
            release.signer.issuer,
            "dev" if is_dev_signed(release) else "sigstore",
            release_dir(release),
        ]
        if _safe(*fields):
            rows.append("|".join(fields))
    return rows


def embedded(view: ViewInput, channel: str) -> tuple[list[str], list[str]]:
    """(release rows, line rows) the script of ``channel`` embeds."""
    doc = view.channels[channel]
    releases: list[str] = []
    lines: list[str] = []
    seen: set[str] = set()
    for entry in reversed(doc.lines):
        if entry.latest is None:
            continue
        eol = sj.format_day(entry.support.eol) or ""
        if _safe(entry.line, entry.support.phase, eol, entry.latest):
            lines.append("|".join([entry.line, entry.support.phase, eol, entry.latest]))
        rel = view.release(channel, entry.latest)
        if rel is not None and rel.version not in seen:
            seen.add(rel.version)
            releases += _release_rows(rel, entry.line)
    return releases, lines


def _q(value: str) -> str:
    """A single-quoted shell word (values are already restricted to safe characters)."""
    return "'" + value.replace("'", "'\\''") + "'"


def render_install(view: ViewInput, channel: str) -> str:
    """The install script of ``channel``."""
    doc = view.channels[channel]
    releases, lines = embedded(view, channel)
    latest = doc.latest or ""
    base = view.base_url or ""
    project = view.project if _safe(view.project) else "app"
    script_url = f"{base}/channels/{channel}/install.sh" if base else "install.sh"
    header = f"""#!/bin/sh
# Install {project} from its {channel} release channel.
# Generated {sj.format_time(view.now)} from channel document v{doc.version}; do not edit.
#
#   curl -fsSL {script_url} | sh
#   curl -fsSL {script_url} | VERSION=<version or tag> sh
#   curl -fsSL {script_url} | LINE=<line> sh
#
# Environment: INSTALL_DIR (default $HOME/.local/bin), VERSION, LINE, OS, ARCH,
# BIN_NAME (name of an installed single binary), BASE_URL (where the channel is served).
# The sha256 of each file is embedded below from the signed line documents; the
# Sigstore bundle is checked too when `sigstore` or `cosign` is installed.
# Exit codes: 1 verification failed, 2 usage, 3 network, 4 precondition.
set -eu

PROJECT={_q(project)}
CHANNEL={_q(channel)}
LATEST={_q(latest)}
DEFAULT_BASE_URL={_q(base)}
DEV_TRUST_CONFIG={_q(DEV_TRUST_CONFIG)}

# version|tag|line|os|arch|kind|name|path|size|sha256|bundle|identity|issuer|trust|dir
releases() {{
cat <<'RELEASES'
{chr(10).join(releases)}
RELEASES
}}

# line|phase|eol|latest
lines() {{
cat <<'LINES'
{chr(10).join(lines)}
LINES
}}
"""
    return header + _BODY


_BODY = r"""
say() { printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  code=$1
  printf 'error: %s\n' "$2" >&2
  if [ $# -gt 2 ]; then printf 'hint: %s\n' "$3" >&2; fi
  exit "$code"
}

field() { printf '%s\n' "$1" | cut -d'|' -f"$2"; }

detect_os() {
  case "${OS:-$(uname -s)}" in
    Linux | linux) echo linux ;;
    Darwin | darwin) echo darwin ;;
    FreeBSD | freebsd) echo freebsd ;;
    *) printf '%s\n' "${OS:-$(uname -s)}" | tr '[:upper:]' '[:lower:]' ;;
  esac
}

detect_arch() {
  case "${ARCH:-$(uname -m)}" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    armv7l | armv7 | arm) echo arm ;;
    i386 | i686 | 386) echo 386 ;;
    *) printf '%s\n' "${ARCH:-$(uname -m)}" | tr '[:upper:]' '[:lower:]' ;;
  esac
}

fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 --connect-timeout 10 --max-time 600 -o "$2" "$1" 2>"$tmp/fetch.log" ||
      die 3 "could not download $1: $(tail -n 1 "$tmp/fetch.log")" \
        "check the network and BASE_URL ($BASE_URL)"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -T 30 -O "$2" "$1" 2>"$tmp/fetch.log" ||
      die 3 "could not download $1 (wget failed)" "check the network and BASE_URL ($BASE_URL)"
  else
    die 4 "neither curl nor wget is installed" "install one of them"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 "$1" | sed 's/^.*= *//'
  else
    die 4 "no sha256 tool (sha256sum, shasum or openssl)" "install coreutils"
  fi
}

platforms() {
  releases | while IFS='|' read -r _v _t _l o a _rest; do
    if [ -n "$o" ]; then printf '%s/%s\n' "$o" "$a"; fi
  done | sort -u | tr '\n' ' '
}

main() {
  BASE_URL=${BASE_URL:-$DEFAULT_BASE_URL}
  BASE_URL=${BASE_URL%/}
  [ -n "$BASE_URL" ] ||
    die 2 "this script does not know where the $CHANNEL channel is served" \
      "set BASE_URL to the channel's URL (the directory holding channels/ and releases/)"
  if [ -z "${INSTALL_DIR:-}" ]; then
    [ -n "${HOME:-}" ] || die 2 "neither INSTALL_DIR nor HOME is set" "set INSTALL_DIR"
    INSTALL_DIR="$HOME/.local/bin"
  fi
  os=$(detect_os)
  arch=$(detect_arch)
  if [ -n "${VERSION:-}" ] && [ -n "${LINE:-}" ]; then
    die 2 "VERSION and LINE are exclusive" "set one of them"
  fi
  known=$(platforms)
  case " $known" in
    *" $os/$arch "*) ;;
    *) die 4 "unsupported platform $os/$arch: the $CHANNEL channel builds $PROJECT for: $known" \
      "on another platform set OS= and ARCH=, or build from source" ;;
  esac

  version=$LATEST
  if [ -n "${VERSION:-}" ]; then
    want=${VERSION#v}
    version=$(releases | while IFS='|' read -r v t _rest; do
      if [ "$v" = "$want" ] || [ "$t" = "$want" ]; then printf '%s\n' "$v"; break; fi
    done)
    if [ -z "$version" ]; then
      embedded=$(releases | cut -d'|' -f1 | sort -u | tr '\n' ' ')
      what="it embeds the newest release of the channel and of each line: $embedded"
      how="release channel download $want --os $os --arch $arch"
      die 2 "VERSION=$VERSION is not embedded in this install script ($what)" \
        "for another release run: $how (it verifies any release with the signed metadata)"
    fi
  elif [ -n "${LINE:-}" ]; then
    row=$(lines | while IFS='|' read -r l p e v; do
      if [ "$l" = "$LINE" ]; then printf '%s|%s|%s|%s\n' "$l" "$p" "$e" "$v"; fi
    done)
    [ -n "$row" ] || die 2 "the $CHANNEL channel has no line $LINE" \
      "lines: $(lines | cut -d'|' -f1 | tr '\n' ' ')"
    version=$(field "$row" 4)
    if [ "$(field "$row" 2)" = eol ]; then
      warn "line $LINE is end-of-life since $(field "$row" 3): it gets no more fixes"
    fi
  fi
  [ -n "$version" ] || die 4 "the $CHANNEL channel has no release yet"

  entry=$(releases | while IFS='|' read -r v _t _l o a _rest; do
    if [ "$v" = "$version" ] && [ "$o" = "$os" ] && [ "$a" = "$arch" ]; then
      printf '%s|%s|%s|%s|%s|%s\n' "$v" "$_t" "$_l" "$o" "$a" "$_rest"
      break
    fi
  done)
  if [ -z "$entry" ]; then
    has=$(releases | while IFS='|' read -r v _t _l o a _rest; do
      if [ "$v" = "$version" ]; then printf '%s/%s ' "$o" "$a"; fi
    done)
    die 4 "$PROJECT $version has no build for $os/$arch (it has: $has)" \
      "pick another release with VERSION= or LINE=, or set OS= and ARCH="
  fi
  IFS='|' read -r _v tag _l _o _a kind name path size sha bundle identity issuer trust dir <<ENTRY
$entry
ENTRY

  case "$kind:$name" in
    binary:*) ;;
    archive:*.tar.gz | archive:*.tgz) ;;
    *) die 4 "$name ($kind) is not something this script installs" \
      "download it from $BASE_URL/$path and verify it with: release channel download $version" ;;
  esac
  mkdir -p "$INSTALL_DIR" 2>/dev/null || die 4 "cannot create $INSTALL_DIR" \
    "set INSTALL_DIR to a directory you can write"
  if [ ! -w "$INSTALL_DIR" ]; then
    die 4 "cannot write to $INSTALL_DIR" "set INSTALL_DIR to a directory you can write"
  fi

  tmp=$(mktemp -d 2>/dev/null || mktemp -d -t install)
  trap 'rm -rf "$tmp"' EXIT
  trap 'exit 130' INT TERM
  say "downloading $PROJECT $tag for $os/$arch from $BASE_URL"
  fetch "$BASE_URL/$path" "$tmp/$name"
  got_size=$(wc -c <"$tmp/$name" | tr -d ' ')
  [ "$got_size" = "$size" ] ||
    die 1 "size mismatch for $name: $got_size bytes, the signed line document says $size" \
      "the file on the server is not the one that was released; nothing was installed"
  got=$(sha256_of "$tmp/$name")
  [ "$got" = "$sha" ] ||
    die 1 "sha256 mismatch for $name: got $got, the signed line document says $sha" \
      "the file on the server is not the one that was released; nothing was installed"
  fetch "$BASE_URL/$dir/SHA256SUMS" "$tmp/SHA256SUMS"
  listed=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1; exit }' "$tmp/SHA256SUMS")
  [ "$listed" = "$sha" ] ||
    die 1 "SHA256SUMS of $tag says '${listed:-nothing}' for $name, the signed line document $sha" \
      "the release files on the server disagree; nothing was installed"
  say "sha256 ok: $sha (the signed line document's value, embedded here; SHA256SUMS agrees)"

  if command -v sigstore >/dev/null 2>&1; then
    fetch "$BASE_URL/$bundle" "$tmp/$name.sigstore.json"
    set -- verify identity "$tmp/$name" --bundle "$tmp/$name.sigstore.json" \
      --cert-identity "$identity" --cert-oidc-issuer "$issuer"
    if [ "$trust" = dev ]; then
      fetch "$BASE_URL/$dir/$DEV_TRUST_CONFIG" "$tmp/$DEV_TRUST_CONFIG"
      set -- --trust-config "$tmp/$DEV_TRUST_CONFIG" "$@"
    fi
    sigstore "$@" >"$tmp/sigstore.log" 2>&1 ||
      die 1 "the Sigstore bundle of $name does not verify for $identity ($issuer)" \
        "$(tail -n 1 "$tmp/sigstore.log")"
    say "signature ok: sigstore verified $name as signed by $identity ($issuer)"
    if [ "$trust" = dev ]; then
      warn "dev signatures: not trusted. The bundle was checked against the dev trust" \
        "config served with the release: it shows integrity, not who published it"
    fi
  elif command -v cosign >/dev/null 2>&1 && [ "$trust" != dev ]; then
    fetch "$BASE_URL/$bundle" "$tmp/$name.sigstore.json"
    cosign verify-blob "$tmp/$name" --bundle "$tmp/$name.sigstore.json" \
      --certificate-identity "$identity" --certificate-oidc-issuer "$issuer" \
      >"$tmp/cosign.log" 2>&1 ||
      die 1 "the Sigstore bundle of $name does not verify for $identity ($issuer)" \
        "$(tail -n 1 "$tmp/cosign.log")"
    say "signature ok: cosign verified $name as signed by $identity ($issuer)"
  else
    say "only the sha256 was checked, not the signature: install sigstore" \
      "(pip install sigstore) or cosign to also verify the Sigstore bundle"
  fi

  mkdir "$tmp/out"
  case "$kind" in
    binary) mv "$tmp/$name" "$tmp/out/${BIN_NAME:-$PROJECT}" ;;
    archive)
      mkdir "$tmp/x"
      tar -xzf "$tmp/$name" -C "$tmp/x" || die 1 "$name is not a readable .tar.gz"
      find "$tmp/x" -type f -perm -u+x -exec cp {} "$tmp/out/" \;
      ;;
  esac
  installed=""
  for f in "$tmp/out"/*; do
    [ -f "$f" ] || die 1 "$name holds no executable file to install"
    base=${f##*/}
    part="$INSTALL_DIR/.$base.tmp.$$"
    if ! { mv -f "$f" "$part" && chmod 0755 "$part" && mv -f "$part" "$INSTALL_DIR/$base"; }; then
      rm -f "$part"
      die 4 "cannot install $base into $INSTALL_DIR" "set INSTALL_DIR to a directory you can write"
    fi
    installed="$installed $INSTALL_DIR/$base"
  done
  say "installed $PROJECT $version ($tag, $os/$arch):$installed"
  case ":${PATH:-}:" in
    *":$INSTALL_DIR:"*) ;;
    *) say "note: $INSTALL_DIR is not on PATH; add it: export PATH=\"$INSTALL_DIR:\$PATH\"" ;;
  esac
}

main "$@"
"""
