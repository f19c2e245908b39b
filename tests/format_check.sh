#!/bin/sh
# Fails, listing the files, when a C++ source of the tree is not formatted as .clang-format says.
# Fix with: clang-format -i $(git ls-files '*.cpp' '*.h')
set -eu
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "clang-format is not installed (samples/install-deps.sh installs it)"; exit 1; }
bad=""
for f in $(find core sdk plugins samples tests -name '*.cpp' -o -name '*.h' | sort); do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
if [ -n "$bad" ]; then
    echo "not formatted (clang-format -i FILE):"
    for f in $bad; do echo "  $f"; done
    exit 1
fi
echo "every C++ file is formatted"
