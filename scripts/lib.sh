# Shared by the scripts in this folder. Source it; do not run it.
# shellcheck shell=bash

GANTRY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Runs a command as root (directly when already root, else through sudo).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The Python interpreter the tests and tools use: the first one on PATH that has boto3, else
# Debian's /usr/bin/python3 (scripts/install-deps gives it python3-boto3 when nothing else has boto3).
gantry_python() {
  local candidate
  for candidate in "$(command -v python3 || true)" /usr/bin/python3; do
    if [ -n "$candidate" ] && "$candidate" -c 'import boto3' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  echo "/usr/bin/python3"
}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
