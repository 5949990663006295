#!/usr/bin/env bash
# The source of an earlier release, for test/upgrade.test.ts: a migration begun by its workers
# must be finished by the current ones. Kept in the repository (test/previous-release.tar.gz,
# with the commit in test/previous-release.commit) so that the test needs no git history: a CI
# clone may be shallow.
#   bash scripts/previous-release.sh [COMMIT]   (default: the one recorded)
set -euo pipefail
cd "$(dirname "$0")/.."
commit=${1:-$(cat test/previous-release.commit)}
commit=$(git rev-parse "$commit^{commit}")
git archive --format=tar.gz -o test/previous-release.tar.gz "$commit" \
  package.json tsconfig.json bin client workflows activities worker scripts/bundle-workflows.js
echo "$commit" > test/previous-release.commit
echo "test/previous-release.tar.gz: $commit ($(du -h test/previous-release.tar.gz | cut -f1))"
