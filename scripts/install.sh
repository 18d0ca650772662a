#!/usr/bin/env bash
# Builds a release binary (static Swift runtime, stripped) and installs it with the systemd
# units, shell completions, the example configuration and templates, and the README.
#
#   scripts/install.sh                 # PREFIX=/usr/local (run as root)
#   scripts/install.sh /usr            # distribution layout
#   DESTDIR=/tmp/stage scripts/install.sh /usr    # staged install, for packaging
#   SKIP_BUILD=1 scripts/install.sh    # install the existing .build/release/secret-agent
#
# Layout under $DESTDIR$PREFIX:
#   bin/secret-agent
#   lib/systemd/system/secret-agent.service, secret-agent@.service
#   share/bash-completion/completions/secret-agent
#   share/zsh/site-functions/_secret-agent
#   share/fish/vendor_completions.d/secret-agent.fish
#   share/secret-agent/agent.yaml.example, share/secret-agent/templates/*.mustache
#   share/doc/secret-agent/README.md, share/doc/secret-agent/*.md (the docs/ reference)
#   share/man/man1/secret-agent.1
# The units' ExecStart and template paths are rewritten for PREFIX. Nothing is written to /etc
# and no service is enabled: the script prints the next steps.
set -euo pipefail

prefix=${1:-/usr/local}
destdir=${DESTDIR:-}
case "$prefix" in
    /*) ;;
    *) echo "install.sh: PREFIX must be an absolute path (got '$prefix')" >&2; exit 64 ;;
esac
prefix=${prefix%/}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# The release build as it ships (BENCHMARKS.md measures this one): scripts/release-flags.sh says
# what each flag is for.
mapfile -t release < <(scripts/release-flags.sh)
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "building the release binary (a few minutes)…"
    swift build "${release[@]}" --product secret-agent
fi
built=$(swift build "${release[@]}" --show-bin-path)/secret-agent
[ -x "$built" ] || { echo "install.sh: $built not found; run without SKIP_BUILD=1" >&2; exit 69; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$built" "$stage/secret-agent"
strip "$stage/secret-agent"

target=$destdir$prefix
install -d -m 0755 "$target/bin"
install -m 0755 "$stage/secret-agent" "$target/bin/secret-agent"

# systemd looks in /usr/lib/systemd/system and /usr/local/lib/systemd/system; for another PREFIX
# the units are installed alongside and must be linked into /etc/systemd/system.
unitdir=$target/lib/systemd/system
install -d -m 0755 "$unitdir"
for unit in secret-agent.service secret-agent@.service; do
    sed -e "s|/usr/local/bin/secret-agent|$prefix/bin/secret-agent|g" \
        -e "s|/usr/local/share/doc/secret-agent|$prefix/share/doc/secret-agent|g" \
        "systemd/$unit" > "$stage/$unit"
    install -m 0644 "$stage/$unit" "$unitdir/$unit"
done

# Completions come from the binary itself (swift-argument-parser).
install -d -m 0755 "$target/share/bash-completion/completions" "$target/share/zsh/site-functions" \
    "$target/share/fish/vendor_completions.d"
"$stage/secret-agent" --generate-completion-script bash > "$target/share/bash-completion/completions/secret-agent"
"$stage/secret-agent" --generate-completion-script zsh > "$target/share/zsh/site-functions/_secret-agent"
"$stage/secret-agent" --generate-completion-script fish > "$target/share/fish/vendor_completions.d/secret-agent.fish"

share=$target/share/secret-agent
install -d -m 0755 "$share/templates" "$target/share/doc/secret-agent"
sed "s|/usr/local/share/secret-agent|$prefix/share/secret-agent|g" examples/systemd/agent.yaml > "$stage/agent.yaml"
install -m 0644 "$stage/agent.yaml" "$share/agent.yaml.example"
install -m 0644 templates/*.mustache "$share/templates/"
install -m 0644 README.md "$target/share/doc/secret-agent/README.md"
# The reference (docs/, deploy pages included) and the man page, written from the command
# definitions of the binary just built (scripts/manpage.py).
(cd docs && find . -name '*.md' -print) | while read -r page; do
    install -D -m 0644 "docs/$page" "$target/share/doc/secret-agent/$page"
done
install -d -m 0755 "$target/share/man/man1"
python3 scripts/manpage.py "$stage/secret-agent" > "$stage/secret-agent.1"
install -m 0644 "$stage/secret-agent.1" "$target/share/man/man1/secret-agent.1"

echo "installed secret-agent $("$target/bin/secret-agent" --version) into $target"
case "$prefix" in
    /usr|/usr/local) ;;
    *) echo "note: systemd does not look in $unitdir; link the units:  systemctl link $prefix/lib/systemd/system/secret-agent.service" ;;
esac
if [ -z "$destdir" ]; then
    cat <<NEXT
next steps:
  install -d -m 0700 /etc/secret-agent
  install -m 0600 $prefix/share/secret-agent/agent.yaml.example /etc/secret-agent/agent.yaml   # then edit it
  secret-agent check --config /etc/secret-agent/agent.yaml
  systemctl daemon-reload && systemctl enable --now secret-agent
NEXT
fi
