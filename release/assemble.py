"""Split builds: one slice per runner with a manifest, merged by ``release assemble``.

A slice directory holds the artifacts of one target and ``release-manifest.json``
(names, sizes, sha256, version, source commit). Assembling checks that every slice
is of the same version and commit, that no target or file appears twice and none
is missing, and that every file still has its recorded digest.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.checksums import Digest, atomic_write, hash_file
from release.errors import BuildError

MANIFEST = "release-manifest.json"
FORMAT = 1


@dataclass(frozen=True)
class ManifestEntry:
    name: str
    size: int
    sha256: str
    build: str
    os: str | None
    arch: str | None


@dataclass(frozen=True)
class Manifest:
    tag: str
    version: str
    pep440: str
    commit: str
    targets: tuple[str, ...]
    artifacts: tuple[ManifestEntry, ...]

    def to_json(self) -> bytes:
        data = {
            "format": FORMAT,
            "tag": self.tag,
            "version": self.version,
            "pep440": self.pep440,
            "commit": self.commit,
            "targets": list(self.targets),
            "artifacts": [a.__dict__ for a in self.artifacts],
        }
        return (json.dumps(data, indent=2) + "\n").encode()

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        """Read ``directory/release-manifest.json``. Raises :class:`BuildError`."""
        path = directory / MANIFEST
        try:
            data: Any = json.loads(path.read_bytes())
            if not isinstance(data, dict):
                raise ValueError(f"expected a JSON object, got {type(data).__name__}")
            if data.get("format") != FORMAT:
                raise ValueError(f"unknown manifest format {data.get('format')!r}")
            return cls(
                tag=str(data["tag"]),
                version=str(data["version"]),
                pep440=str(data["pep440"]),
                commit=str(data["commit"]),
                targets=tuple(str(t) for t in data["targets"]),
                artifacts=tuple(ManifestEntry(**a) for a in data["artifacts"]),
            )
        except FileNotFoundError:
            raise BuildError(
                f"{directory} has no {MANIFEST}",
                hint="build slices with: release build --target OS-ARCH --out DIR",
            ) from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BuildError(
                f"{path} is not a valid build manifest ({exc})",
                hint="rebuild the slice with: release build --target OS-ARCH --out DIR",
            ) from exc


def write_manifest(directory: Path, manifest: Manifest) -> Path:
    path = directory / MANIFEST
    atomic_write(path, manifest.to_json())
    return path


def _check_files(directory: Path, entries: Sequence[ManifestEntry]) -> None:
    for e in entries:
        path = directory / e.name
        if not path.is_file():
            raise BuildError(f"{path} is listed in the manifest but missing")
        got = hash_file(path)
        if (got.size, got.sha256) != (e.size, e.sha256):
            raise BuildError(
                f"{path} does not match its manifest (sha256 or size differs)",
                hint="the slice was modified after it was built; rebuild it",
            )


def assemble(slices: Sequence[Path], out: Path, *, expected_targets: Sequence[str]) -> Manifest:
    """Merge slice directories into ``out``. Raises :class:`BuildError` on any mismatch."""
    if not slices:
        raise BuildError("no slice directories given")
    manifests = [(d, Manifest.load(d)) for d in slices]
    first = manifests[0][1]
    for d, m in manifests[1:]:
        for attr in ("tag", "commit"):
            if getattr(m, attr) != getattr(first, attr):
                raise BuildError(
                    f"slice {d} is of {attr} {getattr(m, attr)}, slice {manifests[0][0]} of "
                    f"{getattr(first, attr)}",
                    hint="every runner must build the same version from the same commit",
                )
    seen_targets: dict[str, Path] = {}
    seen_files: dict[str, Path] = {}
    for d, m in manifests:
        for t in m.targets:
            if t in seen_targets:
                raise BuildError(f"target {t} appears twice ({seen_targets[t]} and {d})")
            seen_targets[t] = d
        for a in m.artifacts:
            if a.name in seen_files:
                raise BuildError(f"artifact {a.name} appears twice ({seen_files[a.name]} and {d})")
            seen_files[a.name] = d
        _check_files(d, m.artifacts)
    missing = sorted(set(expected_targets) - set(seen_targets))
    if missing:
        raise BuildError(
            f"no slice for target(s) {', '.join(missing)}",
            hint="every target of [[tool.release.build]] needs a slice",
        )
    out.mkdir(parents=True, exist_ok=True)
    entries: list[ManifestEntry] = []
    for d, m in manifests:
        for a in m.artifacts:
            dest = out / a.name
            if d.resolve() != out.resolve():
                shutil.copyfile(d / a.name, dest)
            entries.append(a)
    merged = Manifest(
        first.tag,
        first.version,
        first.pep440,
        first.commit,
        tuple(sorted(seen_targets)),
        tuple(sorted(entries, key=lambda e: e.name)),
    )
    write_manifest(out, merged)
    return merged


def digests_of(manifest: Manifest) -> list[Digest]:
    return [Digest(a.name, a.size, a.sha256) for a in manifest.artifacts]
