package catalog

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/relcat/relcat/catalog/pdq"

	bolt "go.etcd.io/bbolt"
)

// exportAll runs one export of selection s in format and returns its bytes and stats.
func exportAll(t *testing.T, c *Catalog, s Selection, o ExportWriterOptions) ([]byte, ExportStats) {
	t.Helper()
	var buf bytes.Buffer
	ew, err := NewExportWriter(&buf, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Export(t.Context(), s, ew.Write); err != nil {
		t.Fatal(err)
	}
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), ew.Stats
}

func TestCSVCellNeutralisesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+1+1":                     "'+1+1",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\t=1":                     "'\t=1",
		"\r=1":                     "'\\x0d=1",
		"a\x1b[31mred":             "a\\x1b[31mred",
		"evil\u202etxt.jpg":        "evil\\u202etxt.jpg",
		"bad\xffutf8":              "bad\\xffutf8",
		"two\nlines":               "two\nlines",
		"plain, \"quoted\"":        "plain, \"quoted\"",
		"":                         "",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
	// RFC 4180 quoting round-trips through encoding/csv.
	var buf bytes.Buffer
	w := &ExportWriter{csv: csv.NewWriter(&buf)}
	cells := []string{"a,b", "say \"hi\"", "two\nlines", "=1"}
	if err := w.csvRow(cells); err != nil {
		t.Fatal(err)
	}
	w.csv.Flush()
	rec, err := csv.NewReader(&buf).Read()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rec, "|") != "a,b|say \"hi\"|two\nlines|'=1" {
		t.Errorf("csv round trip: %q", rec)
	}
}

