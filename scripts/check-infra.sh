#!/usr/bin/env bash
# Bicep build + lint of every entry file under infra/, zero warnings allowed.
#   scripts/check-infra.sh               restore the Bicep CLI if needed, then build and lint
#   scripts/check-infra.sh --bicep-path  restore the Bicep CLI if needed and print its path (used by tests/Infra.Tests)
# The CLI comes from NuGet (Azure.Bicep.CommandLine.linux-x64, restored by tools/BicepCli/BicepCli.csproj),
# so it works with only the NuGet registry reachable. Exits non-zero on any error or warning.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

package=azure.bicep.commandline.linux-x64
version=0.49.2   # keep in step with tools/BicepCli/BicepCli.csproj

packages_root() {
  dotnet nuget locals global-packages --list | sed -E 's/^global-packages: *//' | tr -d '\r'
}

bicep_path() {
  local dir
  dir="$(packages_root)"
  local cli="${dir%/}/$package/$version/tools/bicep"
  if [ ! -f "$cli" ]; then
    echo "== restoring the Bicep CLI $version from NuGet" >&2
    dotnet restore tools/BicepCli/BicepCli.csproj -nologo -v quiet >&2
  fi
  [ -f "$cli" ] || { echo "Bicep CLI not found at $cli after restore" >&2; exit 1; }
  [ -x "$cli" ] || chmod +x "$cli"
  printf '%s\n' "$cli"
}

if [ "${1:-}" = "--bicep-path" ]; then
  bicep_path
  exit 0
fi

bicep="$(bicep_path)"
echo "Bicep CLI: $("$bicep" --version) ($bicep)"

# What is checked: every template and module under infra/ (each on its own, so an unused module is checked
# too) and every .bicepparam file. --pattern runs each step in one CLI process (start-up is most of the cost).
mapfile -t templates < <(find infra -name '*.bicep' -type f | sort)
mapfile -t paramfiles < <(find infra -name '*.bicepparam' -type f | sort)
[ "${#templates[@]}" -gt 0 ] || { echo "no .bicep files under infra/" >&2; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
problems=0

run() {  # run <step> <command...>: a step fails on a non-zero exit or on any diagnostic it prints
  local step="$1"; shift
  local rc=0
  "$@" >"$out/stdout" 2>"$out/stderr" || rc=$?
  # Diagnostics look like "path(line,col) : Warning rule: message" / "... : Error BCP...". bicep exits 0 on
  # warnings, so any diagnostic line or any stderr output counts.
  if [ "$rc" -ne 0 ] || [ -s "$out/stderr" ] || grep -qE '\) : (Error|Warning|Info) ' "$out/stdout"; then
    problems=$((problems + 1))
    echo "FAIL $step (exit $rc)"
    cat "$out/stderr"
    grep -E '\) : (Error|Warning|Info) ' "$out/stdout" || true
  else
    echo "ok   $step"
  fi
}

run "bicep lint  infra/**/*.bicep" "$bicep" lint --pattern 'infra/**/*.bicep'
run "bicep build infra/**/*.bicep" "$bicep" build --pattern 'infra/**/*.bicep' --outdir "$out/arm"
if [ "${#paramfiles[@]}" -gt 0 ]; then
  run "bicep lint  infra/**/*.bicepparam" "$bicep" lint --pattern 'infra/**/*.bicepparam'
  run "bicep build-params infra/**/*.bicepparam" "$bicep" build-params --pattern 'infra/**/*.bicepparam' --outdir "$out/params"
fi

echo "checked with bicep $version, zero warnings allowed:"
printf '  %s\n' "${templates[@]}" "${paramfiles[@]}"
if [ "$problems" -ne 0 ]; then
  echo "Bicep check FAILED: $problems step(s) with errors or warnings" >&2
  exit 1
fi
echo "Bicep check clean: no errors, no warnings"
