#!/usr/bin/env bash
# Installs what Herald needs to build, test and run, on Debian 12 as root. Idempotent: installs
# only what is missing, so a second run takes a second.
set -euo pipefail

# systemd (for systemd-analyze) and prometheus (for promtool) only validate deploy/ in the tests.
packages=(rabbitmq-server librabbitmq-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev pkg-config
          curl nginx-light wrk systemd prometheus)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "herald: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Debian's packages try to start their services; without systemd that fails harmlessly,
    # and Herald starts its own broker anyway.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        export PATH=/opt/swift/usr/bin:$PATH
    else
        echo "herald: Swift 6 is required (expected at /opt/swift or on PATH)" >&2
        exit 1
    fi
fi
