"""Private copies of the services favsite talks to, for tests and ``make run``.

``LocalProsody`` runs the Debian ``prosody`` binary in the foreground from a
config it writes into a directory of its own, listening on 127.0.0.1 only:

    prosody = LocalProsody(Path("var/prosody"), port=5222)
    prosody.start()
    prosody.register("bot", "secret")   # bot@localhost
    ...
    prosody.stop()

Everything it writes (config, data, log, pid file) stays in that directory,
so several instances can run side by side on different ports. Accounts and
offline messages survive ``stop()``/``start()``, which is what a restart test
needs. Encryption is not required on the client port: it listens on loopback
only (``XMPP_TLS=off`` is refused for any other address). With ``tls=True`` a
throw-away self-signed certificate is made, so clients that insist on
STARTTLS (go-sendxmpp) can connect with verification turned off.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from devstack.processes import port_answers, stop_process

PROSODY = "prosody"
PROSODYCTL = "prosodyctl"


class LocalServiceError(RuntimeError):
    """A private service did not start; the message says why (with its log)."""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class LocalProsody:
    """One Prosody server on ``127.0.0.1:port`` serving the virtual host ``domain``."""

    def __init__(
        self,
        directory: Path,
        port: int,
        *,
        domain: str = "localhost",
        tls: bool = False,
        direct_tls_port: int | None = None,
        smacks_hibernation_time: int = 600,
        smacks_max_queue_size: int = 25_000,
    ) -> None:
        self.directory = Path(directory).resolve()
        self.port = port
        self.domain = domain
        self.tls = tls
        # A second client port where TLS starts at once (XEP-0368, XMPP_TLS=direct); needs ``tls``.
        self.direct_tls_port = direct_tls_port
        self.smacks_hibernation_time = smacks_hibernation_time
        self.smacks_max_queue_size = smacks_max_queue_size
        self.process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def address(self) -> str:
        """``host:port``, the form ``XMPP_SERVER`` takes."""
        return f"{self.host}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.directory / "prosody.cfg.lua"

    @property
    def log_path(self) -> Path:
        return self.directory / "prosody.log"

    def jid(self, user: str) -> str:
        return f"{user}@{self.domain}"

    def write_config(self) -> Path:
        """Write the config (and certificate when ``tls``); safe to call again."""
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        tls_lines = ""
        if self.tls:
            cert, key = self._make_certificate()
            tls_lines = f"ssl = {{ certificate = {_lua_string(str(cert))}; key = {_lua_string(str(key))}; }}\n"
        text = f"""-- Written by devstack.prosody.LocalProsody; rewritten on every start.
run_as_root = true
pidfile = {_lua_string(str(self.directory / "prosody.pid"))}
data_path = {_lua_string(str(self.directory / "data"))}
log = {{ info = {_lua_string(str(self.log_path))} }}
plugin_paths = {{ }}
certificates = {_lua_string(str(self.directory))}
admins = {{ }}

-- Loopback only, and only the client port: no s2s, HTTP or component ports,
-- so instances on different ports never collide.
interfaces = {{ "127.0.0.1" }}
c2s_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {self.port} }}
c2s_direct_tls_ports = {{ {self.direct_tls_port or ""} }}
legacy_ssl_ports = {{ }}
s2s_ports = {{ }}
component_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}

modules_enabled = {{
    "roster"; "saslauth"; "tls"; "disco"; "carbons"; "ping"; "presence";
    "message"; "iq"; "smacks"; "offline"; "mam"; "version"; "time"; "uptime"; "posix";
    "pep"; "vcard4"; "vcard_legacy";
}}
modules_disabled = {{ "s2s"; "dialback"; "http"; "bosh"; "websocket"; "register"; }}
allow_registration = false
authentication = "internal_hashed"
storage = "internal"
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
-- Messages to an offline account wait in mod_offline; an interrupted stream
-- can be resumed (XEP-0198) for this many seconds.
smacks_hibernation_time = {int(self.smacks_hibernation_time)}
smacks_max_queue_size = {int(self.smacks_max_queue_size)}
-- mod_mam archives every chat message with an id (XEP-0313, XEP-0359): the
-- gateway catches up from its archive after a restart, and recognises a
-- message delivered twice by that id. The internal store rewrites a whole
-- archive each time one outgrows its limit (10,000 by default): a busy bot's
-- would, every hundred messages.
storage_archive_item_limit = 1000000
archive_expires_after = "1w"
-- Only accounts that ask for it (the bot does, at every login) have an archive.
default_archive_policy = false
-- Prosody's default stanza size limit stays (256 KiB): tests rely on it.
{tls_lines}
VirtualHost {_lua_string(self.domain)}
"""
        self.config_path.write_text(text, encoding="utf-8")
        return self.config_path

    @property
    def certificate_path(self) -> Path:
        """The self-signed certificate ``tls=True`` makes (once; it is kept across restarts)."""
        return self.directory / f"{self.domain}.crt"

    def _make_certificate(self) -> tuple[Path, Path]:
        cert, key = self.certificate_path, self.directory / f"{self.domain}.key"
        if not (cert.exists() and key.exists()):
            subprocess.run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-days",
                    "3650",
                    "-subj",
                    f"/CN={self.domain}",
                    "-addext",
                    f"subjectAltName=DNS:{self.domain},IP:127.0.0.1",
                    "-keyout",
                    str(key),
                    "-out",
                    str(cert),
                ],
                check=True,
                capture_output=True,
            )
        return cert, key

    def register(self, user: str, password: str) -> str:
        """Create (or reset) an account; returns its JID."""
        if not self.config_path.exists():
            self.write_config()
        result = subprocess.run(
            [PROSODYCTL, "--config", str(self.config_path), "register", user, self.domain, password],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise LocalServiceError(f"prosodyctl register {user} failed: {result.stdout}{result.stderr}")
        return self.jid(user)

    def start(self, timeout: float = 20.0) -> None:
        """Start Prosody in the foreground as a child process; return once the port answers."""
        if self.running:
            return
        if shutil.which(PROSODY) is None:
            raise LocalServiceError("prosody is not installed (Debian package 'prosody'; `make install` adds it)")
        self.write_config()
        log = open(self.directory / "prosody.stdout", "ab")  # noqa: SIM115 (lives as long as the process)
        self.process = subprocess.Popen(
            [PROSODY, "--config", str(self.config_path), "-F"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.directory,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, not Prosody directly
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LocalServiceError(f"prosody exited with code {self.process.returncode}:\n{self.log_tail()}")
            if port_answers(self.host, self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise LocalServiceError(f"prosody did not listen on {self.address} within {timeout:.0f} s:\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process this object started (by its PID), SIGKILL if it lingers."""
        process, self.process = self.process, None
        stop_process(process, timeout)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for path in (self.log_path, self.directory / "prosody.stdout"):
            if path.exists():
                parts.extend(path.read_text(errors="replace").splitlines()[-lines:])
        return "\n".join(parts)
