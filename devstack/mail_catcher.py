"""A local mail catcher for ``make run``: aiosmtpd on loopback, each mail kept as a file under ``var/mail``.

``make run`` starts it when no ``EMAIL_URL`` is configured and points
``EMAIL_URL`` at it, so password reset mails (sent by the worker) can be read
in ``var/mail/new/``, one file per mail, with any text viewer or a mail
client that reads a maildir (``mutt -f var/mail``).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import StackError, port_answers, stop_process, wait_for_port


@dataclass
class LocalMailCatcher:
    """aiosmtpd's own server and maildir handler on ``127.0.0.1:port``, mails in the maildir ``directory``."""

    directory: Path
    port: int = 8025
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The ``EMAIL_URL`` that sends to it."""
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def inbox(self) -> Path:
        """Where new mails appear, one file each."""
        return self.directory / "new"

    @property
    def log_path(self) -> Path:
        return self.directory.parent / "mail-catcher.log"

    def start(self) -> None:
        if port_answers("127.0.0.1", self.port):
            raise StackError(
                f"127.0.0.1:{self.port} is taken by another program: stop it, or set EMAIL_URL to send mail elsewhere"
            )
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        handler = ["-c", "aiosmtpd.handlers.Mailbox", str(self.directory)]
        args = [sys.executable, "-m", "aiosmtpd", "--nosetuid", "--listen", f"127.0.0.1:{self.port}", *handler]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_for_port("127.0.0.1", self.port, self.process, "the mail catcher (aiosmtpd)")

    def stop(self) -> None:
        stop_process(self.process)
