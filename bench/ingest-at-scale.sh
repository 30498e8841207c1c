#!/bin/bash
# bench/ingest-at-scale.sh CATALOG PHOTOS [ROUNDS]
#
# Times 16-photo ingests into a copy of a large catalog (CATALOG: a catalog directory, e.g. one made
# by TestScaleCatalog and `relcat compact`) against the same ingests into an empty catalog, ROUNDS
# times each (default 2), interleaved. Run from the repository root; needs go and GNU time.
#
# The releases are made from the first 16 JPEGs of PHOTOS (a folder): release k holds them with k
# + 1 bytes appended to each file (a new SHA-256, the same pixels: every release recycles the earlier
# ones, as reposted sets do). In each round a side gets one copy of catalog.db (the empty side copies
# it aside, for the same page-cache churn), one warm-up ingest of one photo (the storage verdict
# remembered; near.idx and regions.idx written by this relcat, as a user's catalog has them), then
# RELEASES (default 12) releases in turn; the first is left out of the means (it meets what the copy
# left in the page cache). Prints each ingest's wall and CPU time (user + system) and the means.
set -euo pipefail
cat=$1 photos=$2 rounds=${3:-2} releases=${RELEASES:-12}
[ -f "$cat/catalog.db" ] || { echo "no catalog.db in $cat" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/relcat-ingest-at-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/relcat" ./cmd/relcat

mapfile -t files < <(find "$photos" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) | sort | head -16)
[ "${#files[@]}" -eq 16 ] || { echo "$photos holds ${#files[@]} JPEGs, 16 needed" >&2; exit 2; }
mkdir -p "$work/warm"
cp "${files[0]}" "$work/warm/"
printf '\x00' >> "$work/warm/$(basename "${files[0]}")"
for k in $(seq 1 "$releases"); do
	mkdir -p "$work/rel$k"
	for f in "${files[@]}"; do
		{ cat "$f"; head -c $((k + 1)) /dev/zero; } > "$work/rel$k/$(basename "$f")"
	done
	printf '{"affiliate": "scale-probe", "released": "2026-11-%02d"}\n' $((k % 28 + 1)) > "$work/rel$k/release.json"
done

# side TAG SRC: one round of one side (SRC: a catalog directory, or "empty").
side() {
	local tag=$1 src=$2 d="$work/cat" k
	rm -rf "$d" "$work/aside"
	mkdir -p "$d" "$work/aside"
	if [ "$src" = empty ]; then
		cp "$cat/catalog.db" "$work/aside/"
	else
		cp "$src/catalog.db" "$d/"
	fi
	"$work/relcat" --catalog "$d" ingest "$work/warm" --affiliate warm-up --released 2020-01-01 > /dev/null
	sync
	sleep 3
	for k in $(seq 1 "$releases"); do
		/usr/bin/time -f "$tag $k %e %U %S" -a -o "$work/times" "$work/relcat" --catalog "$d" ingest "$work/rel$k" > /dev/null
		tail -1 "$work/times"
	done
	rm -rf "$d" "$work/aside"
}

for r in $(seq 1 "$rounds"); do
	side empty empty
	side large "$cat"
done
awk '$2 > 1 { n[$1]++; w[$1] += $3; c[$1] += $4 + $5 }
END {
	for (t in n) printf "%-5s %d ingests: wall %.3f s, CPU %.3f s (means)\n", t, n[t], w[t] / n[t], c[t] / n[t]
	if (n["empty"] && n["large"])
		printf "a photo into the large catalog: %+.2f ms of wall time, %+.2f ms of CPU\n", (w["large"] / n["large"] - w["empty"] / n["empty"]) * 1000 / 16, (c["large"] / n["large"] - c["empty"] / n["empty"]) * 1000 / 16
}' "$work/times"