func TestExportFormats(t *testing.T) {
	c := openTest(t)
	sums := ingestSamples(t, c)
	// A release whose file name and affiliate start like formulas.
	evil := filepath.Join(t.TempDir(), "evil")
	src, err := os.ReadFile(filepath.Join(sampleDirs(t)[0], sums[filepath.Base(sampleDirs(t)[0])].Files[0].Name))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(evil, "=HYPERLINK(\"http:x\").jpg"), append(src, 0)) // a new image: the bytes differ
	if _, err := c.Ingest(t.Context(), []string{evil}, IngestOptions{Release: ReleaseInfo{Affiliate: "evil", Released: "2021-01-01"}}); err != nil {
		t.Fatal(err)
	}
	var images []*ImageDetail
	if err := c.Export(t.Context(), Selection{}, func(r ExportRow) error {
		d, err := c.Image(r.Image.SHA256)
		images = append(images, d)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	n := len(images)
	if n < 30 {
		t.Fatalf("%d images", n)
	}

	// json: one line per image, every sighting, the shared PDQ is the reference variant.
	out, st := exportAll(t, c, Selection{}, ExportWriterOptions{Format: FormatJSON})
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != n || st.Images != n || st.Written != n {
		t.Fatalf("json: %d lines, stats %+v, want %d", len(lines), st, n)
	}
	for i, l := range lines {
		var j struct {
			SHA256     SHA256   `json:"sha256"`
			PDQ        pdq.Hash `json:"pdq"`
			PDQVariant string   `json:"pdq_variant"`
			PDQWork    struct {
				Variant string `json:"variant"`
			} `json:"pdq_work"`
			Sightings []json.RawMessage `json:"sightings"`
		}
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatalf("json line %d: %v", i, err)
		}
		d := images[i]
		if j.SHA256 != d.Image.SHA256 || len(j.Sightings) != len(d.Sightings) {
			t.Errorf("json line %d: %s with %d sightings, want %s with %d", i, j.SHA256, len(j.Sightings), d.Image.SHA256, len(d.Sightings))
		}
		if j.PDQVariant != pdq.VariantFull || j.PDQ != d.Image.PDQRef.Hash || j.PDQWork.Variant != pdq.VariantName(WorkSide) {
			t.Errorf("json line %d: pdq %s [%s], work [%s]", i, j.PDQ, j.PDQVariant, j.PDQWork.Variant)
		}
	}

	// csv: a header, one row per image, the formula neutralised.
	out, _ = exportAll(t, c, Selection{}, ExportWriterOptions{Format: FormatCSV})
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n+1 || strings.Join(recs[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("csv: %d records, header %q", len(recs), recs[0])
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	sawEvil := false
	for i, r := range recs[1:] {
		d := images[i]
		if r[col["sha256"]] != d.Image.SHA256.String() || r[col["pdq"]] != d.Image.PDQRef.Hash.String() ||
			r[col["pdq_variant"]] != pdq.VariantFull || r[col["sightings"]] != strconv.Itoa(len(d.Sightings)) {
			t.Errorf("csv row %d: %q", i, r)
		}
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("csv row %d: cell %q starts like a formula", i, cell)
			}
		}
		if r[col["first_name"]] == "'=HYPERLINK(\"http:x\").jpg" {
			sawEvil = true
		}
	}
	if !sawEvil {
		t.Error("csv: the file named =HYPERLINK(...) is not there, neutralised")
	}

	// Selections.
	bySel := func(s Selection) int {
		_, st := exportAll(t, c, s, ExportWriterOptions{Format: FormatPDQList})
		return st.Images
	}
	if got := bySel(Selection{Affiliate: "evil"}); got != 1 {
		t.Errorf("--affiliate evil: %d images", got)
	}
	since, _ := ParseReleased("2021-01-01")
	if got := bySel(Selection{Since: since}); got != 1 {
		t.Errorf("--since 2021-01-01: %d images", got)
	}
	var first *BatchSummary
	for _, s := range sums {
		if first == nil || s.Batch.Released.Time.Before(first.Batch.Released.Time) {
			first = s
		}
	}
	if got := bySel(Selection{Batches: []BatchID{first.Batch.ID}}); got != first.New {
		t.Errorf("--batch %s: %d images, want %d", first.Batch.ID, got, first.New)
	}
	if got := bySel(Selection{Batches: []BatchID{first.Batch.ID}, Affiliate: "evil"}); got != 0 {
		t.Errorf("--batch and --affiliate evil: %d images, want none", got)
	}
	if err := c.Export(t.Context(), Selection{Batches: []BatchID{{1, 2, 3}}}, func(ExportRow) error { return nil }); err == nil {
		t.Error("an unknown batch is not an error")
	}

	// Hash lists: the reference variant, one per image.
	out, st = exportAll(t, c, Selection{}, ExportWriterOptions{Format: FormatPDQList})
	if st.PDQVariant != pdq.VariantFull || st.Written != n || strings.Count(string(out), "\n") != n {
		t.Errorf("pdq-list: %+v", st)
	}
	for i, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "pdq "+images[i].Image.PDQRef.Hash.String() {
			t.Errorf("pdq-list line %d: %q", i, l)
		}
	}
	out, st = exportAll(t, c, Selection{}, ExportWriterOptions{Format: FormatTATJSON})
	var tat []map[string]any
	if err := json.Unmarshal(out, &tat); err != nil || len(tat) != 3*n || st.Written != 3*n {
		t.Fatalf("tat-json: %d objects, %v", len(tat), err)
	}
	for _, o := range tat {
		for _, k := range []string{"hash_digest", "algorithm", "file_type", "created_on", "id"} {
			if _, ok := o[k]; !ok {
				t.Errorf("tat-json object without %s: %v", k, o)
			}
		}
		if o["algorithm"] == "PDQ" && o["pdq_variant"] != pdq.VariantFull {
			t.Errorf("tat-json PDQ object without its variant: %v", o)
		}
	}
	out, _ = exportAll(t, c, Selection{}, ExportWriterOptions{Format: FormatHMACSV, Category: "terrorism"})
	recs, err = csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil || len(recs) != n+1 || strings.Join(recs[0], ",") != "signal_type,signal_str,collab,category,tags" {
		t.Fatalf("hma-csv: %d records, %v", len(recs), err)
	}
	if r := recs[1]; r[0] != "pdq" || r[2] != "relcat" || r[3] != "terrorism" || !strings.HasPrefix(r[4], pdq.VariantFull+",") {
		t.Errorf("hma-csv row %q", r)
	}
	if _, err := NewExportWriter(&bytes.Buffer{}, ExportWriterOptions{Format: "xml"}); err == nil {
		t.Error("format xml accepted")
	}
}

