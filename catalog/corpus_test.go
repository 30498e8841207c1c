package catalog

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIngestWholeCorpus ingests every file of the shared corpus (118 real camera files, broken ones
// included) as one batch: every file is accounted for (new, known or rejected with a reason), none is
// lost, nothing panics, and the byte-identical Kodak pair gives one image with two sightings.
func TestIngestWholeCorpus(t *testing.T) {
	corpus := corpusDir(t)
	manifest := map[string]string{} // path below corpus/real -> sha256
	f, err := os.Open(filepath.Join(corpus, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan()
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		manifest[strings.TrimPrefix(cols[0], "corpus/real/")] = cols[12]
	}
	f.Close()
	if len(manifest) != 118 {
		t.Fatalf("MANIFEST.tsv lists %d files, want 118", len(manifest))
	}

	c := openTest(t)
	sums, err := c.Ingest(context.Background(), []string{filepath.Join(corpus, "real")},
		IngestOptions{Recursive: true, NoCopy: true, Release: ReleaseInfo{Affiliate: "corpus", Released: "2020-01-01"}})
	if err != nil {
		t.Fatal(err)
	}
	s := sums[0]
	seen := map[string]bool{}
	counts := map[string]int{}
	for _, fr := range s.Files {
		seen[fr.Name] = true
		counts[fr.Status]++
		want, ok := manifest[fr.Name]
		if !ok {
			t.Errorf("%s: not in MANIFEST.tsv", fr.Name)
			continue
		}
		switch fr.Status {
		case StatusNew, StatusKnown:
			if fr.SHA256 == nil || fr.SHA256.String() != want {
				t.Errorf("%s: sha256 %v, MANIFEST says %s", fr.Name, fr.SHA256, want)
			}
		case StatusRejected:
			if fr.Reason == "" {
				t.Errorf("%s: rejected without a reason", fr.Name)
			}
			t.Logf("rejected %s: %s", fr.Name, fr.Reason)
		default:
			t.Errorf("%s: status %q", fr.Name, fr.Status)
		}
		if fr.NoPixels {
			t.Logf("no pixels %s: %v", fr.Name, fr.Warnings)
		}
	}
	for name := range manifest {
		if !seen[name] {
			t.Errorf("%s: lost (no outcome in the summary)", name)
		}
	}
	t.Logf("corpus: %d files: %v, %d without pixels", len(s.Files), counts, s.NoPixels)
	if counts[StatusNew]+counts[StatusKnown]+counts[StatusRejected] != 118 {
		t.Errorf("accounted for %v, want 118 files", counts)
	}

	a := manifest["exif-samples/jpg/exif-org/kodak-dc210.jpg"]
	b := manifest["metadata-extractor-images/jpg/Kodak DC210.jpg"]
	if a != b {
		t.Fatalf("the Kodak pair is not byte-identical in MANIFEST.tsv")
	}
	sha, _ := ParseSHA256(a)
	d, err := c.Image(sha)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sightings) != 2 {
		t.Errorf("Kodak DC210: %d sightings, want 2: %+v", len(d.Sightings), d.Sightings)
	}
	cls, err := c.Dupes(DupesOptions{Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	// Within one batch an image seen twice is not "recycled across batches".
	for _, cl := range cls {
		t.Errorf("exact dupes within a single batch: %+v", cl.Members[0].SHA256)
	}
}
