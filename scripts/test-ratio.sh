#!/usr/bin/env bash
# The engine's test/code ratio (issue 10 asks for at least 0.8).
#
#   test lines: items under #[cfg(test)] in client/src (the `mod tests { … }` at the end of a file,
#               or a whole file pulled in by `#[cfg(test)] mod name;`), the storage conformance
#               suite (client/src/conformance.rs), and everything in client/tests/;
#   code lines: every other line of client/src, the test helpers for front ends
#               (client/src/testing.rs) included.
#
# Lines are non-blank lines (comments and doc comments count on both sides); a second figure
# leaves out comment-only lines. Usage: scripts/test-ratio.sh [--min 0.8] (exits 1 below the
# minimum, if one is given).
set -euo pipefail
cd "$(dirname "$0")/.."

min=""
if [[ "${1:-}" == "--min" ]]; then
  min="${2:?--min needs a number}"
fi

# Prints "test_lines code_lines test_code_only code_code_only" for one file of client/src:
# lines inside #[cfg(test)] items are test lines, the rest code lines. A `#[cfg(test)] mod x;`
# writes its module's name to fd 3, for the caller to count that file as a test file.
split_file() {
  awk '
    function comment(line) { return line ~ /^[ \t]*\/\// }
    function count(is_test,   c) {
      c = comment($0)
      if (is_test) { t++; if (!c) tc++ } else { k++; if (!c) kc++ }
    }
    /^[ \t]*$/ { next }
    block { count(1); if ($0 ~ /^}[ \t]*$/) block = 0; next }
    /^#\[cfg\(test\)\][ \t]*$/ { pending = 1; count(1); next }
    pending && /^#\[/ { count(1); next }
    pending {
      pending = 0
      count(1)
      if ($0 ~ /^(pub(\([a-z]+\))? )?mod [A-Za-z0-9_]+;/) {
        name = $0; sub(/^.*mod /, "", name); sub(/;.*$/, "", name)
        print name > "/dev/fd/3"
      } else if ($0 ~ /\{[ \t]*$/) {
        block = 1
      }
      next
    }
    { count(0) }
    END { printf "%d %d %d %d\n", t, k, tc, kc }
  ' "$1"
}

# Non-blank lines, and non-blank lines that are not only a comment.
lines_of() {
  awk '/^[ \t]*$/ { next } { n++ } !/^[ \t]*\/\// { m++ } END { printf "%d %d\n", n, m }' "$@"
}

test_lines=0 code_lines=0 test_nc=0 code_nc=0
sources=$(find client/src -name '*.rs' | sort)

# First pass: the files that are test modules (`#[cfg(test)] mod x;`), and the conformance suite.
test_files=(client/src/conformance.rs)
for file in $sources; do
  dir=$(dirname "$file")
  stem=$(basename "$file" .rs)
  while IFS= read -r m; do
    [[ -z "$m" ]] && continue
    case "$stem" in
      lib | main | mod) test_files+=("$dir/$m.rs") ;;
      *) test_files+=("$dir/$stem/$m.rs") ;;
    esac
  done < <(split_file "$file" 3>&1 >/dev/null)
done
is_test_file() {
  local f
  for f in "${test_files[@]}"; do [[ "$f" == "$1" ]] && return 0; done
  return 1
}

# Second pass: count.
for file in $sources; do
  is_test_file "$file" && continue
  read -r t k tc kc < <(split_file "$file" 3>/dev/null)
  test_lines=$((test_lines + t)) code_lines=$((code_lines + k))
  test_nc=$((test_nc + tc)) code_nc=$((code_nc + kc))
done
for f in "${test_files[@]}"; do
  [[ -f "$f" ]] || continue
  read -r n m < <(lines_of "$f")
  test_lines=$((test_lines + n)) test_nc=$((test_nc + m))
done
if [[ -d client/tests ]]; then
  while IFS= read -r f; do
    read -r n m < <(lines_of "$f")
    test_lines=$((test_lines + n)) test_nc=$((test_nc + m))
  done < <(find client/tests -name '*.rs' | sort)
fi

ratio=$(awk -v t="$test_lines" -v k="$code_lines" 'BEGIN { printf "%.2f", (k ? t / k : 0) }')
ratio_nc=$(awk -v t="$test_nc" -v k="$code_nc" 'BEGIN { printf "%.2f", (k ? t / k : 0) }')
echo "client/: test lines $test_lines, code lines $code_lines: test/code $ratio (non-blank lines)"
echo "client/: test lines $test_nc, code lines $code_nc: test/code $ratio_nc (without comment-only lines)"
if [[ -n "$min" ]] && awk -v r="$ratio" -v m="$min" 'BEGIN { exit !(r < m) }'; then
  echo "below the minimum of $min" >&2
  exit 1
fi
