#!/usr/bin/env bash
# Prints the terraform the demo uses: one >= 1.8 already on the PATH, else the pinned
# version built from source into .tools/bin (the only slow step of a first demo). Says
# which on standard error.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pinned="$root/.tools/bin/terraform"

if found=$(command -v terraform 2>/dev/null) && [ "$found" != "$pinned" ]; then
  v=$("$found" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([0-9][0-9]*\.[0-9][0-9]*\)[^"]*".*/\1/p' | head -n 1)
  major=${v%%.*} rest=${v#*.} minor=${rest%%.*}
  if [ -n "$v" ] && { [ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -ge 8 ]; }; }; then
    full=$("$found" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p' | head -n 1)
    echo "using terraform $full from the PATH ($found)" >&2
    echo "$found"
    exit 0
  fi
  if [ -n "$v" ]; then
    echo "terraform $v on the PATH ($found) is older than 1.8 (provider functions need 1.8)" >&2
  else
    echo "cannot read the version of the terraform on the PATH ($found)" >&2
  fi
fi
if [ ! -x "$pinned" ]; then
  echo "building terraform 1.8.5 from source into .tools/bin (about 3 minutes on 2 cores; once)" >&2
fi
make -s -C "$root" terraform >&2
echo "using terraform 1.8.5 from .tools/bin" >&2
echo "$pinned"