// An image without the reference PDQ (catalogued by schema 1 with --no-copy) is named per row in
// json and csv, and left out of hash lists, counted.
func TestExportNamesTheVariantPerRow(t *testing.T) {
	c := openTest(t)
	ingestSamples(t, c)
	var victim SHA256
	_ = c.Export(t.Context(), Selection{}, func(r ExportRow) error { victim = r.Image.SHA256; return nil })
	if err := c.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketPDQRef).Delete(victim[:]) }); err != nil {
		t.Fatal(err)
	}
	out, st := exportAll(t, c, Selection{}, ExportWriterOptions{Format: FormatJSON})
	if !strings.Contains(string(out), `"pdq_variant":"pdq-area1024"`) || strings.Count(string(out), `"pdq_variant":"pdq-full"`) != st.Images-1 {
		t.Errorf("json does not name the work variant of the one row without a reference hash")
	}
	_, st = exportAll(t, c, Selection{}, ExportWriterOptions{Format: FormatPDQCSV})
	if st.NoReference != 1 || st.Written != st.Images-1 {
		t.Errorf("pdq-csv stats %+v, want 1 left out", st)
	}
}

// exiftool accepts the exiftool-shaped JSON: `exiftool -n -j=FILE` on a copy of each image stripped
// of its metadata writes the exported tags back, and exiftool then reads the same values.
func TestExportExiftoolAcceptedByExiftool(t *testing.T) {
	exiftool := requireTool(t, "exiftool", "libimage-exiftool-perl")
	c := openTest(t)
	ingestSamples(t, c)
	out, _ := exportAll(t, c, Selection{}, ExportWriterOptions{Format: FormatExiftool})
	var recs []map[string]json.RawMessage
	if err := json.Unmarshal(out, &recs); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	jsonPath := filepath.Join(work, "export.json")
	if err := os.WriteFile(jsonPath, out, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) []byte {
		cmd := exec.Command(exiftool, args...)
		cmd.Dir = work
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		// exiftool prints its summary ("16 image files updated") on stderr, warnings too.
		if err != nil || (args[1] != "-EXIF:all=" && bytes.Contains(stderr.Bytes(), []byte("Warning")) || bytes.Contains(stderr.Bytes(), []byte("Error"))) {
			t.Fatalf("exiftool %s: %v\n%s%s", strings.Join(args, " "), err, b, stderr.Bytes())
		}
		return append(b, stderr.Bytes()...)
	}
	var files []string
	want := map[string]map[string]json.RawMessage{}
	for _, r := range recs {
		if len(r) < 4 {
			continue // little or no EXIF
		}
		var src string
		_ = json.Unmarshal(r["SourceFile"], &src)
		data, err := os.ReadFile(filepath.Join(repoRoot(t), "samples", "releases", filepath.FromSlash(src)))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(work, filepath.FromSlash(src)), data)
		files = append(files, src)
		want[src] = r
	}
	if len(files) == 0 {
		t.Fatal("no sample with EXIF to check")
	}
	// Strip every tag, write the export back (exiftool matches each object by SourceFile), read.
	run(append([]string{"-overwrite_original", "-EXIF:all="}, files...)...)
	msg := run(append([]string{"-overwrite_original", "-n", "-j=" + jsonPath}, files...)...)
	if !bytes.Contains(msg, []byte(strconv.Itoa(len(files))+" image files updated")) {
		t.Errorf("exiftool -j= says %s", msg)
	}
	var back []map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(run(append([]string{"-q", "-json", "-n", "-G", "-EXIF:all"}, files...)...)), &back); err != nil || len(back) != len(files) {
		t.Fatalf("exiftool -json: %v (%d objects for %d files)", err, len(back), len(files))
	}
	checked := 0
	for _, b := range back {
		var src string
		_ = json.Unmarshal(b["SourceFile"], &src)
		r := want[src]
		if r == nil {
			t.Fatalf("exiftool read back %q, not exported", src)
		}
		for k, v := range r {
			if k != "SourceFile" && !sameExiftoolValue(v, b[k]) {
				t.Errorf("%s: %s exported %s, exiftool reads back %s", src, k, v, b[k])
			}
		}
		checked++
	}
	t.Logf("%d images written back by exiftool -j= and read back equal", checked)
}

