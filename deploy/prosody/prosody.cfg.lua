-- Prosody for favsite under docker-compose. The domain comes from XMPP_DOMAIN.
-- Certificates for the domain go in deploy/certs (e.g. from Let's Encrypt):
-- <domain>.crt and <domain>.key.
local domain = os.getenv("XMPP_DOMAIN")

daemonize = false
pidfile = "/var/run/prosody/prosody.pid"
data_path = "/var/lib/prosody"
log = { info = "*console" }

admins = { }
modules_enabled = {
    "roster"; "saslauth"; "tls"; "dialback"; "disco"; "carbons"; "pep";
    "private"; "blocklist"; "vcard4"; "vcard_legacy"; "version"; "uptime";
    "time"; "ping"; "register"; "smacks"; "offline"; "mam";
}
allow_registration = false
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = false
authentication = "internal_hashed"
certificates = "/etc/prosody/certs"
-- Messages the bot receives while the gateway restarts are kept (mod_offline)
-- and an interrupted stream is resumable for ten minutes (mod_smacks).
smacks_hibernation_time = 600
-- The gateway acknowledges (XEP-0198) a message only once it is saved. When its
-- stream ends for good (it died and came back under its fixed resource, or the
-- hibernation ran out), mod_smacks hands the unacknowledged chat messages to
-- mod_offline, which delivers them again: keep both modules. mod_smacks keeps
-- only the newest smacks_max_queue_size unacknowledged stanzas (default 500),
-- so leave room for the gateway's backlog: the gateway's XMPP_MAX_UNACKED
-- (1000 by default) must stay below this.
smacks_max_queue_size = 25000
archive_expires_after = "1w"

VirtualHost (domain)
