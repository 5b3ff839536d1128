#!/usr/bin/env bash
# make demo: publish the demo catalog with the provider, exactly as a user would
# (terraform init from a local provider mirror, apply, plan, test), then validate
# it with the remediator. Everything lives in .demo/ and nothing leaves the machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
demo="$root/.demo"
version=0.1.0
platform="$(go env GOOS)_$(go env GOARCH)"
terraform=$("$root/scripts/demo-terraform.sh")

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

rm -rf "$demo"
mkdir -p "$demo"

step "Building terraform-provider-remediation $version and remediator (a minute or two on a new machine, while Go fetches the modules)"
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

step "SSH keys: the remediator's own (it signs its commits), two reviewers' (they sign approvals), CI's (it signs check reports)"
rm -rf "$demo/keys"
mkdir -p "$demo/keys"
for who in remediator sam dana ci; do
  ssh-keygen -q -t ed25519 -N "" -C "$who (demo)" -f "$demo/keys/$who"
done
{
  echo "# principal  key: who may approve, and with which key"
  echo "sam@example.com namespaces=\"remediation-approval\" $(cat "$demo/keys/sam.pub")"
  echo "dana@example.com namespaces=\"remediation-approval\" $(cat "$demo/keys/dana.pub")"
  echo "ci@example.com namespaces=\"remediation-check\" $(cat "$demo/keys/ci.pub")"
  echo "remediator@localhost $(cat "$demo/keys/remediator.pub")"
} > "$demo/allowed_signers"
cat "$demo/allowed_signers"
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

step "the proposal commit is signed by the remediator: git itself checks it"
git -C "$demo/infra.git" -c gpg.ssh.allowedSignersFile="$demo/allowed_signers" verify-commit "$branch" 2>&1

step "remediator approve: Sam signs an approval of the proposal's head commit with his SSH key (a git note)"
"$demo/remediator" approve --config "$demo/remediator.yaml" --id "$id" --key "$demo/keys/sam"
git -C "$demo/infra.git" notes --ref=remediation-approvals show "$branch"

step "remediator reconcile again: one approval, but not from the team production requires"
"$demo/remediator" reconcile --config "$demo/remediator.yaml" 2>/dev/null

# ---------------------------------------------------------------------------
# The whole loop with real monitoring: a real alert fires, Alertmanager posts it to
# remediator serve, a reviewer approves, serve merges, the metric recovers, the alert
# resolves, and serve records the outcome as a git note on the merge commit.
step "The whole loop: Prometheus, Alertmanager and remediator serve on 127.0.0.1"
free_port() { # a port nothing listens on, from a range the demo owns
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port from $1" >&2; exit 1
}
exporter_addr=127.0.0.1:$(free_port 19100)
am_addr=127.0.0.1:$(free_port 19300)
prom_addr=127.0.0.1:$(free_port 19500)
serve_addr=127.0.0.1:$(free_port 19700)
mon="$demo/monitoring"
mkdir -p "$mon" "$demo/logs"
cp "$root/examples/demo/monitoring/rules.yml" "$mon/rules.yml"
sed "s|REMEDIATOR_ADDR|$serve_addr|" "$root/examples/demo/monitoring/alertmanager.yml" > "$mon/alertmanager.yml"
sed -e "s|EXPORTER_ADDR|$exporter_addr|" -e "s|ALERTMANAGER_ADDR|$am_addr|" -e "s|RULES|$mon/rules.yml|" \
  "$root/examples/demo/monitoring/prometheus.yml" > "$mon/prometheus.yml"
sed -e "s|^listen: .*|listen: $serve_addr|" "$demo/remediator.yaml" > "$demo/serve.yaml"
printf 'alertmanager:\n  url: http://%s\nprometheus:\n  url: http://%s\n' "$am_addr" "$prom_addr" >> "$demo/serve.yaml"
(cd "$root" && go build -o "$demo/latency-exporter" ./examples/demo/latency-exporter)

pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_all EXIT
"$demo/latency-exporter" -listen "$exporter_addr" -value 0.82 -labels service=api-search,cluster=stg1,env=staging \
  >"$demo/logs/exporter.log" 2>&1 & pids+=($!)
prometheus-alertmanager --config.file="$mon/alertmanager.yml" --storage.path="$mon/am" \
  --web.listen-address="$am_addr" --cluster.listen-address= >"$demo/logs/alertmanager.log" 2>&1 & pids+=($!)
prometheus --config.file="$mon/prometheus.yml" --storage.tsdb.path="$mon/prom" \
  --web.listen-address="$prom_addr" >"$demo/logs/prometheus.log" 2>&1 & pids+=($!)
