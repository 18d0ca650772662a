#!/bin/sh
# A stand-in application: prints its configuration at start and again on every SIGHUP
# (what nginx, HAProxy or a Go service do on reload). Never print real secrets like this.
conf=${APP_CONF:-/dev/shm/secret-agent-rotation/db.conf}
show() { echo "app[$$]: $1: $(cat "$conf")"; }
trap 'show reloaded' HUP
trap 'echo "app[$$]: stopping"; exit 0' TERM INT
show started
while :; do sleep 1 & wait $!; done
