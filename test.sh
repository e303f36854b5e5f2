#!/usr/bin/env bash
# The test command: everything a fresh clone needs, then every test suite.
#   ./test.sh            all suites
# Prints one closing line "Tests: N passed, N failed" summing every suite.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

fail=0
passed=0
failed=0
logdir=$(mktemp -d)

# The browser tests drive Debian's Chromium at /usr/bin/chromium. Install it where we can (root with apt-get, as CI
# is); otherwise stop now with what to install, rather than fail the browser tests after a long build.
if [ -d tests/browser ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || {
      echo "test.sh: apt-get could not install chromium; install Chromium at /usr/bin/chromium and run again"; exit 1; }
  else
    echo "test.sh: the browser tests need Chromium at /usr/bin/chromium: install it (Debian/Ubuntu: sudo apt-get install chromium) and run again"
    exit 1
  fi
fi

if [ ! -x node_modules/.bin/azurite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci (Azurite, playwright-core)"
  npm ci --no-audit --no-fund --loglevel=error || exit 1
fi

if [ -x scripts/check-infra.sh ]; then
  echo "== Bicep build and lint"
  scripts/check-infra.sh || fail=1
fi

echo "== dotnet build"
dotnet build VendingFunctions.sln -c Release -nologo -clp:ErrorsOnly || exit 1

echo "== dotnet test"
dotnet test VendingFunctions.sln -c Release --no-build -nologo 2>&1 | tee "$logdir/dotnet.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
# "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, Duration: ..." per test assembly
read -r p f < <(grep -E '^(Passed|Failed)! +- Failed: ' "$logdir/dotnet.log" |
  sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+).*/\2 \1/' | awk '{p+=$1; f+=$2} END {print p+0, f+0}')
passed=$((passed + p)); failed=$((failed + f))

if [ -d tests/browser ] && ls tests/browser/*.test.mjs >/dev/null 2>&1; then
  echo "== browser tests (headless Chromium)"
  node --test --test-reporter=spec tests/browser/ 2>&1 | tee "$logdir/browser.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
  bp=$(grep -E '^ℹ pass [0-9]+' "$logdir/browser.log" | awk '{print $3}' | tail -1)
  bf=$(grep -E '^ℹ fail [0-9]+' "$logdir/browser.log" | awk '{print $3}' | tail -1)
  passed=$((passed + ${bp:-0})); failed=$((failed + ${bf:-0}))
fi

[ "$fail" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo
echo "Tests: $passed passed, $failed failed"
exit $fail
