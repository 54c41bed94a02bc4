"""``release sign`` and ``release verify``: Sigstore bundles for files and provenance.

Expected identities:

* ``release sign --channel NAME`` verifies every new bundle against the channel's
  ``[signer]`` (``[dev-signer]`` with ``--dev`` or a dev ``--trust-config``).
  ``--dev`` without ``--channel`` uses the edge channel's ``[dev-signer]``.
  Otherwise the bundle must verify for the identity the certificate names for
  the token's issuer (chain, SCT, log still checked); that identity is printed.
* ``release verify --channel NAME`` uses ``[signer]``, or ``[dev-signer]`` when
  ``--dev`` is given or the ``--trust-config`` file is a dev trust config written
  by ``release sign --dev``. ``--dev`` alone verifies against the dev trust config in
  the dev state directory.
* Signer identities templated with ``{line}`` (per stable line) need ``--line X.Y``.

sigstore is imported inside the handlers (through ``release.adapters.sigstore``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from release.cli._output import Output
from release.config import Identity, load_config
from release.errors import ConfigError, UsageError


def register(sub: Any) -> None:
    sign = sub.add_parser("sign", help="sign files with Sigstore (<file>.sigstore.json)")
    sign.add_argument("files", nargs="+", type=Path, metavar="FILE")
    where = sign.add_mutually_exclusive_group()
    where.add_argument("--trust-config", type=Path, help="sign with the instance this describes")
    where.add_argument("--staging", action="store_true", help="use Sigstore staging")
    where.add_argument("--dev", action="store_true", help="use a local, untrusted dev instance")
    sign.add_argument("--identity-token", help="OIDC token (else SIGSTORE_IDENTITY_TOKEN / CI)")
    sign.add_argument("--channel", help="verify bundles against this channel's signer")
    sign.add_argument("--line", help="stable line X.Y, for signers templated with {line}")
    sign.add_argument("--dev-state", type=Path, help="dev instance keys and log (with --dev)")
    sign.add_argument(
        "--trust-config-out", type=Path, help="with --dev: also write its trust config here"
    )
    sign.set_defaults(handler=_sign)

    verify = sub.add_parser("verify", help="verify Sigstore bundles for an exact identity")
    verify.add_argument("files", nargs="+", type=Path, metavar="FILE")
    verify.add_argument("--bundle", type=Path, help="bundle (default <FILE>.sigstore.json)")
    verify.add_argument("--provenance", type=Path, help="DSSE provenance bundle naming FILEs")
    who = verify.add_mutually_exclusive_group(required=True)
    who.add_argument("--identity", help="exact certificate identity (SAN)")
    who.add_argument("--channel", help="read the identity from channels/NAME.toml")
    verify.add_argument("--issuer", help="exact OIDC issuer (with --identity)")
    verify.add_argument("--line", help="stable line X.Y, for signers templated with {line}")
    root = verify.add_mutually_exclusive_group()
    root.add_argument("--trusted-root", type=Path, help="a Sigstore trusted_root.json")
    root.add_argument("--trust-config", type=Path, help="a Sigstore ClientTrustConfig")
    root.add_argument("--staging", action="store_true", help="Sigstore staging root")
    verify.add_argument("--offline", action="store_true", help="no TUF refresh of the root")
    verify.add_argument("--dev", action="store_true", help="dev bundles ([dev-signer])")
    verify.add_argument("--dev-state", type=Path, help="dev state holding the trust config")
    verify.set_defaults(handler=_verify)


def _dev_state(args: argparse.Namespace) -> Path:
    from release.adapters.sigstore import default_dev_state_dir

    return args.dev_state or default_dev_state_dir(os.environ)


def _sign(args: argparse.Namespace, out: Output) -> int:
    from release.adapters.sigstore import (
        SigningMode,
        SigningSetup,
        is_dev_trust_config,
        open_signer,
        prehash,
        preload,
    )

    prehash(args.files)  # digests get ready while sigstore loads and a certificate comes
    preload()

    mode: SigningMode = "sigstore"
    if args.dev:
        mode = "dev"
    elif args.trust_config:
        mode = "trust-config"
    elif args.staging:
        mode = "staging"
    if args.trust_config_out and not args.dev:
        raise UsageError("--trust-config-out only applies to --dev")
    dev = bool(args.dev or (args.trust_config and is_dev_trust_config(args.trust_config)))
    expected: Identity | None = None
    if args.channel or args.dev:
        expected = _channel_signer(args, dev)
    setup = SigningSetup(
        mode=mode,
        trust_config=args.trust_config,
        identity_token=args.identity_token,
        dev_state_dir=_dev_state(args) if args.dev else None,
    )
    with open_signer(setup, expected, trust_config_out=args.trust_config_out) as signer:
        bundles = signer.sign_files(args.files)
    ident = signer.identity
    lines = [f"signed {f} -> {b}" for f, b in zip(args.files, bundles, strict=True)]
    lines.append(f"identity {ident.identity} (issuer {ident.issuer}); every bundle verified")
    if args.dev:
        lines.append(f"dev trust config: {signer.trust_config_path}")
    out.result(
        "\n".join(lines),
        {
            "bundles": [str(b) for b in bundles],
            "identity": ident.identity,
            "issuer": ident.issuer,
            "trust_config": str(signer.trust_config_path) if signer.trust_config_path else None,
        },
    )
    return 0


def _expected(args: argparse.Namespace, dev: bool) -> Identity:
    if args.identity:
        if not args.issuer:
            raise UsageError("--identity needs --issuer (both must match exactly)")
        return Identity(args.identity, args.issuer)
    if args.issuer:
        raise UsageError("--issuer goes with --identity; --channel reads both from the channel")
    return _channel_signer(args, dev)


def _channel_signer(args: argparse.Namespace, dev: bool) -> Identity:
    """The channel's [signer] / [dev-signer] (the edge channel when none is named)."""
    config = load_config(args.repo)
    channel = config.channel(args.channel) if args.channel else config.edge
    ident = channel.expected_signer(dev=dev)
    if args.line:
        return ident.for_line(args.line)
    if "{line}" in ident.identity:
        raise UsageError(
            f"channel {channel.name!r} signs per stable line ({ident.identity})",
            hint="pass --line X.Y",
        )
    return ident


