#!/usr/bin/env bash
# ingest-vs-peers.sh: relcat ingest measured against Go's image/jpeg decode floor and against the
# peers' pipeline (sha256sum + exiftool -json -n + vipsthumbnail -s 320, which computes no
# perceptual hash), on photos it generates itself, in one run. See bench/README.md.
#
#   bench/ingest-vs-peers.sh [N12MP [N1600]]     (defaults 40 and 200)
#
# Needs: go, cjpeg (libjpeg-turbo-progs), GNU time (/usr/bin/time). Optional: exiftool,
# vipsthumbnail (libvips-tools), djpeg (for libjpeg-turbo's own decode times), pdq-photo-hasher
# (Meta's, if you built it and put it on PATH). Keep the machine otherwise idle.
set -euo pipefail
cd "$(dirname "$0")/.."
n12=${1:-40}
n16=${2:-200}
for t in go cjpeg /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "ingest-vs-peers: $t is required (cjpeg: apt-get install libjpeg-turbo-progs; time: apt-get install time)" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/relcat-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "work folder: $work"
go build -o "$work/relcat" ./cmd/relcat
go build -o "$work/genphotos" ./bench/genphotos
go build -o "$work/decodefloor" ./bench/decodefloor

# Photos: 4:2:0 and 4:2:2, baseline and progressive, quality 90, in turn.
modes=("-sample 2x2" "-sample 2x1" "-sample 2x2 -progressive" "-sample 2x1 -progressive")
gen() { # name w h n
  mkdir -p "$work/$1"
  for ((i = 0; i < $4; i++)); do
    # shellcheck disable=SC2086
    "$work/genphotos" -w "$2" -h "$3" -i "$i" | cjpeg -quality 90 ${modes[i % 4]} >"$work/$1/$(printf %04d "$i").jpg"
  done
  echo "generated $4 photos of $2x$3 in $work/$1 ($(du -sh "$work/$1" | cut -f1))"
}
gen 12MP 4000 3000 "$n12"
gen 1600px 1600 1200 "$n16"

# measure LABEL N CMD...: wall s, user+sys CPU s, peak RSS KiB of CMD (with its children).
declare -A wall cpu rss
measure() {
  local label=$1 n=$2
  shift 2
  if ! /usr/bin/time -o "$work/time" -f '%e %U %S %M' "$@" >/dev/null 2>"$work/err"; then
    # relcat ingest exits 3 when some files are stored without pixels: that is a failed run here.
    echo "$label failed:" >&2
    cat "$work/err" >&2
    return 1
  fi
  read -r w u s m <"$work/time"
  wall[$label]=$w
  cpu[$label]=$(echo "$u + $s" | bc -l)
  rss[$label]=$m
  printf '  %-26s %8.2f img/s %9.1f cpu-ms/img %8d MiB peak RSS\n' "$label" "$(echo "$n / $w" | bc -l)" "$(echo "1000 * (${cpu[$label]}) / $n" | bc -l)" "$((m / 1024))"
}
loop() { # run CMD on every file of a folder, one process per file
  local dir=$1
  shift
  for f in "$dir"/*.jpg; do "$@" "$f" >/dev/null; done
}
export -f loop

for set in 12MP 1600px; do
  n=$n12
  [ "$set" = 1600px ] && n=$n16
  dir="$work/$set"
  echo "== $set: $n photos"
  measure "$set/floor(image/jpeg)" "$n" "$work/decodefloor" "$dir"
  measure "$set/relcat-ingest" "$n" "$work/relcat" --catalog "$work/cat-$set" ingest --affiliate bench --released 2020-01-02 "$dir"
  measure "$set/relcat-reingest" "$n" "$work/relcat" --catalog "$work/cat-$set" ingest --affiliate bench --released 2020-01-03 "$dir"
  peers=()
  if command -v sha256sum >/dev/null; then
    measure "$set/sha256sum" "$n" sh -c "sha256sum '$dir'/*.jpg"
    peers+=("$set/sha256sum")
  fi
  if command -v exiftool >/dev/null; then
    measure "$set/exiftool" "$n" exiftool -json -n "$dir"
    peers+=("$set/exiftool")
  fi
  if command -v vipsthumbnail >/dev/null; then
    mkdir -p "$work/thumbs-$set"
    measure "$set/vipsthumbnail" "$n" sh -c "vipsthumbnail -s 320 -o '$work/thumbs-$set/%s.jpg' '$dir'/*.jpg"
    peers+=("$set/vipsthumbnail")
  fi
  if command -v pdq-photo-hasher >/dev/null; then
    measure "$set/pdq-photo-hasher" "$n" sh -c "pdq-photo-hasher '$dir'/*.jpg"
    peers+=("$set/pdq-photo-hasher")
  fi
  if command -v djpeg >/dev/null; then
    measure "$set/djpeg(full)" "$n" bash -c "loop '$dir' djpeg"
    measure "$set/djpeg-scale1/8" "$n" bash -c "loop '$dir' djpeg -scale 1/8"
  fi
  ing=${cpu[$set/relcat-ingest]}
  echo "  -- ratios (CPU per image; > 1 means relcat ingest is faster)"
  printf '  ingest vs image/jpeg floor:   %.2fx\n' "$(echo "${cpu[$set/floor(image/jpeg)]} / $ing" | bc -l)"
  printf '  re-ingest vs sha256sum:       %.2fx\n' "$(echo "${cpu[$set/sha256sum]:-0} / ${cpu[$set/relcat-reingest]}" | bc -l)"
  if [ ${#peers[@]} -gt 0 ]; then
    sum=0 wsum=0 maxrss=0
    for p in "${peers[@]}"; do
      sum=$(echo "$sum + ${cpu[$p]}" | bc -l)
      wsum=$(echo "$wsum + ${wall[$p]}" | bc -l)
      maxrss=$((rss[$p] > maxrss ? rss[$p] : maxrss))
    done
    printf '  peers (%s): %.1f cpu-ms/img, %.2f img/s, %d MiB peak RSS\n' "${peers[*]##*/}" "$(echo "1000 * $sum / $n" | bc -l)" "$(echo "$n / $wsum" | bc -l)" "$((maxrss / 1024))"
    printf '  ingest vs peers pipeline:     %.2fx (CPU), %.2fx (wall)\n' "$(echo "$sum / $ing" | bc -l)" "$(echo "$wsum / ${wall[$set/relcat-ingest]}" | bc -l)"
  fi
  if [ -n "${cpu[$set/djpeg-scale1/8]:-}" ]; then
    printf '  ingest vs djpeg -scale 1/8:   %.2fx   (djpeg full size: %.1f cpu-ms/img)\n' "$(echo "${cpu[$set/djpeg-scale1/8]} / $ing" | bc -l)" "$(echo "1000 * ${cpu[$set/djpeg(full)]} / $n" | bc -l)"
  fi
done
