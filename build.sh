#!/usr/bin/env bash
# Parley's two commands:
#   ./build.sh run    run Parley on http://localhost:5080 (SQLite under ./data, demo brand on)
#   ./build.sh test   install what the tests need when missing (postgresql, nodejs, chromium, npm packages),
#                     build everything, run every test
# dotnet build of the server also builds the messenger widget (src/Parley.Widget) and the agent
# workspace and admin console (src/Parley.Workspace, served at /app/) with npm.
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
}

# The widget and the workspace are TypeScript built with npm; the interop and browser tests run on node too.
ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "==> installing nodejs and npm"
    apt_install nodejs npm
  fi
}

ensure_prerequisites() {
  ensure_node
  # The PostgreSQL tests start their own throwaway server from the Debian binaries.
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "==> installing postgresql (server binaries for the throwaway test servers)"
    apt_install postgresql
  fi
  # Browser checks drive Debian's Chromium with playwright-core.
  if [ ! -x /usr/bin/chromium ]; then
    echo "==> installing chromium (browser tests)"
    apt_install chromium
  fi
  echo "==> npm ci (src/Parley.Client, tests/interop, tests/browser)"
  npm ci --prefix src/Parley.Client --no-audit --no-fund --silent
  npm ci --prefix tests/interop --no-audit --no-fund --silent
  npm ci --prefix tests/browser --no-audit --no-fund --silent
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    # PostgreSQL refuses to run as root; the tests run it as 'postgres'.
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
}

run_tests() {
  ensure_prerequisites
  echo "==> building"
  dotnet build Parley.slnx -c Release -nologo -v quiet
  cat src/Parley.Widget/dist/size.txt
  echo "==> testing"
  local log; log=$(mktemp)
  set +e
  echo "==> client unit tests and frame drift check (vitest)"
  (cd src/Parley.Client && NO_COLOR=1 npx vitest run) 2>&1 | tee "$log"
  local client_status=${PIPESTATUS[0]}
  echo "==> widget unit tests (vitest)"
  (cd src/Parley.Widget && NO_COLOR=1 npx vitest run) 2>&1 | tee -a "$log"
  local widget_status=${PIPESTATUS[0]}
  echo "==> workspace unit tests (vitest)"
  (cd src/Parley.Workspace && NO_COLOR=1 npx vitest run) 2>&1 | tee -a "$log"
  local workspace_status=${PIPESTATUS[0]}
  dotnet test Parley.slnx -c Release --no-build -nologo --blame-hang-timeout 5m 2>&1 | tee -a "$log"
  local status=${PIPESTATUS[0]}
  set -e
  # One closing line for CI: the sum over every test assembly and the client's, widget's and workspace's unit tests.
  awk '/(Passed|Failed)!/ {
         for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1) }
       }
       /^ +Tests +[0-9]/ {
         for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i }
       }
       END { gsub(",", "", f); printf "%d passed, %d failed\n", p, f }' "$log"
  rm -f "$log"
  [ "$client_status" = 0 ] || return "$client_status"
  [ "$widget_status" = 0 ] || return "$widget_status"
  [ "$workspace_status" = 0 ] || return "$workspace_status"
  return "$status"
}

case "${1:-}" in
  # dotnet run starts the app in the project folder; pin the database to ./data of the checkout.
  # dotnet run builds without a word first (npm ci and the widget's and workspace's builds included); say so.
  run) shift; ensure_node
    echo "==> building Parley (the first build takes about a minute), then starting it in the Development environment; data in ./data"
    exec dotnet run --project src/Parley.Server -- --Parley:Storage:Sqlite:Path="$PWD/data/parley.db" "$@" ;;
  test) run_tests ;;
  # A self-contained linux-x64 build with the widget and the workspace embedded: what the Dockerfile copies and systemd runs.
  publish) ensure_node; exec dotnet publish src/Parley.Server -c Release -r linux-x64 --self-contained -o artifacts/parley-linux-x64 ;;
  *) echo "usage: ./build.sh run | test | publish" >&2; exit 2 ;;
esac
