#!/usr/bin/env bash
# The kit's source promise (Sources/PluginAPI/ABI.md): no public API of StelltronPluginKit is
# removed or changed against the baseline commit named in Sources/PluginAPI/API-BASELINE.
# `swift package diagnose-api-breaking-changes` wants the package at the root of a git repository,
# and the kit is a sub-package: so the baseline and the current kit become two commits of a
# scratch repository, and the tool compares them.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=$(tr -d '[:space:]' < Sources/PluginAPI/API-BASELINE)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git archive "$baseline" Sources/PluginAPI | tar -x -C "$scratch" --strip-components=2
git -C "$scratch" init -q
git -C "$scratch" -c user.name=ci -c user.email=ci@localhost add -A
git -C "$scratch" -c user.name=ci -c user.email=ci@localhost commit -qm baseline
git -C "$scratch" tag baseline
find "$scratch" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
(cd Sources/PluginAPI && tar --exclude=.build -cf - .) | tar -x -C "$scratch"
git -C "$scratch" -c user.name=ci -c user.email=ci@localhost add -A
git -C "$scratch" -c user.name=ci -c user.email=ci@localhost commit -qm current --allow-empty
cd "$scratch"
swift package diagnose-api-breaking-changes baseline --products StelltronPluginKit