def _verify(args: argparse.Namespace, out: Output) -> int:
    from release.adapters.sigstore import (
        DEV_TRUST_CONFIG_NAME,
        bundle_path,
        is_dev_trust_config,
        verify_file,
        verify_provenance,
    )

    trust_config = args.trust_config
    dev = bool(args.dev or (trust_config and is_dev_trust_config(trust_config)))
    if args.dev and not (trust_config or args.trusted_root):
        trust_config = _dev_state(args) / DEV_TRUST_CONFIG_NAME
        if not trust_config.is_file():
            raise ConfigError(
                f"no dev trust config at {trust_config}",
                hint="sign with `release sign --dev` first, or pass --trust-config",
            )
    expected = _expected(args, dev)
    roots = {
        "trust_config": trust_config,
        "trusted_root": args.trusted_root,
        "staging": args.staging,
        "offline": args.offline,
    }
    who = f"{expected.identity} (issuer {expected.issuer})"
    if args.provenance:
        if args.bundle:
            raise UsageError("--bundle and --provenance are exclusive")
        statement = verify_provenance(args.provenance, args.files, expected, **roots)
        names = ", ".join(str(f) for f in args.files)
        out.result(
            f"OK: {args.provenance} is provenance signed by {who} covering {names}",
            {
                "verified": True,
                "identity": expected.identity,
                "issuer": expected.issuer,
                "files": [str(f) for f in args.files],
                "statement": statement,
            },
        )
        return 0
    if args.bundle and len(args.files) != 1:
        raise UsageError("--bundle names the bundle of exactly one FILE")
    pairs = [(f, args.bundle or bundle_path(f)) for f in args.files]
    for path, bundle in pairs:
        verify_file(path, bundle, expected, **roots)
    out.result(
        "\n".join(f"OK: {p} signed by {who}" for p, _ in pairs),
        {
            "verified": True,
            "identity": expected.identity,
            "issuer": expected.issuer,
            "files": [{"file": str(p), "bundle": str(b)} for p, b in pairs],
        },
    )
    return 0
