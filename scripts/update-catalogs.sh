#!/usr/bin/env bash
# Re-extract messages.pot from the code and merge it into the sq and en catalogs.
# Then translate the new or changed entries in locales/sq/LC_MESSAGES/messages.po (no fuzzy left).
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel extract -F babel.cfg --no-location --sort-output --ignore-dirs ".* ._ fakeapi" \
  --project "PACT Civic Bot" --version 0.1 --msgid-bugs-address "" -o locales/messages.pot .
pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching \
  --ignore-obsolete
