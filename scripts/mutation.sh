#!/usr/bin/env bash
# Mutation testing of the trust-critical code (remediator/TRUST.md) with gremlins:
# one small bug at a time is put into the code and the package's tests must fail.
#
#   scripts/mutation.sh [target...]   every target (or those named), full test suites
#                                     (MUTATION_FILES="a.go b.go": only those files)
#   scripts/mutation.sh --quick       the lines of the targets' files changed since
#                                     the base (MUTATION_BASE, else the merge base
#                                     with main, else main's previous tip); one
#                                     sampled file of a target whose tests alone
#                                     changed, or of one sampled target when none did
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

# ours NAME REL: whether REL (a path relative to the target's directory) is one of
# the files the target mutates: a Go file of the package itself, not a test, that
# its files-regexp names.
ours() {
  [[ $2 != */* && $2 == *.go && $2 != *_test.go && $2 =~ ${files[$1]} ]]
}

# sample NAME KEY: one file of a target's files, chosen by KEY (a hex string), so each
# commit checks a file that fits the time box and a rerun checks the same one.
sample() {
  local cand=() f rel
  while read -r f; do
    rel=${f#"${dir[$1]}"/}
    if ours "$1" "$rel"; then cand+=("$rel"); fi
  done < <(find "${dir[$1]}" -maxdepth 1 -name '*.go' | sort)
  if ((${#cand[@]})); then echo "${cand[$((16#$2 % ${#cand[@]}))]}"; fi
}

# A quick run mutates part of a target: the lines changed since the base (gremlins'
# --diff), or one sampled file. Only a full run can tell that a known-equivalent
# entry names no mutant any more, or raise a floor: the gate is told it is partial.
declare -A diffbase
partial=0
chosen=("$@")
if ((quick)) && ((${#chosen[@]} == 0)); then
  partial=1
  b=$(base)
  h=$(git rev-parse HEAD)
  if [[ -n $b ]]; then
    changed=$(git diff --name-only "$b" HEAD --)
    for n in "${names[@]}"; do
      mine=$(grep "^${dir[$n]}/[^/]*\.go$" <<<"$changed" || true)
      [[ -n $mine ]] || continue
      code=""
      while read -r f; do
        rel=${f#"${dir[$n]}"/}
        if ours "$n" "$rel"; then code+="$rel"$'\n'; fi
      done <<<"$mine"
      if [[ -n $code ]]; then
        # The changed lines of the changed files: what this commit could have broken.
        chosen+=("$n"); diffbase[$n]=$b; only[$n]=${code%$'\n'}
      elif grep -q '_test\.go$' <<<"$mine"; then
        # Only its tests changed: a weaker test shows on any file; one is sampled.
        chosen+=("$n"); only[$n]=$(sample "$n" "${h:7:7}")
      fi
    done
    echo "mutation: changed since ${b:0:12}: ${chosen[*]:-none}"
  fi
  if ((${#chosen[@]} == 0)); then
    n=${names[$((16#${h:0:7} % ${#names[@]}))]}
    chosen=("$n"); only[$n]=$(sample "$n" "${h:7:7}")
    echo "mutation: no target changed; sample: $n, ${only[$n]}"
  fi
fi
((${#chosen[@]})) || chosen=("${names[@]}")
# MUTATION_FILES (by hand): mutate only these files of the chosen targets, for a
# target too slow to run whole in one sitting; each run replaces the target's report.
if [[ -n ${MUTATION_FILES:-} ]]; then
  partial=1
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
    if ours "$n" "$rel" && { [[ -z ${only[$n]:-} ]] || grep -qxF "$rel" <<<"${only[$n]}"; }; then
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
  echo "==> mutation: $n (${dir[$n]}, files ${files[$n]}${only[$n]:+ only: ${only[$n]//$'\n'/ }}${diffbase[$n]:+, the lines changed since ${diffbase[$n]:0:12}}${goflags:+, GOFLAGS=$goflags})"
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
  env=()
  if [[ -n ${diffbase[$n]:-} ]]; then
    args+=(--diff "${diffbase[$n]}")
    # gremlins' paths are the package's, git diff's the repository's: see mutation-git.sh.
    shim=$(mktemp -d)
    ln -s "$PWD/scripts/mutation-git.sh" "$shim/git"
    env=(PATH="$shim:$PATH" MUTATION_GIT="$(command -v git)" MUTATION_GIT_ROOT="$PWD" MUTATION_GIT_RELATIVE="${dir[$n]}")
  fi
  env "${env[@]}" GOFLAGS="$goflags" "${limit[@]}" "$GREMLINS" unleash "./${dir[$n]}" "${args[@]}" \
    --workers "$WORKERS" --timeout-coefficient "$COEFFICIENT" \
    --invert-logical --invert-loopctrl -o "$OUT/$n.json" >"$OUT/$n.txt" 2>&1
  rc=$?
  set -e
  [[ -n ${shim:-} ]] && rm -rf "$shim" && shim=""
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
((partial)) && raise+=(-partial)
only=$(IFS=,; echo "${checked[*]}")
go run ./internal/mutationgate -reports "$OUT" -only "$only" "${raise[@]}"
