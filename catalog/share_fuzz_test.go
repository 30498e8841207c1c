package catalog

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseHashList: any bytes in any format give entries or an error, never a panic; accepted
// entries are well formed and carry the line they came from.
//
//	go test ./catalog -run '^$' -fuzz FuzzParseHashList -fuzztime 60s
func FuzzParseHashList(f *testing.F) {
	for _, s := range []string{
		"pdq " + hexA + "\n# c\npdq " + hexB + " label\n",
		hexA + ",100,a.jpg\n" + hexB + ",7,\"b,c\"\n",
		"[{\"hash_digest\":\"" + hexA + "\",\"algorithm\":\"PDQ\",\"id\":1,\"pdq_quality\":90},{\"hash_digest\":\"" + md5A + "\",\"algorithm\":\"MD5\"}]",
		"{\"hash_digest\":\"" + hexA + "\",\"algorithm\":\"SHA256\"}\n{\"hash_digest\":\"" + md5A + "\",\"algorithm\":\"MD5\"}\n",
		"signal_type,signal_str,collab,category,tags\npdq," + hexA + ",c,d,\"e,f\"\n",
		hexB + "\nmd5:" + md5A + "\n",
		"[", "pdq", "\ufeff" + hexA, "[{\"hash_digest\":1}]", "signal_type,\n\"unterminated",
	} {
		for _, format := range []string{FormatAuto, FormatPDQList, FormatTATJSON} {
			f.Add([]byte(s), format)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, format string) {
		entries, _, err := ParseHashList(data, format)
		if err != nil {
			if entries != nil {
				t.Fatal("entries with an error")
			}
			return
		}
		if len(entries) == 0 {
			t.Fatal("no entries and no error")
		}
		for _, e := range entries {
			want := map[string]int{KindSHA256: 64, KindMD5: 32, KindPDQ: 64}[e.Kind]
			if want == 0 || !isHex(e.Hash, want) || e.Hash != strings.ToLower(e.Hash) || e.Line < 1 || len(e.Label) > maxLabel {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}

// FuzzBundleReader: the first pass of a bundle import over any bytes refuses or accepts, never
// panics, and what it accepts is consistent (every sighting's image is carried). Seeded with a real
// bundle of one small image and a few broken ones.
//
//	go test ./catalog -run '^$' -fuzz FuzzBundleReader -fuzztime 60s
func FuzzBundleReader(f *testing.F) {
	c, err := Open(f.TempDir(), Options{Version: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	// A small bundle (one 24x16 PNG, no original) keeps the fuzzer's inputs small.
	dir := filepath.Join(f.TempDir(), "2020-01-01-x")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	m := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 7)
	}
	var pb bytes.Buffer
	_ = png.Encode(&pb, m)
	if err := os.WriteFile(filepath.Join(dir, "a.png"), pb.Bytes(), 0o644); err != nil {
		f.Fatal(err)
	}
	if _, err := c.Ingest(context.Background(), []string{dir}, IngestOptions{NoCopy: true, Release: ReleaseInfo{Affiliate: "x", Released: "2020-01-01"}}); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := c.ExportBundle(context.Background(), &buf, Selection{}, BundleExportOptions{}); err != nil {
		f.Fatal(err)
	}
	c.Close()
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()/2])
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0}, 1024))
	f.Fuzz(func(t *testing.T, data []byte) {
		cb, err := checkBundleReader(context.Background(), bytes.NewReader(data), int64(len(data)), 1<<30)
		if err != nil {
			if cb != nil {
				t.Fatal("a result with an error")
			}
			return
		}
		for _, b := range cb.batches {
			for _, s := range b.Sightings {
				if cb.images[s.SHA256] == nil {
					t.Fatalf("accepted a sighting of %s without its image", s.SHA256)
				}
			}
		}
	})
}
