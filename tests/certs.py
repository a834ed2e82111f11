"""Throwaway TLS material for tests: a CA, a server certificate for 127.0.0.1/localhost and a
client certificate, made with the ``openssl`` command (``make venv`` installs it if missing).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

KEY_PASSWORD = "client-key-pass"


@dataclass(frozen=True)
class Certs:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path  # encrypted with KEY_PASSWORD


def _openssl(*args: str | Path) -> None:
    binary = shutil.which("openssl")
    assert binary, "openssl is missing: run `make venv` (it installs it)"
    subprocess.run([binary, *map(str, args)], check=True, capture_output=True, timeout=60)


def _signed(folder: Path, name: str, subject: str, extensions: str, ca: Path) -> Path:
    key, request, cert = (folder / f"{name}.{ext}" for ext in ("key", "csr", "pem"))
    ext_file = folder / f"{name}.ext"
    ext_file.write_text(
        extensions + "\nbasicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
    )
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", key, "-out", request, "-subj", subject)  # fmt: skip
    _openssl("x509", "-req", "-in", request, "-CA", ca, "-CAkey", folder / "ca.key",
             "-CAcreateserial", "-days", "2", "-out", cert, "-extfile", ext_file)  # fmt: skip
    return cert


def make_certs(folder: Path) -> Certs:
    """Write the CA, server and client material into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = folder / "ca.pem"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", folder / "ca.key", "-out", ca, "-days", "2",
             "-subj", "/CN=customs-watch test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    server = _signed(
        folder,
        "server",
        "/CN=localhost",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
        ca,
    )
    client = _signed(
        folder, "client", "/CN=customs-watch client", "extendedKeyUsage=clientAuth", ca
    )
    encrypted = folder / "client.enc.key"
    _openssl("pkey", "-in", folder / "client.key", "-aes256",
             "-passout", f"pass:{KEY_PASSWORD}", "-out", encrypted)  # fmt: skip
    return Certs(ca, server, folder / "server.key", client, encrypted)
