#!/usr/bin/env bash
# The hand-written listing encoder against the Codable path of the control messages, at
# a million entries, and the messages sent once per file (bench/swift/WireEncoding.swift).
# SoftcopyCore is compiled as a module of its own, as SwiftPM builds it: what the
# binaries call across that boundary is not specialized for them.
# Usage: bench/wire_encoding.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
swiftc -O -wmo -parse-as-library -module-name SoftcopyCore -emit-module -emit-module-path "$out/SoftcopyCore.swiftmodule" \
    -emit-library -static -o "$out/libSoftcopyCore.a" $(find Sources/SoftcopyCore -name '*.swift')
# Top-level code runs from a file named main.swift.
{ echo "import SoftcopyCore"; cat bench/swift/WireEncoding.swift; } > "$out/main.swift"
swiftc -O -I "$out" -L "$out" -lSoftcopyCore -module-name WireEncoding -o "$out/wire-encoding" "$out/main.swift"
"$out/wire-encoding" "${1:-1000000}"