// sameExiftoolValue compares two JSON values as exiftool prints them: the same literal, or (for
// numbers) the same value to 1e-9 (exiftool prints 15 significant digits).
func sameExiftoolValue(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	x, err1 := strconv.ParseFloat(string(a), 64)
	y, err2 := strconv.ParseFloat(string(b), 64)
	return err1 == nil && err2 == nil && math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(x))
}

// The exiftool export of the shared corpus's EXIF gives, for every tag it writes, the value of
// exiftool's own -json -n -G output (corpus/exiftool), where exiftool reads the file.
func TestExportExiftoolMatchesReference(t *testing.T) {
	corpus := corpusDir(t)
	c := openTest(t)
	dirs := []string{filepath.Join(corpus, "real", "metadata-extractor-images", "jpg"), filepath.Join(corpus, "real", "exif-samples", "jpg")}
	for _, d := range dirs {
		if _, err := c.Ingest(t.Context(), []string{d}, IngestOptions{Recursive: true, NoCopy: true, Release: ReleaseInfo{Affiliate: "corpus", Released: "2020-01-01"}}); err != nil {
			t.Fatal(err)
		}
	}
	out, _ := exportAll(t, c, Selection{}, ExportWriterOptions{Format: FormatExiftool})
	var recs []map[string]json.RawMessage
	if err := json.Unmarshal(out, &recs); err != nil {
		t.Fatal(err)
	}
	compared, differ := 0, 0
	for _, r := range recs {
		var src string
		_ = json.Unmarshal(r["SourceFile"], &src)
		// SourceFile is "<folder>/<name>": the folder is "jpg", under metadata-extractor-images or exif-samples.
		var ref []map[string]json.RawMessage
		for _, set := range []string{"metadata-extractor-images", "exif-samples"} {
			data, err := os.ReadFile(filepath.Join(corpus, "exiftool", set, filepath.FromSlash(src)+".json"))
			if err == nil && json.Unmarshal(data, &ref) == nil && len(ref) == 1 {
				if _, err := os.Stat(filepath.Join(corpus, "real", set, filepath.FromSlash(src))); err == nil {
					break
				}
			}
			ref = nil
		}
		if ref == nil {
			t.Errorf("%s: no reference exiftool JSON", src)
			continue
		}
		if _, bad := ref[0]["ExifTool:Error"]; bad {
			continue // exiftool could not read the file: not the truth
		}
		for k, v := range r {
			if k == "SourceFile" {
				continue
			}
			w, ok := ref[0][k]
			compared++
			if !ok || !sameExiftoolValue(trimJSONString(v), trimJSONString(w)) {
				differ++
				t.Logf("%s: %s: relcat %s, exiftool %s", src, k, v, w)
			}
		}
	}
	t.Logf("%d values compared with exiftool's, %d differ", compared, differ)
	if compared < 100 || differ*50 > compared {
		t.Errorf("%d of %d values differ from exiftool's own output (more than 2%%)", differ, compared)
	}
}

// trimJSONString drops the blanks exiftool trims from fixed-width text fields.
func trimJSONString(v json.RawMessage) json.RawMessage {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return v
	}
	out, _ := json.Marshal(strings.TrimRight(s, " \x00"))
	return out
}

