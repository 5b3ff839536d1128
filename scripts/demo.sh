#!/usr/bin/env bash
# make demo: publish the demo catalog with the provider, exactly as a user would
# (terraform init from a local provider mirror, apply, plan, test), then validate
# it with the remediator. Everything lives in .demo/ and nothing leaves the machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools/bin"
demo="$root/.demo"
version=0.1.0
platform="$(go env GOOS)_$(go env GOARCH)"
terraform="$tools/terraform"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

rm -rf "$demo"
mkdir -p "$demo"

step "Building terraform-provider-remediation $version and remediator"
mirror="$demo/plugins/registry.terraform.io/gitops-remediation/remediation/$version/$platform"
mkdir -p "$mirror"
(cd "$root" && go build -ldflags "-X main.version=$version" -o "$mirror/terraform-provider-remediation_v$version" .)
(cd "$root" && go build -ldflags "-X main.version=$version" -o "$demo/remediator" ./cmd/remediator)

# Terraform installs the provider from the local mirror, as from a registry.
cat > "$demo/terraformrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$demo/plugins"
    include = ["registry.terraform.io/gitops-remediation/remediation"]
  }
  direct {
    exclude = ["registry.terraform.io/gitops-remediation/remediation"]
  }
}
RC
export TF_CLI_CONFIG_FILE="$demo/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

step "Creating an empty catalog repository: $demo/catalog.git"
git init -q --bare --initial-branch=main "$demo/catalog.git"

step "terraform apply: publishing examples/demo/catalog"
cp -r "$root/examples/demo/catalog" "$demo/work"
cd "$demo/work"
"$terraform" init -input=false -no-color >/dev/null
"$terraform" apply -auto-approve -input=false -no-color -var "catalog_repository=$demo/catalog.git" | grep -E '^(remediation_|Apply complete)'

step "What the catalog repository now holds"
git -C "$demo/catalog.git" log --format='%h %an: %s' main
git -C "$demo/catalog.git" ls-tree -r --name-only main
step "catalog/runbooks/scale-out-api.yaml"
git -C "$demo/catalog.git" show main:catalog/runbooks/scale-out-api.yaml

step "terraform plan right after apply: no changes expected"
"$terraform" plan -input=false -no-color -detailed-exitcode -var "catalog_repository=$demo/catalog.git" | tail -n 3

step "terraform test: routing tests of the catalog (examples/demo/catalog/tests)"
rm -rf "$demo/catalog-test.git"
git init -q --bare --initial-branch=main "$demo/catalog-test.git"
"$terraform" test -no-color -var "catalog_repository=$demo/catalog-test.git"

step "remediator catalog validate --repository $demo/catalog.git"
"$demo/remediator" catalog validate --repository "$demo/catalog.git"

step "Creating the demo infrastructure repository from examples/demo/infra: $demo/infra.git"
git init -q --bare --initial-branch=main "$demo/infra.git"
infra_work="$demo/infra-work"
cp -r "$root/examples/demo/infra" "$infra_work"
git -C "$infra_work" init -q --initial-branch=main
git -C "$infra_work" add -A
git -C "$infra_work" -c user.name="Platform Team" -c user.email=platform@example.com commit -qm "infrastructure: api-gateway in eu1, emails workers"
git -C "$infra_work" push -q "$demo/infra.git" main
cp "$root/examples/demo/remediator.yaml" "$demo/remediator.yaml"
alert="$root/examples/demo/alert-high-latency.json"

step "remediator route: what would happen to HighLatency on api-gateway (value 0.82)"
"$demo/remediator" route --config "$demo/remediator.yaml" \
  --labels alertname=HighLatency,service=api-gateway,cluster=eu1,env=prod --value 0.82

step "remediator propose --dry-run: the diff, nothing pushed"
"$demo/remediator" propose --config "$demo/remediator.yaml" --anomaly "$alert" --dry-run 2>/dev/null

step "remediator propose: the Alertmanager alert becomes a proposal branch"
"$demo/remediator" propose --config "$demo/remediator.yaml" --anomaly "$alert" --output json
branch=$(git -C "$demo/infra.git" for-each-ref --format='%(refname:short)' refs/heads/remediation/)
echo "branch: $branch"
git -C "$demo/infra.git" log -1 --format='%n%B' "$branch"
git -C "$demo/infra.git" diff main "$branch" -- envs
step "the artifact: .remediations/${branch#remediation/}.yaml"
git -C "$demo/infra.git" show "$branch:.remediations/${branch#remediation/}.yaml"

step "the same alert again: no second proposal, the recurrence is counted in Git"
"$demo/remediator" propose --config "$demo/remediator.yaml" --anomaly "$alert" 2>/dev/null
git -C "$demo/infra.git" notes --ref=remediation-recurrences show "$branch"

id=${branch#remediation/}
step "remediator reconcile: nothing merges without its approvals"
"$demo/remediator" reconcile --config "$demo/remediator.yaml" 2>/dev/null

step "remediator approve: an approval bound to the proposal's head commit (a git note)"
"$demo/remediator" approve --config "$demo/remediator.yaml" --id "$id" --reviewer "Dana SRE" --email dana@example.com
git -C "$demo/infra.git" notes --ref=remediation-approvals show "$branch"

step "remediator reconcile again: it merges only when every gate passes"
reconciled=$("$demo/remediator" reconcile --config "$demo/remediator.yaml" 2>/dev/null)
echo "$reconciled"
if [[ $reconciled == merged:* ]]; then
  git -C "$demo/infra.git" log -1 --format='%n%B' main
  merged="An approval bound to the head commit let reconcile merge it with the trailers and
Approved-by, and the audit rebuilt the ledger from Git."
else
  merged="The approval is recorded, and reconcile kept the proposal waiting for the reason
it printed above (the demo's production policy asks for the platform/sre team, whose membership
this remediator does not check yet, and merges only in Berlin office hours)."
fi

step "remediator audit: the ledger, rebuilt from Git alone"
"$demo/remediator" audit --repository "$demo/infra.git"
"$demo/remediator" audit verify --repository "$demo/infra.git" || true

commits=$(git -C "$demo/catalog.git" rev-list --count main)
cat <<MSG

Done. The provider published 3 runbooks and 2 policies to $demo/catalog.git
in $commits commit(s), a plan showed no drift, the routing tests passed, and the
remediator validated the catalog. An Alertmanager alert became the proposal branch
$branch on $demo/infra.git (local forge), with the edit,
its artifact and trailers; the repeat alert was counted, not proposed again.
$merged
Not in this demo: verification after the merge needs Alertmanager and Prometheus
(alertmanager.url, prometheus.url; the end-to-end tests run both), so the ledger shows
the outcome as pending; and the GitHub lifecycle, which is not built yet.
MSG
