#!/bin/sh
# Creates the bot account (XMPP_JID / XMPP_PASSWORD) if missing, then runs Prosody.
set -eu
config=/etc/prosody/favsite/prosody.cfg.lua
user="${XMPP_JID%@*}"
host="${XMPP_JID#*@}"
prosodyctl --config "$config" register "$user" "$host" "$XMPP_PASSWORD"
exec prosody --config "$config" -F
