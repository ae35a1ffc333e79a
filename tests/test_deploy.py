"""The deployment configurations in deploy/ and the Dockerfile parse with the tools that
run them: `nginx -t`, `caddy validate`, `systemd-analyze verify`, `docker compose
config`. A tool this machine lacks skips its test, saying which and how to get it."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .conftest import ROOT

DEPLOY = ROOT / "deploy"


def _tool(name: str, package: str) -> str:
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    # Required, as Chromium is for the browser tests: a configuration no tool has read is
    # not checked (.ci/run installs them).
    assert path is not None, f"{name} is needed to check deploy/: apt-get install -y {package}"
    return path


def _run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=cwd)


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for nginx -t, which opens the files it names."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sinopia.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    chain, private = directory / "fullchain.pem", directory / "privkey.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return chain, private


def _nginx_test(tmp_path: Path, site: str) -> subprocess.CompletedProcess[str]:
    nginx = _tool("nginx", "nginx")
    chain, private = _certificate(tmp_path)
    site = re.sub(r"ssl_certificate (\S+);", f"ssl_certificate {chain};", site)
    site = re.sub(r"ssl_certificate_key (\S+);", f"ssl_certificate_key {private};", site)
    site = re.sub(r"access_log (\S+)", f"access_log {tmp_path}/access.log", site)
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n include {DEPLOY}/nginx/log-format.conf;\n include {tmp_path}/site.conf;\n}}\n"
    )
    return _run(nginx, "-t", "-e", str(tmp_path / "error.log"), "-c", str(tmp_path / "nginx.conf"))


def _upstream(site: str, name: str) -> str:
    found = re.search(r"upstream " + name + r" \{(.*?)\}", site, re.S)
    assert found, f"no upstream {name}"
    return found.group(1)


def test_nginx_config_parses_and_hashes_documents_to_instances(tmp_path: Path) -> None:
    site = (DEPLOY / "nginx" / "sinopia.conf").read_text()
    done = _nginx_test(tmp_path, site)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr
    # A document's sockets meet on one instance: hashed by path, never by the query
    # (which holds each person's token).
    assert re.search(r"^\s*hash \$uri consistent;", _upstream(site, "sinopia_collab"), re.M)
    collab = site[site.index("location /collab/") :]
    assert "proxy_pass http://sinopia_collab;" in collab.split("}")[0]
    assert "Upgrade $http_upgrade" in collab.split("}")[0]
    # Tokens in query strings stay out of the access log.
    assert "$request_uri" not in (DEPLOY / "nginx" / "log-format.conf").read_text()


def test_the_compose_nginx_config_parses(tmp_path: Path) -> None:
    site = (DEPLOY / "compose" / "nginx.conf").read_text()
    # nginx resolves upstream names when it reads the file: the compose services' names
    # exist only on compose's network.
    site = site.replace("sinopia-1:8080", "127.0.0.1:8081").replace(
        "sinopia-2:8080", "127.0.0.1:8082"
    )
    done = _nginx_test(tmp_path, site)
    assert done.returncode == 0, done.stderr


def test_caddyfile_validates(tmp_path: Path) -> None:
    caddy = _tool("caddy", "caddy")
    config = str(DEPLOY / "caddy" / "Caddyfile")
    done = _run(caddy, "validate", "--config", config, "--adapter", "caddyfile", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr


def test_systemd_unit_verifies_with_its_sandbox(tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze", "systemd")
    unit = (DEPLOY / "systemd" / "sinopia.service").read_text()
    # The unit names where the install puts the command; here it is this checkout's.
    # The command beside the Python running the tests: the install the tests run in has it.
    sinopia = Path(sys.executable).parent / "sinopia"
    assert sinopia.exists(), f"{sinopia} is missing: pip install -e . in this environment"
    (tmp_path / "sinopia.service").write_text(
        unit.replace("/opt/sinopia/bin/sinopia", str(sinopia))
    )
    done = _run(analyze, "verify", str(tmp_path / "sinopia.service"))
    # Unknown keys are only warnings: any output at all is a mistake in the unit.
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes"):
        assert option in unit


def test_compose_file_is_valid() -> None:
    docker = shutil.which("docker")
    if docker and _run(docker, "compose", "version").returncode == 0:
        command = [docker, "compose"]
    elif shutil.which("docker-compose"):
        command = ["docker-compose"]
    else:
        raise AssertionError(
            "docker compose or docker-compose is needed to check deploy/compose: "
            "apt-get install -y docker-compose"
        )
    compose = DEPLOY / "compose"
    done = _run(*command, "-f", str(compose / "compose.yaml"), "config", "-q", cwd=compose)
    assert done.returncode == 0, done.stderr
    text = (compose / "compose.yaml").read_text()
    for service in ("mongo:", "redis:", "sinopia-1:", "sinopia-2:", "nginx:"):
        assert f"\n  {service}" in text


def test_dockerfile_runs_as_non_root_with_a_health_check() -> None:
    # No docker daemon here to build it (`docker build` needs one and the network): the
    # checks a reader would make.
    text = (ROOT / "Dockerfile").read_text()
    final = text[text.rindex("\nFROM ") :]
    users = re.findall(r"^USER (\S+)", final, re.M)
    assert users and not users[-1].startswith(("root", "0")), users
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", final, re.M)
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        for source in line.split()[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