(cd "$demo" && exec ./remediator serve --config serve.yaml --reconcile-interval 2s) >"$demo/logs/serve.log" 2>&1 & pids+=($!)
echo "demo service http://$exporter_addr/metrics  (demo_latency_seconds = 0.82 for api-search in staging)"
echo "Prometheus   http://$prom_addr  (alert HighLatency: demo_latency_seconds > 0.5)"
echo "Alertmanager http://$am_addr  (posts to remediator serve)"
echo "remediator   http://$serve_addr  (logs: $demo/logs/serve.log)"

# wait_for DESCRIPTION SECONDS COMMAND...: polls until COMMAND succeeds.
wait_for() {
  local what=$1 limit=$2 i
  shift 2
  printf '... waiting for %s' "$what"
  for ((i = 0; i < limit * 2; i++)); do
    if "$@" >/dev/null 2>&1; then printf ' (%ss)\n' $((i / 2)); return; fi
    sleep 0.5
  done
  printf '\n%s did not happen within %ss; the logs are in %s\n' "$what" "$limit" "$demo/logs" >&2
  tail -n 20 "$demo/logs/serve.log" >&2
  exit 1
}
loop_branch() { git -C "$demo/infra.git" for-each-ref --format='%(refname:short)' 'refs/heads/remediation/scale-out-api-*' | grep -v "^$branch$"; }
wait_for "the alert to fire and become a proposal" 90 loop_branch
loop=$(loop_branch)
loop_id=${loop#remediation/}
echo "branch: $loop"
git -C "$demo/infra.git" diff main "$loop" -- envs

step "remediator route: staging needs one approval until the runbook has earned auto-merge"
"$demo/remediator" route --config "$demo/remediator.yaml" \
  --labels alertname=HighLatency,service=api-search,cluster=stg1,env=staging --value 0.82

step "remediator approve: Dana approves; serve's next pass merges it"
"$demo/remediator" approve --config "$demo/remediator.yaml" --id "$loop_id" --key "$demo/keys/dana"
merge_of() { git -C "$demo/infra.git" log --merges --format=%H --grep="Remediation-Id: $loop_id" main | head -n 1 | grep .; }
wait_for "serve to merge it" 30 merge_of
merge=$(merge_of)
git -C "$demo/infra.git" log -1 --format='%n%B' "$merge"

step "CI applies the merge commit and reports it: remediator applied (verification starts only now)"
"$demo/remediator" applied --config "$demo/remediator.yaml" --sha "$merge" --key "$demo/keys/ci"

step "The remediation works: latency drops to 0.2s, the alert resolves and stays resolved for the 10s soak, serve verifies"
curl_set() { (exec 3<>"/dev/tcp/${exporter_addr%:*}/${exporter_addr#*:}" && printf 'POST /set?value=%s HTTP/1.0\r\nHost: demo\r\n\r\n' "$1" >&3 && cat <&3 >/dev/null); }
curl_set 0.2
outcome() { git -C "$demo/infra.git" notes --ref=remediation show "$merge" | grep -q '^outcome: verified'; }
wait_for "the outcome note" 120 outcome
echo "git notes --ref=remediation show ${merge:0:12}:"
git -C "$demo/infra.git" notes --ref=remediation show "$merge"

step "The status page serve shows at / (and its JSON at /api/v1/status)"
page_shows() { (exec 3<>"/dev/tcp/${serve_addr%:*}/${serve_addr#*:}" && printf 'GET / HTTP/1.0\r\nHost: demo\r\n\r\n' >&3 && cat <&3) | grep -q "Recent outcomes"; }
wait_for "the status page" 30 page_shows
echo "status page: http://$serve_addr/ (remediation $loop_id: http://$serve_addr/remediations/$loop_id)"
stop_all
trap - EXIT

step "remediator audit: the ledger, rebuilt from Git alone"
"$demo/remediator" audit --repository "$demo/infra.git"
"$demo/remediator" audit verify --repository "$demo/infra.git" --config "$demo/remediator.yaml"

step "remediator status: what is in flight and why it waits, runbook records, the queue (read only)"
"$demo/remediator" status --config "$demo/remediator.yaml"

commits=$(git -C "$demo/catalog.git" rev-list --count main)
cat <<MSG

Done. The provider published 3 runbooks and 2 policies to $demo/catalog.git
in $commits commit(s), a plan showed no drift, the routing tests passed, and the
remediator validated the catalog. An Alertmanager alert became the proposal branch
$branch on $demo/infra.git (local forge), with the edit,
its artifact and trailers; the repeat alert was counted, not proposed again, and
production's gates kept it waiting for an approval from its platform/sre team.
Then the whole loop with real Prometheus and Alertmanager: the HighLatency alert of
api-search became $loop, Dana approved it, remediator serve merged it
with its trailers and Approved-by, CI reported it applied, the latency recovered, the
alert resolved and stayed resolved for the soak period, and the outcome note on the
merge says verified. The audit rebuilt all of it from Git. While serve ran, its
status page was at http://$serve_addr/; \`remediator status\` shows the same above.
MSG
