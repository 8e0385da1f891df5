"""``make run``: the whole stack on one laptop, in the foreground.

``python -m devstack`` (after ``migrate``):

1. makes sure Redis answers at ``REDIS_URL``, starting a private
   ``redis-server`` under ``var/redis`` when nothing listens there (and
   installing the Debian package first when it is missing and we are root);
2. when no ``EMAIL_URL`` is configured, starts a mail catcher (aiosmtpd) on
   127.0.0.1:8025 keeping every mail under ``var/mail`` (devstack/mail_catcher.py);
   when no ``XMPP_JID`` is configured, starts a private Prosody on
   127.0.0.1:5222 from a config under ``var/prosody`` with a bot account and
   a demo chat account, and points the gateway at it;
3. creates a demo site login and links the demo chat account to it;
4. prints where to go and who to log in as, then runs every process of the
   ``Procfile`` through honcho until Ctrl-C, and stops what it started.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from devstack.mail_catcher import LocalMailCatcher
from devstack.processes import StackError, ensure_debian_package, port_answers, stop_process, watch_parent_make
from devstack.prosody import LocalProsody
from devstack.redis_server import LocalRedis, ensure_redis

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DEMO_USERNAME = "demo"
XMPP_DOMAIN = "localhost"
BOT_USER = "favsite"
DEMO_CHAT_USER = "demo"
DEMO_EMAIL = "demo@localhost"  # so "Forgot password?" can be tried at once (the mail lands under var/mail)


def load_or_create_credentials(path: Path) -> dict[str, str]:
    """Passwords for the local bot, demo chat account and demo site login, kept under var/."""
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    credentials = {
        "bot_password": secrets.token_urlsafe(18),
        "demo_chat_password": secrets.token_urlsafe(9),
        "demo_site_password": secrets.token_urlsafe(9),
    }
    path.write_text(json.dumps(credentials, indent=2))
    path.chmod(0o600)
    return credentials


@dataclass
class Stack:
    """What ``make run`` started (to stop it) and what it prints."""

    env: dict[str, str]
    redis: LocalRedis | None = None
    prosody: LocalProsody | None = None
    mail: LocalMailCatcher | None = None
    bot_jid: str = ""
    demo_chat: tuple[str, str] | None = None

    def stop(self) -> None:
        if self.prosody is not None:
            self.prosody.stop()
        if self.mail is not None:
            self.mail.stop()
        if self.redis is not None:
            self.redis.stop()


def prepare(
    var: Path = VAR, *, env: dict[str, str] | None = None, xmpp_port: int = 5222, smtp_port: int = 8025
) -> Stack:
    """Steps 1 and 2: Redis, (without EMAIL_URL) a mail catcher and (without XMPP_JID) Prosody.

    Returns what it started, with the environment to run with.
    """
    env = dict(os.environ if env is None else env)
    # Links in mails and chat replies point at the site make run serves, unless SITE_URL says otherwise.
    if not env.get("SITE_URL"):
        env["SITE_URL"] = f"http://{env.get('FAVSITE_HOST', '127.0.0.1')}:{env.get('FAVSITE_PORT', '8000')}"
    stack = Stack(env=env)
    try:
        stack.redis = ensure_redis(env.get("REDIS_URL") or "redis://127.0.0.1:6379/0", var / "redis")
        if not env.get("EMAIL_URL"):
            stack.mail = LocalMailCatcher(var / "mail", smtp_port)
            stack.mail.start()
            env["EMAIL_URL"] = stack.mail.url
        if env.get("XMPP_JID"):
            stack.bot_jid = env["XMPP_JID"]
            return stack
        ensure_debian_package("prosody", "prosody")
        if port_answers("127.0.0.1", xmpp_port):
            raise StackError(
                f"127.0.0.1:{xmpp_port} is taken by another program: stop it, or set XMPP_JID/XMPP_PASSWORD/"
                "XMPP_SERVER to use an existing XMPP server"
            )
        credentials = load_or_create_credentials(var / "credentials.json")
        # A self-signed certificate, made on the first start and kept under var/prosody, so clients that
        # insist on STARTTLS (Conversations, Dino, Gajim, go-sendxmpp) can connect; plain stays allowed on loopback.
        stack.prosody = LocalProsody(var / "prosody", xmpp_port, domain=XMPP_DOMAIN, tls=True)
        stack.prosody.start()
        stack.bot_jid = stack.prosody.register(BOT_USER, credentials["bot_password"])
        demo_jid = stack.prosody.register(DEMO_CHAT_USER, credentials["demo_chat_password"])
        stack.demo_chat = (demo_jid, credentials["demo_chat_password"])
        env.update(
            XMPP_JID=stack.bot_jid,
            XMPP_PASSWORD=credentials["bot_password"],
            XMPP_SERVER=stack.prosody.address,
            XMPP_TLS="off",  # allowed: the server is on loopback
        )
    except BaseException:
        stack.stop()
        raise
    return stack


def create_demo_login(stack: Stack, var: Path = VAR) -> tuple[str, str]:
    """Step 3: a demo site user, with the demo chat account linked to it."""
    credentials = load_or_create_credentials(var / "credentials.json")
    manage = [sys.executable, str(ROOT / "manage.py")]
    script = (
        "from django.contrib.auth import get_user_model; U = get_user_model(); "
        f"u, new = U.objects.get_or_create(username={DEMO_USERNAME!r}); "
        f"new and u.set_password({credentials['demo_site_password']!r}); "
        f"u.email = u.email or {DEMO_EMAIL!r}; u.save()"
    )
    subprocess.run([*manage, "shell", "-c", script], check=True, env=stack.env, cwd=ROOT, stdout=subprocess.DEVNULL)
    if stack.demo_chat:
        subprocess.run(
            [*manage, "imlink", DEMO_USERNAME, stack.demo_chat[0]],
            check=True,
            env=stack.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    return DEMO_USERNAME, credentials["demo_site_password"]


def banner(stack: Stack, login: tuple[str, str]) -> str:
    host = stack.env.get("FAVSITE_HOST", "127.0.0.1")
    port = stack.env.get("FAVSITE_PORT", "8000")
    lines = [
        "",
        "  favsite is starting (Ctrl-C stops everything).",
        f"  Site:        http://{host}:{port}/",
        f"  Site login:  {login[0]} / {login[1]}",
        f"  Bot:         {stack.bot_jid}",
    ]
    if stack.demo_chat and stack.prosody:
        lines += [
            f"  Chat login:  {stack.demo_chat[0]} / {stack.demo_chat[1]}",
            f"               server {stack.prosody.address}, STARTTLS with a self-signed certificate",
            f"               ({_shown(stack.prosody.certificate_path)}; accept it in your client)",
            f"  Send a link to {stack.bot_jid} from that account (Gajim, Profanity, ...).",
        ]
    if stack.mail:
        lines += [
            f"  Mail:        caught at {stack.mail.url}; read it in {_shown(stack.mail.inbox)}/ (one file per mail)",
            f'               try "Forgot password?" with {DEMO_EMAIL}; or: mutt -f {_shown(stack.mail.directory)}',
        ]
    return "\n".join([*lines, ""])


def _shown(path: Path) -> str:
    """``path`` relative to the project when it is inside it (shorter to read in the banner)."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def procfile_command() -> list[str]:
    """honcho running the Procfile, with ``WORKER_PROCESSES`` worker processes (the settings say why)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "favsite.settings")
    from django.conf import settings

    workers = settings.WORKER_PROCESSES
    return [sys.executable, "-m", "honcho", "start", "-f", str(ROOT / "Procfile"), "-c", f"worker={workers}"]


def run_procfile(env: dict[str, str]) -> int:
    """Step 4: honcho in the foreground until it ends or we are told to stop; 0 after a requested stop.

    A stop request (``KeyboardInterrupt``, raised by ``_request_stop``) waits
    for honcho to stop every process, so none outlives ``make run``.
    """
    env = dict(env, PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    command = procfile_command()
    honcho = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        return honcho.wait()
    except KeyboardInterrupt:
        # honcho stops its processes on SIGTERM (SIGINT may be ignored when we
        # were started in the background, and a signal to make alone never reaches it).
        stop_process(honcho, timeout=30)
        return 0


def _request_stop(signum: int, frame: object) -> None:
    """The first SIGINT or SIGTERM stops the stack; later ones must not cut that short.

    A SIGTERM to make's process group arrives twice (once directly, once
    forwarded by make), and Ctrl-C pressed twice is common.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> int:
    # Tests run a second stack beside yours: its own var/ and XMPP port.
    var = Path(os.environ.get("DEVSTACK_VAR") or VAR)
    var.mkdir(exist_ok=True)
    try:
        stack = prepare(
            var,
            xmpp_port=int(os.environ.get("DEVSTACK_XMPP_PORT") or 5222),
            smtp_port=int(os.environ.get("DEVSTACK_SMTP_PORT") or 8025),
        )
    except StackError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    watch_parent_make()
    try:
        login = create_demo_login(stack, var)
        print(banner(stack, login), flush=True)
        return run_procfile(stack.env)
    except KeyboardInterrupt:
        return 0  # a requested stop is a clean end: make prints no error
    finally:
        stack.stop()