// pdq-csv of the PDQ reference images equals Meta's reference hasher output within the conformance
// rule: exact for PNG (same pixels), distance <= 10 for JPEGs of quality >= 80.
func TestExportPDQCSVMatchesReference(t *testing.T) {
	corpus := corpusDir(t)
	c := openTest(t)
	if _, err := c.Ingest(t.Context(), []string{filepath.Join(corpus, "pdq-ref")}, IngestOptions{Recursive: true, NoCopy: true, Release: ReleaseInfo{Affiliate: "meta", Released: "2020-01-01"}}); err != nil {
		t.Fatal(err)
	}
	out, st := exportAll(t, c, Selection{}, ExportWriterOptions{Format: FormatPDQCSV})
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range recs {
		got["corpus/"+r[2]] = r
	}
	f, err := os.Open(filepath.Join(corpus, "pdq-ref", "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	checked := 0
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		want, _ := pdq.Parse(c[1])
		q, _ := strconv.Atoi(c[2])
		r := got[c[0]]
		if r == nil {
			if q > 0 && !strings.HasSuffix(c[0], "wee.jpg") {
				t.Errorf("%s: not in the pdq-csv export", c[0])
			}
			continue
		}
		h, err := pdq.Parse(r[0])
		if err != nil {
			t.Fatalf("%s: %v", c[0], err)
		}
		d := pdq.Distance(h, want)
		switch {
		case strings.HasSuffix(c[0], ".png") && d != 0:
			t.Errorf("%s: %s, reference %s (PNG must match exactly)", c[0], h, want)
		case q >= 80 && d > 10:
			t.Errorf("%s: distance %d to the reference (quality %d)", c[0], d, q)
		}
		checked++
		t.Logf("%s: d=%d quality %s (ref %d)", c[0], d, r[1], q)
	}
	if checked < 20 {
		t.Errorf("only %d reference hashes checked (export: %+v)", checked, st)
	}
}

// requireTool finds an external tool: a missing tool skips loudly outside CI and fails in CI.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed and CI=true: .ci/run must install %s", name, pkg)
	}
	t.Skipf("SKIPPED: %s is not installed (apt-get install -y %s); this interop test runs in CI", name, pkg)
	return ""
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// relcat search's filters narrow an export to the images search finds, combined with the batch
// filters.
func TestExportSearchFilters(t *testing.T) {
	c := openTest(t)
	ingestSamples(t, c)
	want := map[SHA256]bool{}
	r, err := c.Search(SearchQuery{Stripped: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range r.Hits {
		want[h.SHA256] = true
	}
	if len(want) == 0 {
		t.Fatal("no stripped sample")
	}
	got := 0
	err = c.Export(t.Context(), Selection{Search: &SearchQuery{Stripped: true}}, func(r ExportRow) error {
		got++
		if !want[r.Image.SHA256] || !r.Image.EXIF.Stripped() {
			t.Errorf("%s exported by --stripped", r.Image.SHA256)
		}
		return nil
	})
	if err != nil || got != len(want) {
		t.Errorf("--stripped: %d exported, search finds %d (%v)", got, len(want), err)
	}
	// With an affiliate: the intersection.
	n := 0
	err = c.Export(t.Context(), Selection{Affiliate: "is-khorasan", Search: &SearchQuery{Stripped: true}}, func(r ExportRow) error {
		n++
		ok := false
		for _, s := range r.Sightings {
			ok = ok || s.Affiliate == "is-khorasan"
		}
		if !ok || !want[r.Image.SHA256] {
			t.Errorf("%s: not a stripped image of is-khorasan", r.Image.SHA256)
		}
		return nil
	})
	if err != nil || n == 0 || n >= got {
		t.Errorf("--affiliate is-khorasan --stripped: %d of %d (%v)", n, got, err)
	}
}

// TestExportWholeCatalogStreams: the whole-catalog export reads on chunk after chunk from the last
// image of the one before (no list of every image first): every image once, in SHA-256 order,
// across several chunks.
func TestExportWholeCatalogStreams(t *testing.T) {
	c, err := Open(filepath.Join(t.TempDir(), "cat"), Options{Now: fixedClock(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	buildScale(t, c, 3*exportChunk+17, 5, nil)
	var want []SHA256
	if err := c.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketImages).ForEach(func(k, _ []byte) error {
			want = append(want, SHA256(k))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	var got []SHA256
	err = c.Export(t.Context(), Selection{}, func(r ExportRow) error {
		got = append(got, r.Image.SHA256)
		if len(r.Sightings) == 0 {
			t.Errorf("%s: exported without its sightings", r.Image.SHA256)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) <= 3*exportChunk || !slices.Equal(got, want) {
		t.Fatalf("exported %d images, the catalog holds %d (equal in order: %v)", len(got), len(want), slices.Equal(got, want))
	}
}
