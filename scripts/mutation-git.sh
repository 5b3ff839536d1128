#!/usr/bin/env bash
# The git that gremlins runs for --diff (scripts/mutation.sh puts it first on PATH as
# `git`). gremlins compares the paths `git diff` prints, from the repository's root,
# with its mutants' paths, from the package it was given, so no line of a package
# below the root would ever count as changed: run by gremlins in the module root,
# `git diff` prints its paths relative to that package instead. Every other git
# command, and any run elsewhere (the tests' own repositories), is git unchanged.
if [[ ${1:-} == diff && $PWD == "$MUTATION_GIT_ROOT" ]]; then
  exec "$MUTATION_GIT" diff --relative="$MUTATION_GIT_RELATIVE" "${@:2}"
fi
exec "$MUTATION_GIT" "$@"
