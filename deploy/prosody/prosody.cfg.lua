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
-- mod_mam archives every chat message with an id (XEP-0313, XEP-0359): the
-- gateway catches up from its archive after a restart (XMPP_CATCH_UP_HOURS,
-- within the archive's lifetime) and recognises a message delivered twice by
-- that id. Keep mod_mam, mod_offline and mod_smacks.
archive_expires_after = "1w"
-- The internal store rewrites a whole archive each time one outgrows its limit
-- (10,000 by default); a busy bot's would, every hundred messages.
storage_archive_item_limit = 1000000
-- Only accounts that ask for it (the bot does, at every login) have an archive.
default_archive_policy = false

VirtualHost (domain)
