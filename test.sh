#!/usr/bin/env bash
# Runs every test of the solution in Release, after making sure what the tests need is installed.
# Prints a closing line "N passed, N failed, N skipped"; exits non-zero when anything failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK (dotnet) is required: https://dot.net" >&2
  exit 1
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
dotnet test Handoff.Orleans.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

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
