package catalog

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relcat/relcat/catalog/media"
)

const (
	hexA = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	hexB = "0401b7c6ecbe049eb532597c17f6feae8a01943d2540ee441d85558481cb992d"
	md5A = "62100c38bc2936236f42e5c5a3bc04d5"
)

func TestParseHashListFormats(t *testing.T) {
	for _, tc := range []struct {
		name, format, data string
		want               []ListEntry
	}{
		{"pdq-list", FormatPDQList, "# comment\npdq " + hexA + "\n\nPDQ " + strings.ToUpper(hexB) + " extra words\n",
			[]ListEntry{{Kind: KindPDQ, Hash: hexA, Line: 2}, {Kind: KindPDQ, Hash: hexB, Label: "extra words", Line: 4}}},
		{"pdq-csv", FormatPDQCSV, hexA + ",100,a/b.jpg\r\n" + hexB + ",45,\"c, d.jpg\"\n",
			[]ListEntry{{Kind: KindPDQ, Hash: hexA, Quality: 100, HasQ: true, Label: "a/b.jpg", Line: 1}, {Kind: KindPDQ, Hash: hexB, Quality: 45, HasQ: true, Label: "c, d.jpg", Line: 2}}},
		{"tat-json", FormatTATJSON, "[\n {\"hash_digest\": \"" + hexA + "\", \"algorithm\": \"PDQ\", \"file_type\": \"jpg\", \"created_on\": \"2024-01-01\", \"id\": 7},\n {\"hash_digest\": \"" + md5A + "\", \"algorithm\": \"MD5\", \"id\": \"x\"}\n]",
			[]ListEntry{{Kind: KindPDQ, Hash: hexA, Label: "7", Line: 2}, {Kind: KindMD5, Hash: md5A, Label: "x", Line: 3}}},
		{"hma-csv", FormatHMACSV, "signal_type,signal_str,collab,category,tags\npdq," + hexA + ",bank,terror,\"a,b\"\nmd5," + md5A + ",bank,,\n",
			[]ListEntry{{Kind: KindPDQ, Hash: hexA, Label: "bank terror a,b", Line: 2}, {Kind: KindMD5, Hash: md5A, Label: "bank", Line: 3}}},
		{"plain", FormatPlain, hexB + "\nmd5:" + strings.ToUpper(md5A) + "\n  sha256:" + hexA + "  \n",
			[]ListEntry{{Kind: KindSHA256, Hash: hexB, Line: 1}, {Kind: KindMD5, Hash: md5A, Line: 2}, {Kind: KindSHA256, Hash: hexA, Line: 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, format, err := ParseHashList([]byte(tc.data), FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			if format != tc.format {
				t.Errorf("detected %s, want %s", format, tc.format)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("entry %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
			// The explicit format reads the same.
			again, _, err := ParseHashList([]byte(tc.data), tc.format)
			if err != nil || len(again) != len(got) {
				t.Errorf("--format %s: %d entries, %v", tc.format, len(again), err)
			}
		})
	}
}

func TestParseHashListRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, format, data string
		want               []string // substrings of the error
	}{
		{"bad lines named", FormatAuto, "pdq " + hexA + "\npdq xyz\npdq " + hexB + "\nfoo " + hexA + "\n", []string{"2 bad lines", "line 2:", "line 4:", "nothing imported"}},
		{"pdq-csv quality", FormatAuto, hexA + ",100,a\n" + hexB + ",101,b\n" + hexB + ",x\n", []string{"line 2: quality", "line 3: quality"}},
		{"pdq-csv fields", FormatPDQCSV, hexA + "\n", []string{"line 1: want hex,quality,name"}},
		{"hma header", FormatHMACSV, "signal,str\npdq," + hexA + ",a,b,c\n", []string{"line 1: want the header"}},
		{"hma type", FormatAuto, "signal_type,signal_str,collab,category,tags\nurl,http://x,a,b,c\n", []string{"line 2: signal type \"url\""}},
		{"plain mixed junk", FormatAuto, hexA + "\n" + hexA[:40] + "\n", []string{"line 2: want a SHA-256"}},
		{"tat no digest", FormatAuto, "[{\"algorithm\":\"PDQ\"},\n{\"hash_digest\":\"" + hexA + "\",\"algorithm\":\"SHA1\"}]", []string{"line 1: an object without", "line 2: algorithm \"SHA1\""}},
		{"tat broken", FormatAuto, "[{\"hash_digest\":\"" + hexA + "\",\"algorithm\":\"PDQ\"},\n{\"hash_digest\": 12", []string{"line 2: not a JSON object"}},
		{"tat trailing", FormatTATJSON, "[]\n[]", []string{"data after the end"}},
		{"empty", FormatAuto, " \n\n", []string{"empty"}},
		{"only comments", FormatAuto, "# a\n# b\n", []string{"no hash"}},
		{"empty array", FormatTATJSON, "[]", []string{"holds no hash"}},
		{"undetectable", FormatAuto, "hello world\n", []string{"cannot tell the format", "--format"}},
		{"long line", FormatPlain, hexA + "\n" + strings.Repeat("a", MaxHashListLine+10) + "\n", []string{"line 2: longer than"}},
		{"unknown format", "xml", hexA, []string{"list format \"xml\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := ParseHashList([]byte(tc.data), tc.format)
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			if got != nil {
				t.Errorf("entries returned with an error: %+v", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// Many bad lines: the first 20 are quoted, the rest counted.
	var b strings.Builder
	for range 30 {
		b.WriteString("pdq nothex\n")
	}
	_, _, err := ParseHashList([]byte(b.String()), FormatPDQList)
	var le *ListError
	if !errors.As(err, &le) || len(le.Lines) != maxListErrors || le.More != 10 || !strings.Contains(err.Error(), "and 10 more") {
		t.Errorf("30 bad lines: %v", err)
	}
	if !errors.Is(err, ErrHashList) {
		t.Error("not ErrHashList")
	}
}

// Each hash-list export is read back by relcat's own importer; the list's hits are exactly the
// exported images; a bad list or a taken name leaves the catalog untouched; import and rm are logged.
func TestWatchlistRoundTrip(t *testing.T) {
	c := openTest(t)
	ingestSamples(t, c)
	var all []SHA256
	_ = c.Export(t.Context(), Selection{}, func(r ExportRow) error { all = append(all, r.Image.SHA256); return nil })
	for _, f := range []string{FormatPDQList, FormatPDQCSV, FormatTATJSON, FormatHMACSV} {
		out, st := exportAll(t, c, Selection{}, ExportWriterOptions{Format: f})
		w, err := c.ImportWatchlist("l-"+f, "list."+f, out, WatchImportOptions{Operator: "t"})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if w.Format != f || w.Entries() != st.Written {
			t.Errorf("%s: read back as %s with %d hashes, exported %d", f, w.Format, w.Entries(), st.Written)
		}
		var hit []SHA256
		err = c.WatchlistHits(t.Context(), "l-"+f, MatchOptions{}, func(h WatchlistImageHit) error {
			hit = append(hit, h.SHA256)
			for _, x := range h.Hits {
				if x.List != "l-"+f {
					t.Errorf("%s: hit of another list %+v", f, x)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Every image hits its own hash (low-quality ones only by exact hash: tat-json).
		if len(hit) < len(all)-2 || len(hit) > len(all) {
			t.Errorf("%s: %d of %d images hit", f, len(hit), len(all))
		}
	}
	before := dumpState(t, c, true)
	if _, err := c.ImportWatchlist("l-pdq-list", "again", []byte("pdq "+hexA+"\n"), WatchImportOptions{}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second import under a taken name: %v", err)
	}
	if _, err := c.ImportWatchlist("bad", "bad.txt", []byte("pdq "+hexA+"\npdq zz\n"), WatchImportOptions{}); err == nil || !strings.Contains(err.Error(), "bad.txt") || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad list: %v", err)
	}
	if _, err := c.ImportWatchlist("Bad Name", "x", []byte(hexA), WatchImportOptions{}); !errors.Is(err, ErrBadArgument) {
		t.Errorf("bad name: %v", err)
	}
	if after := dumpState(t, c, true); after != before {
		t.Error("a refused import changed the catalog")
	}
	if err := c.RemoveWatchlist("l-hma-csv", "t", "test"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveWatchlist("l-hma-csv", "t", "test"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second rm: %v", err)
	}
	ws, _ := c.Watchlists()
	if len(ws) != 3 {
		t.Errorf("%d watchlists left, want 3", len(ws))
	}
	var actions []string
	_ = c.Log(func(e LogEntry) bool { actions = append(actions, e.Action); return true })
	log := strings.Join(actions, " ")
	if strings.Count(log, "watchlist-import") != 4 || strings.Count(log, "watchlist-rm") != 1 {
		t.Errorf("log: %s", log)
	}
}

// A file hits a PDQ list through a mirror (the transform is named) and an MD5 list exactly; a
// file unrelated to the list does not hit.
func TestWatchlistMatchTransformsAndExact(t *testing.T) {
	c := openTest(t)
	dirs := sampleDirs(t)
	files, _ := filepath.Glob(filepath.Join(dirs[0], "*.jpg"))
	if len(files) < 2 {
		t.Fatal("no sample jpgs")
	}
	orig, err := HashFile(t.Context(), files[0], HashOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	other, err := HashFile(t.Context(), files[1], HashOptions{Reference: true})
	if err != nil {
		t.Fatal(err)
	}
	list := "pdq " + orig.PDQ.Hash.String() + "\n"
	if _, err := c.ImportWatchlist("pdqs", "l", []byte(list), WatchImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImportWatchlist("md5s", "m", []byte(other.MD5.String()+"\n"), WatchImportOptions{}); err != nil {
		t.Fatal(err)
	}
	// A mirrored copy of the listed image.
	data, _ := os.ReadFile(files[0])
	img, _, err := media.Decode(data, media.Sniff(data), DefaultMaxPixels)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			m.Set(b.Dx()-1-x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	mirrored := filepath.Join(t.TempDir(), "mirrored.png")
	writeFile(t, mirrored, buf.Bytes())
	h, err := HashFile(t.Context(), mirrored, HashOptions{Reference: true})
	if err != nil {
		t.Fatal(err)
	}
	hits, err := c.WatchlistMatch(WatchSubject{SHA256: h.SHA256, MD5: h.MD5, PDQ: h.PDQRef}, MatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].List != "pdqs" || hits[0].Transform != "flipy" || hits[0].Distance > 8 || hits[0].Variant != "pdq-full" {
		t.Fatalf("mirrored copy: hits %+v, want one flipy hit of pdqs", hits)
	}
	t.Logf("mirrored: %s", hits[0].Describe())
	hits, err = c.WatchlistMatch(WatchSubject{SHA256: other.SHA256, MD5: other.MD5, PDQ: other.PDQRef}, MatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].List != "md5s" || hits[0].Kind != KindMD5 || hits[0].Describe() != "exact md5" {
		t.Errorf("other file: hits %+v, want the md5 list only", hits)
	}
}
