#!/usr/bin/env bash
# The hand-written listing encoder against the Codable path of the control messages, at
# a million entries (bench/swift/WireEncoding.swift). Usage: bench/wire_encoding.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Top-level code runs from a file named main.swift.
cp bench/swift/WireEncoding.swift "$out/main.swift"
swiftc -O -wmo -module-name WireEncoding -o "$out/wire-encoding" $(find Sources/SoftcopyCore -name '*.swift') "$out/main.swift"
"$out/wire-encoding" "${1:-1000000}"
