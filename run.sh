#!/usr/bin/env bash
# The run command: the whole product on this machine (Azurite, the Vipps MobilePay simulator, the Function App as the
# real isolated worker under the local Functions host, webhook registrations, a demo machine). Ctrl+C stops it all.
#   ./run.sh [--instances N] [--runner-port 7072] [--simulator-port 7071] [--azurite-port 10000] [--payment-expiry-seconds N]
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ ! -x node_modules/.bin/azurite ]; then
  echo "== npm ci (Azurite)"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "== building"
dotnet build tools/DevStack -c Release -nologo -clp:ErrorsOnly -v:q
exec dotnet tools/DevStack/bin/Release/net10.0/DevStack.dll "$@"
