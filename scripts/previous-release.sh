#!/usr/bin/env bash
# The source of an earlier release, for test/upgrade.test.ts: a migration begun by its workers
# must be finished by the current ones. Kept in the repository (test/fixtures/previous-release.tar.gz,
# with the commit in test/fixtures/previous-release.commit) so that the test needs no git history: a CI
# clone may be shallow.
#   bash scripts/previous-release.sh [COMMIT]   (default: the one recorded)
set -euo pipefail
cd "$(dirname "$0")/.."
commit=${1:-$(cat test/fixtures/previous-release.commit)}
commit=$(git rev-parse "$commit^{commit}")
# The paths a release is built from (model/ came later: only those the commit has).
paths=()
for p in package.json tsconfig.json bin client model workflows activities worker scripts/bundle-workflows.js; do
  git cat-file -e "$commit:$p" 2>/dev/null && paths+=("$p")
done
git archive --format=tar.gz -o test/fixtures/previous-release.tar.gz "$commit" "${paths[@]}"
echo "$commit" > test/fixtures/previous-release.commit
echo "test/fixtures/previous-release.tar.gz: $commit ($(du -h test/fixtures/previous-release.tar.gz | cut -f1))"
