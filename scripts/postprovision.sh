#!/usr/bin/env sh
# After `azd provision` / `azd deploy` (azure.yaml hooks), or by hand: checks that every Key Vault reference of the
# Function App resolved, nudges the app when one failed for a reason that time fixes, and says what to do otherwise.
#
# Why: the platform may resolve the references before the identity's Key Vault role is effective; the app then sees
# the literal "@Microsoft.KeyVault(...)" text and the platform retries only about once a day. The app refuses to
# start with an unresolved Vipps credential (options validation names it) and /api/health lists unresolved names.
#
# Needs: az (logged in), and AZURE_RESOURCE_GROUP and SERVICE_API_NAME (azd sets both from the deployment outputs).
#   scripts/postprovision.sh              check, nudge, wait up to POSTPROVISION_TIMEOUT_SECONDS (default 300)
# Exit codes: 0 every reference resolved, or only secrets that do not exist yet (e.g. a webhook secret before the
# webhook is registered: printed with the command that sets it); 1 a reference still fails for another reason.
set -eu

group="${AZURE_RESOURCE_GROUP:?AZURE_RESOURCE_GROUP is not set (azd sets it; by hand: export it)}"
app="${SERVICE_API_NAME:?SERVICE_API_NAME is not set (azd sets it; by hand: export it)}"
timeout="${POSTPROVISION_TIMEOUT_SECONDS:-300}"
command -v az >/dev/null 2>&1 || { echo "postprovision: az (Azure CLI) is required" >&2; exit 1; }

site_id="$(az functionapp show -g "$group" -n "$app" --query id -o tsv)"

# name<TAB>status<TAB>details of every Key Vault reference (the platform's own view of each one).
references() {
  az rest --method get \
    --url "${site_id}/config/configreferences/appsettings?api-version=2024-11-01" \
    --query "value[].[name, properties.status, properties.details]" -o tsv
}

deadline=$(( $(date +%s) + timeout ))
nudged=no
while :; do
  pending="" missing="" failed=""
  # shellcheck disable=SC2034
  while IFS="$(printf '\t')" read -r name status details; do
    [ -n "$name" ] || continue
    case "$status" in
      Resolved) ;;
      SecretNotFound|SecretVersionNotFound) missing="$missing $name" ;;
      Initialized|"") pending="$pending $name" ;;
      *) failed="$failed $name($status)" ;;
    esac
  done <<EOF_REFS
$(references)
EOF_REFS

  if [ -z "$pending$failed" ]; then
    break
  fi

  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "postprovision: Key Vault references still not resolved after ${timeout}s:${failed}${pending}" >&2
    echo "  check the app identity's Key Vault Secrets User role on the vault, the vault's network access, then run this again" >&2
    exit 1
  fi

  if [ "$nudged" = no ] && [ -n "$failed" ]; then
    # Role assignments take minutes to become effective. Any configuration change makes the platform resolve the
    # references again (a restart alone may keep the cached failure); this setting goes away on the next provision.
    echo "postprovision: unresolved:${failed}; asking the app to resolve its references again"
    az functionapp config appsettings set -g "$group" -n "$app" \
      --settings "KEYVAULT_REFERENCES_REFRESHED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)" -o none
    nudged=yes
  fi
  sleep 15
done

if [ -n "$missing" ]; then
  echo "postprovision: these settings point at Key Vault secrets that do not exist yet:${missing}"
  echo "  set each with: az keyvault secret set --vault-name \"\$AZURE_KEY_VAULT_NAME\" --name <secret> --value <value>"
  echo "  then: az functionapp restart -g $group -n $app (docs/deploy.md, 'Secrets and rotation')"
fi
echo "postprovision: Key Vault references checked for $app"
