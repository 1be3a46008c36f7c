"""The files a real installation copies: the systemd units pass `systemd-analyze verify`
and the nginx example passes `nginx -t` inside a wrapper config. Outside CI a missing tool
skips with the reason; under CI=true it fails (.ci/run installs nginx)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import need_program

from .conftest import ROOT

DEPLOY = ROOT / "deploy"


def need(tool: str) -> str:
    return need_program(tool, package="nginx-light" if tool == "nginx" else "systemd")


@pytest.mark.parametrize("unit", ["zhenggai.service", "zhenggai-worker.service"])
def test_systemd_units_verify(unit, tmp_path):
    tool = need("systemd-analyze")
    text = (DEPLOY / unit).read_text()
    assert "/srv/zhenggai/.venv/bin/zhenggai" in text
    # The unit names the installed command; here it is this checkout's.
    exe = Path(sys.executable).with_name("zhenggai")
    (tmp_path / unit).write_text(text.replace("/srv/zhenggai/.venv/bin/zhenggai", str(exe)))
    r = subprocess.run([tool, "verify", str(tmp_path / unit)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def test_nginx_example_passes_nginx_t(tmp_path):
    tool = need("nginx")
    openssl = need("openssl")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem"), "-subj",
                    "/CN=zhenggai.example.org", "-days", "2"], check=True,
                   capture_output=True, timeout=60)
    site = ((DEPLOY / "nginx.conf").read_text()
            .replace("/etc/ssl/zhenggai/fullchain.pem", str(tmp_path / "cert.pem"))
            .replace("/etc/ssl/zhenggai/privkey.pem", str(tmp_path / "key.pem"))
            .replace("/var/log/nginx/", f"{tmp_path}/"))
    assert "$remote_addr" not in site.split("upstream")[0]  # the log format names nobody
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "wrap.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    include {tmp_path}/site.conf;\n}}\n")
    r = subprocess.run([tool, "-t", "-q", "-c", str(tmp_path / "wrap.conf"), "-p",
                        str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_env_example_names_what_the_units_need():
    env = (DEPLOY / "env.example").read_text()
    for name in ("DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "ZHENGGAI_DATA"):
        assert f"\n{name}=" in env
    for unit in ("zhenggai.service", "zhenggai-worker.service"):
        assert "EnvironmentFile=/etc/zhenggai/env" in (DEPLOY / unit).read_text()
