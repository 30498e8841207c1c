package catalog

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// clockFrom is a clock that starts at t and advances a second per call.
func clockFrom(t time.Time) func() time.Time {
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

func openAt(t *testing.T, start time.Time) *Catalog {
	t.Helper()
	c, err := Open(filepath.Join(t.TempDir(), "cat"), Options{Now: clockFrom(start), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		checkInvariants(t, c)
		c.Close()
	})
	return c
}

func ingestDirs(t *testing.T, c *Catalog, operator string, dirs ...string) {
	t.Helper()
	if _, err := c.Ingest(t.Context(), dirs, IngestOptions{Operator: operator, Command: "test"}); err != nil {
		t.Fatal(err)
	}
}

func bundleOf(t *testing.T, c *Catalog, s Selection) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "b.relcat")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := c.ExportBundle(t.Context(), f, s, BundleExportOptions{Operator: "exporter"}); err != nil {
		t.Fatal(err)
	}
	return p
}

// answers renders what users ask a catalog, canonically: batches (identity, record fields, first
// ingest), images (hashes, EXIF), sightings as (batch, image, name), and the first sighting of every
// image. Positions and the catalog's own log are left out.
func answers(t *testing.T, c *Catalog) string {
	t.Helper()
	var b strings.Builder
	bs, err := c.Batches("")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range bs {
		fmt.Fprintf(&b, "batch %s %s %s %s %q %q %q files=%d ingested=%s by %s\n", x.ID, x.Affiliate, x.Released, x.Folder, x.Source, x.Title, x.Notes, x.Files, x.Ingested.Format(time.RFC3339), x.Operator)
	}
	err = c.Export(t.Context(), Selection{}, func(r ExportRow) error {
		img := *r.Image
		img.Ingested = time.Time{}
		img.Object, img.Thumb = "", ""
		j, _ := json.Marshal(img)
		fmt.Fprintf(&b, "image %s pdq=%v ref=%v\n", j, r.Image.PDQ, r.Image.PDQRef)
		var ss []string
		for _, s := range r.Sightings {
			ss = append(ss, s.Batch.String()+"/"+s.Name)
		}
		sort.Strings(ss)
		fmt.Fprintf(&b, "  sightings %s\n  first %s/%s\n", strings.Join(ss, " "), r.Sightings[0].Batch, r.Sightings[0].Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Two analysts' catalogs, sharing one release folder, merged either way give the same batches,
// images, sightings and first-seen answers; importing again changes nothing; a bundle into an empty
// catalog reproduces its catalog; provenance is in the log.
func TestBundleConvergeAndRoundTrip(t *testing.T) {
	dirs := sampleDirs(t)
	base := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	a := openAt(t, base)
	b := openAt(t, base.Add(time.Hour))
	ingestDirs(t, a, "alice", dirs[0], dirs[1])
	ingestDirs(t, b, "bob", dirs[1], dirs[2])
	aOnly := answers(t, a)
	ba, bb := bundleOf(t, a, Selection{}), bundleOf(t, b, Selection{})

	// Round trip: A's bundle into an empty catalog is A.
	empty := openAt(t, base.Add(2*time.Hour))
	st, err := empty.ImportBundle(t.Context(), ba, BundleImportOptions{Operator: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	if got := answers(t, empty); got != aOnly {
		t.Errorf("A's bundle into an empty catalog differs from A:\n%s\nvs\n%s", got, aOnly)
	}
	if st.NewImages != st.Images || st.NewBatches != 2 || st.Objects != st.Images {
		t.Errorf("into empty: %+v", st)
	}
	aID, _ := a.CatalogID()
	var provOK bool
	_ = empty.Log(func(e LogEntry) bool {
		n := strings.Join(e.Notes, "\n")
		if e.Action == "bundle-import" && e.Batch != "" && strings.Contains(n, "of catalog "+aID) && strings.Contains(n, `by "alice"`) {
			provOK = true
		}
		return true
	})
	if !provOK {
		t.Error("the import's log entry does not keep the origin catalog id and its operator")
	}

	// Converge: A<-B and B<-A.
	if _, err := a.ImportBundle(t.Context(), bb, BundleImportOptions{Operator: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ImportBundle(t.Context(), ba, BundleImportOptions{Operator: "bob"}); err != nil {
		t.Fatal(err)
	}
	ga, gb := answers(t, a), answers(t, b)
	if ga != gb {
		t.Errorf("A<-B and B<-A differ:\nA:\n%s\nB:\n%s", ga, gb)
	}
	// The shared batch keeps alice's earlier ingest.
	for _, x := range mustBatches(t, b) {
		if x.Folder == filepath.Base(dirs[1]) && x.Operator != "alice" {
			t.Errorf("shared batch: operator %q, want the earlier ingest's (alice)", x.Operator)
		}
	}
	// Idempotent: importing again changes nothing at all.
	before := dumpState(t, a, true)
	st, err = a.ImportBundle(t.Context(), bb, BundleImportOptions{})
	if err != nil || !st.Unchanged {
		t.Errorf("second import: %+v %v", st, err)
	}
	if dumpState(t, a, true) != before {
		t.Error("a second import of the same bundle changed the catalog")
	}
	// A bundle of one batch carries only it.
	one := bundleOf(t, b, Selection{Affiliate: mustBatches(t, b)[0].Affiliate})
	c := openAt(t, base)
	if _, err := c.ImportBundle(t.Context(), one, BundleImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := len(mustBatches(t, c)); n != 1 {
		t.Errorf("one-affiliate bundle gave %d batches", n)
	}
}

func mustBatches(t *testing.T, c *Catalog) []Batch {
	t.Helper()
	bs, err := c.Batches("")
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// tarEntry is one entry of a hand-made bundle.
type tarEntry struct {
	hdr  tar.Header
	data []byte
}

// readTar reads every entry of a bundle.
func readTar(t *testing.T, path string) []tarEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tarEntry
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out = append(out, tarEntry{*h, data})
	}
}

func writeTar(t *testing.T, entries []tarEntry) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == tar.TypeReg && h.Size == 0 {
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.data[:min(int64(len(e.data)), h.Size)]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "evil.relcat")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// withManifest rewrites the manifest (entry 0) after fn changed it.
func withManifest(t *testing.T, es []tarEntry, fn func(m *BundleManifest)) []tarEntry {
	var m BundleManifest
	if err := json.Unmarshal(es[0].data, &m); err != nil {
		t.Fatal(err)
	}
	fn(&m)
	data, _ := json.Marshal(m)
	out := append([]tarEntry(nil), es...)
	out[0] = tarEntry{es[0].hdr, data}
	out[0].hdr.Size = int64(len(data))
	return out
}

func reg(name string, data []byte) tarEntry {
	return tarEntry{tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o444, Size: int64(len(data))}, data}
}

// Every refusal of a hostile bundle names the reason and leaves the catalog untouched.
func TestBundleRefusals(t *testing.T) {
	src := openTest(t)
	ingestDirs(t, src, "x", sampleDirs(t)[0])
	good := readTar(t, bundleOf(t, src, Selection{}))
	objIdx := -1
	for i, e := range good {
		if strings.Contains(e.hdr.Name, "/objects/") {
			objIdx = i
			break
		}
	}
	if objIdx < 0 {
		t.Fatal("no object in the bundle")
	}
	evil := []byte("evil")
	cases := []struct {
		name    string
		entries func() []tarEntry
		maxSize int64
		want    string
	}{
		{"absolute path", func() []tarEntry {
			return append(withManifest(t, good, func(m *BundleManifest) {}), reg("/etc/passwd", evil))
		}, 0, "absolute path"},
		{"dot-dot", func() []tarEntry {
			return append(append([]tarEntry(nil), good...), reg("relcat-bundle/../../x", evil))
		}, 0, "climbs out"},
		{"symlink", func() []tarEntry {
			return append(append([]tarEntry(nil), good...), tarEntry{tar.Header{Name: "relcat-bundle/objects/l", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, nil})
		}, 0, "is a link"},
		{"hard link", func() []tarEntry {
			return append(append([]tarEntry(nil), good...), tarEntry{tar.Header{Name: "relcat-bundle/objects/h", Typeflag: tar.TypeLink, Linkname: "relcat-bundle/manifest.json"}, nil})
		}, 0, "is a link"},
		{"device", func() []tarEntry {
			return append(append([]tarEntry(nil), good...), tarEntry{tar.Header{Name: "relcat-bundle/objects/d", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}, nil})
		}, 0, "device"},
		{"directory", func() []tarEntry {
			return append(append([]tarEntry(nil), good...), tarEntry{tar.Header{Name: "relcat-bundle/objects", Typeflag: tar.TypeDir, Mode: 0o755}, nil})
		}, 0, "regular files only"},
		{"duplicate", func() []tarEntry {
			return append(append([]tarEntry(nil), good...), good[objIdx])
		}, 0, "appears twice"},
		{"over declared size", func() []tarEntry {
			es := append([]tarEntry(nil), good...)
			e := es[objIdx]
			e.data = append(append([]byte(nil), e.data...), 1, 2, 3)
			e.hdr.Size = int64(len(e.data))
			es[objIdx] = e
			return es
		}, 0, "over its declared size"},
		{"checksum", func() []tarEntry {
			es := append([]tarEntry(nil), good...)
			e := es[objIdx]
			e.data = append([]byte(nil), e.data...)
			e.data[len(e.data)/2] ^= 0xff
			es[objIdx] = e
			return es
		}, 0, "does not match its checksum"},
		{"bundle over the size limit", func() []tarEntry { return good }, 4096, "over the limit"},
		{"undeclared entry", func() []tarEntry {
			return append(append([]tarEntry(nil), good...), reg("relcat-bundle/objects/extra", evil))
		}, 0, "not in the manifest"},
		{"declared, missing", func() []tarEntry {
			es := append([]tarEntry(nil), good[:objIdx]...)
			return append(es, good[objIdx+1:]...)
		}, 0, "not in the bundle"},
		{"manifest not first", func() []tarEntry {
			return append([]tarEntry{good[1], good[0]}, good[2:]...)
		}, 0, "not relcat-bundle/manifest.json"},
		{"no manifest", func() []tarEntry { return nil }, 0, "no manifest"},
		{"wrong version", func() []tarEntry {
			return withManifest(t, good, func(m *BundleManifest) { m.Version = 99 })
		}, 0, "version 99"},
		{"forged record", func() []tarEntry {
			// An image record claiming another MD5, with a manifest checksum to match.
			es := append([]tarEntry(nil), good...)
			for i, e := range es {
				if strings.Contains(e.hdr.Name, "/images/") {
					var bi bundleImage
					_ = json.Unmarshal(e.data, &bi)
					bi.Image.MD5[0] ^= 1
					data, _ := json.Marshal(bi)
					es[i] = reg(e.hdr.Name, data)
					es = withManifest(t, es, func(m *BundleManifest) {
						for j := range m.Entries {
							if m.Entries[j].Path == e.hdr.Name {
								m.TotalSize += int64(len(data)) - m.Entries[j].Size
								h := sha256.Sum256(data)
								m.Entries[j].Size, m.Entries[j].SHA256 = int64(len(data)), hex.EncodeToString(h[:])
							}
						}
					})
					break
				}
			}
			return es
		}, 0, "MD5"},
		{"not a tar", func() []tarEntry { return []tarEntry{{tar.Header{Name: "x", Typeflag: 'Z'}, nil}} }, 0, "x"},
		{"backslash", func() []tarEntry {
			return append(append([]tarEntry(nil), good...), reg("relcat-bundle\\..\\x", evil))
		}, 0, "backslash"},
	}
	dst := openTest(t)
	ingestDirs(t, dst, "y", sampleDirs(t)[1])
	before := dumpState(t, dst, true)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTar(t, tc.entries())
			_, err := dst.ImportBundle(t.Context(), p, BundleImportOptions{MaxSize: tc.maxSize})
			if err == nil {
				t.Fatal("imported")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "evil.relcat") {
				t.Errorf("error %q lacks %q or the file name", err, tc.want)
			}
			if !errors.Is(err, ErrBundle) {
				t.Errorf("not ErrBundle: %v", err)
			}
			if dumpState(t, dst, true) != before {
				t.Fatal("the catalog changed")
			}
		})
	}
	// The good bundle itself is accepted.
	if _, err := dst.ImportBundle(t.Context(), writeTar(t, good), BundleImportOptions{}); err != nil {
		t.Errorf("the untouched bundle: %v", err)
	}
}

// ingest --bundle-out: many machines each write a bundle without a catalog; one catalog imports
// them and holds what ingesting every folder itself would have given.
func TestIngestToBundle(t *testing.T) {
	dirs := sampleDirs(t)
	var bundles []string
	for _, d := range dirs {
		p := filepath.Join(t.TempDir(), "part.relcat")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		sums, st, err := IngestToBundle(t.Context(), []string{d}, f, IngestOptions{Operator: "worker"}, Options{Version: "test"})
		f.Close()
		if err != nil || len(sums) != 1 || st.Batches != 1 {
			t.Fatalf("%s: %v %+v", d, err, st)
		}
		bundles = append(bundles, p)
	}
	merged := openTest(t)
	// Imported in reverse order: order-free.
	for i := len(bundles) - 1; i >= 0; i-- {
		if _, err := merged.ImportBundle(t.Context(), bundles[i], BundleImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	direct := openTest(t)
	ingestDirs(t, direct, "worker", dirs...)
	strip := func(s string) string {
		// Ingest times differ (each machine's clock); the rest must not.
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if i := strings.Index(l, " ingested="); i >= 0 {
				l = l[:i]
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	}
	if got, want := strip(answers(t, merged)), strip(answers(t, direct)); got != want {
		t.Errorf("bundles merged differ from a direct ingest:\n%s\nvs\n%s", got, want)
	}
}
