#!/usr/bin/env bash
# Runs every test of the solution in Release. First makes sure what the tests need is on the machine:
# PostgreSQL server binaries (the cluster-mode tests start a real server) and Chromium (the browser
# tests); as root it installs what is missing with apt-get, otherwise it says what to install.
# Prints a closing line "N passed, N failed, N skipped"; exits non-zero when anything failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK (dotnet) is required" >&2
  exit 1
fi

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
[[ -x /usr/bin/prometheus ]] || missing+=(prometheus)
if (( ${#missing[@]} > 0 )); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]}…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || { echo "error: could not install ${missing[*]} with apt-get" >&2; exit 1; }
  else
    echo "error: the tests need ${missing[*]}: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# PostgreSQL refuses to run as root; the test fixture runs it as the postgres user.
if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# One test project at a time (-m:1): the process, browser and PostgreSQL suites each load both cores, and two
# of them at once made waits time out on a 2-core machine. The build before them is the one parallel step.
dotnet build Handoff.Orleans.sln -c Release -nologo -v quiet -clp:ErrorsOnly 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if (( status == 0 )); then
  dotnet test Handoff.Orleans.sln -c Release --no-build -m:1 "$@" 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
fi

# dotnet test prints one summary per test project; add them up into one closing line.
awk '
  /(Passed|Failed)! +- +Failed:/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:")  { f += $(i+1) }
      if ($i == "Passed:")  { p += $(i+1) }
      if ($i == "Skipped:") { s += $(i+1) }
    }
    found = 1
  }
  END { if (found) printf "%d passed, %d failed, %d skipped\n", p, f, s }
' "$log"
exit "$status"
