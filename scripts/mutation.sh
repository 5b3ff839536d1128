#!/usr/bin/env bash
# Mutation testing of the trust-critical code (remediator/TRUST.md) with gremlins:
# one small bug at a time is put into the code and the package's tests must fail.
#
#   scripts/mutation.sh [target...]   every target (or those named), full test suites
#                                     (MUTATION_FILES="a.go b.go": only those files)
#   scripts/mutation.sh --quick       the targets whose package changed since the
#                                     base (MUTATION_BASE, else the merge base with
#                                     main, else main's previous tip), or one sample
#                                     target when none did; slow tests skipped
#
# Targets, floors and known-equivalent mutants are in .mutation/ (see its README).
# Reports: .mutation/reports/<target>.{json,txt}. The gate (internal/mutationgate)
# fails when a target's kill rate is below its floor; MUTATION_RAISE=1 raises the
# floors to the rates reached.
set -euo pipefail
cd "$(dirname "$0")/.."

GREMLINS=${GREMLINS:-.tools/bin/gremlins}
# Two cores are shared: one mutant at a time, its tests on both.
WORKERS=${MUTATION_WORKERS:-1}
# A mutant's tests may take this many times the unmutated run before it is a timeout
# (an endless loop); generous because the machine is shared.
COEFFICIENT=${MUTATION_TIMEOUT_COEFFICIENT:-5}
# The quick run's wall-clock budget per target, in seconds, and for the whole quick
# run (a change to every target's tests must not make CI take four budgets).
BUDGET=${MUTATION_BUDGET:-600}
TOTAL=${MUTATION_TOTAL_BUDGET:-1200}
OUT=.mutation/reports

quick=0
if [[ ${1:-} == --quick ]]; then
  quick=1
  shift
fi
[[ -x $GREMLINS ]] || { echo "no gremlins at $GREMLINS: run make mutation-tools" >&2; exit 2; }

# name dir files-regexp skip-pattern, from .mutation/targets.
declare -A dir files skip only
names=()
while read -r n d f s; do
  [[ -z $n || $n == \#* ]] && continue
  names+=("$n"); dir[$n]=$d; files[$n]=$f; skip[$n]=$s
done < .mutation/targets

base() {
  if [[ -n ${MUTATION_BASE:-} ]]; then echo "$MUTATION_BASE"; return; fi
  local b
  b=$(git merge-base HEAD main 2>/dev/null || true)
  if [[ -z $b || $b == "$(git rev-parse HEAD)" ]]; then
    b=$(git rev-parse -q --verify HEAD^1 || true)
  fi
  echo "$b"
}

chosen=("$@")
if ((quick)) && ((${#chosen[@]} == 0)); then
  b=$(base)
  if [[ -n $b ]]; then
    changed=$(git diff --name-only "$b" HEAD --)
    for n in "${names[@]}"; do
      grep -q "^${dir[$n]}/[^/]*\.go$" <<<"$changed" || continue
      chosen+=("$n")
      # Only the changed files of the target are mutated (all of them when only its
      # tests changed): what fits the time box.
      only[$n]=$(grep "^${dir[$n]}/[^/]*\.go$" <<<"$changed" | grep -v '_test\.go$' | sed "s#^${dir[$n]}/##" || true)
    done
    echo "mutation: changed since ${b:0:12}: ${chosen[*]:-none}"
  fi
  if ((${#chosen[@]} == 0)); then
    # A sample chosen by the commit, so each commit checks one target and a rerun
    # checks the same one.
    h=$(git rev-parse HEAD)
    chosen=("${names[$((16#${h:0:7} % ${#names[@]}))]}")
    echo "mutation: no target changed; sample: ${chosen[*]}"
  fi
fi
((${#chosen[@]})) || chosen=("${names[@]}")
# MUTATION_FILES (by hand): mutate only these files of the chosen targets, for a
# target too slow to run whole in one sitting; each run replaces the target's report.
if [[ -n ${MUTATION_FILES:-} ]]; then
  for n in "${chosen[@]}"; do only[$n]=$(tr ' ' '\n' <<<"$MUTATION_FILES"); done
fi

mkdir -p "$OUT"
checked=()
for n in "${chosen[@]}"; do
  [[ -n ${dir[$n]:-} ]] || { echo "no target $n in .mutation/targets" >&2; exit 2; }
  # gremlins can only exclude files: exclude every Go file of the package (and of
  # any package below it) that the target does not name.
  args=()
  while read -r f; do
    rel=${f#"${dir[$n]}"/}
    if [[ $rel =~ ${files[$n]} && $rel != */* ]] && { [[ -z ${only[$n]:-} ]] || grep -qxF "$rel" <<<"${only[$n]}"; }; then
      continue
    fi
    args+=(-E "^${rel//./\\.}\$")
  done < <(find "${dir[$n]}" -name '*.go' ! -name '*_test.go' | sort)
  # -failfast: a mutant is killed by its first failing test; the rest of the suite
  # would only spend the time box (a surviving mutant still runs every test).
  goflags="${GOFLAGS:-} -failfast"
  if ((quick)) && [[ ${skip[$n]} != - ]]; then
    goflags="$goflags -skip=${skip[$n]}"
  fi
  rm -f "$OUT/$n.json"
  echo "==> mutation: $n (${dir[$n]}, files ${files[$n]}${only[$n]:+ only: ${only[$n]//$'\n'/ }}${goflags:+, GOFLAGS=$goflags})"
  start=$SECONDS
  limit=()
  if ((quick)); then
    left=$((TOTAL - SECONDS))
    if ((left < 60)); then
      echo "    NOT CHECKED: $n: MUTATION_TOTAL_BUDGET=${TOTAL}s spent"
      continue
    fi
    limit=(timeout --kill-after=30 "$((left < BUDGET ? left : BUDGET))")
  fi
  set +e
  GOFLAGS=$goflags "${limit[@]}" "$GREMLINS" unleash "./${dir[$n]}" "${args[@]}" \
    --workers "$WORKERS" --timeout-coefficient "$COEFFICIENT" \
    --invert-logical --invert-loopctrl -o "$OUT/$n.json" >"$OUT/$n.txt" 2>&1
  rc=$?
  set -e
  echo "    $((SECONDS - start))s, exit $rc"
  if ((rc == 124 || rc == 137)); then
    echo "    NOT CHECKED: $n did not finish within its budget (MUTATION_BUDGET=${BUDGET}s, MUTATION_TOTAL_BUDGET=${TOTAL}s; see $OUT/$n.txt)"
    continue
  fi
  if ((rc != 0)) || [[ ! -s $OUT/$n.json ]]; then
    tail -20 "$OUT/$n.txt" >&2
    echo "gremlins failed on $n" >&2
    exit 1
  fi
  checked+=("$n")
done

((${#checked[@]})) || { echo "mutation: no target finished: nothing checked"; exit 0; }
raise=()
[[ ${MUTATION_RAISE:-} == 1 ]] && raise=(-raise)
only=$(IFS=,; echo "${checked[*]}")
go run ./internal/mutationgate -reports "$OUT" -only "$only" "${raise[@]}"
