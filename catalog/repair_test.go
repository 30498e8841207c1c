package catalog

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepair damages a thumbnail, deletes another, corrupts two originals and deletes a third;
// verify names the fix for each; repair remakes the thumbnails from the originals (the same bytes
// ingest wrote) and restores the originals found under --from, lists the one it cannot restore, and
// after a second run with the right folder verify passes.
func TestRepair(t *testing.T) {
	c := openTest(t)
	ctx := context.Background()
	sums := ingestSamples(t, c)
	s1 := sums["2019-11-02-sinai"]
	img := func(name string) *Image {
		t.Helper()
		d, err := c.Image(*fileByName(s1, name).SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return d.Image
	}
	path := func(rel string) string { return filepath.Join(c.Dir(), filepath.FromSlash(rel)) }
	dog, ship, church, receipt, railway := img("03-dog.jpg"), img("09-ship.jpg"), img("06-church.jpg"), img("01-receipt.jpg"), img("07-railway.jpg")
	dogThumb, err := os.ReadFile(path(dog.Thumb))
	if err != nil {
		t.Fatal(err)
	}
	write := func(rel string, data []byte) {
		t.Helper()
		p := path(rel)
		_ = os.Chmod(p, 0o644)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(dog.Thumb, []byte("not a thumbnail"))
	if err := os.Remove(path(ship.Thumb)); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(path(church.Object))
	bad := append([]byte(nil), orig...)
	bad[len(bad)/2] ^= 0xff
	write(church.Object, bad)
	write(receipt.Object, orig[:100])
	if err := os.Remove(path(railway.Object)); err != nil {
		t.Fatal(err)
	}
	r, err := c.Verify(ctx, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fixes := 0
	for _, p := range r.Problems {
		if strings.Contains(p.Detail, "(fix: `relcat repair") {
			fixes++
		}
	}
	if len(r.Problems) != 5 || fixes != 5 {
		t.Errorf("verify: %d problems, %d naming the fix: %v", len(r.Problems), fixes, r.Problems)
	}
	// The church and the receipt are in a folder given to --from; the railway is not.
	from := t.TempDir()
	sub := filepath.Join(from, "deep", "er")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"06-church.jpg", "01-receipt.jpg", "03-dog.jpg"} {
		data, _ := os.ReadFile(filepath.Join(sampleDirs(t)[0], n))
		if err := os.WriteFile(filepath.Join(sub, "renamed-"+n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := c.Repair(ctx, RepairOptions{From: []string{from}, Operator: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	var done, left []string
	for _, it := range rep.Repaired {
		done = append(done, it.Kind+" "+it.SHA256.String()[:8])
	}
	for _, it := range rep.Unrepaired {
		left = append(left, it.Kind+" "+it.SHA256.String()[:8]+": "+it.Detail)
	}
	if len(rep.Repaired) != 4 || len(rep.Unrepaired) != 1 || rep.Unrepaired[0].SHA256 != railway.SHA256 ||
		!strings.Contains(rep.Unrepaired[0].Detail, "relcat repair --from DIR") {
		t.Errorf("repair: done %v, left %v", done, left)
	}
	if got, _ := os.ReadFile(path(dog.Thumb)); string(got) != string(dogThumb) {
		t.Errorf("the remade thumbnail differs from the one ingest wrote (%d vs %d bytes)", len(got), len(dogThumb))
	}
	if got, _ := os.ReadFile(path(church.Object)); string(got) != string(orig) {
		t.Errorf("church original not restored")
	}
	r, _ = c.Verify(ctx, VerifyOptions{})
	if len(r.Problems) != 1 || r.Problems[0].Kind != "object" || r.Problems[0].Subject != railway.SHA256.String() {
		t.Errorf("verify after the first repair: %v", r.Problems)
	}
	data, _ := os.ReadFile(filepath.Join(sampleDirs(t)[0], "07-railway.jpg"))
	if err := os.WriteFile(filepath.Join(from, "x.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err = c.Repair(ctx, RepairOptions{From: []string{from}}); err != nil || len(rep.Repaired) != 1 || len(rep.Unrepaired) != 0 {
		t.Errorf("second repair: %v %+v", err, rep)
	}
	var actions int
	_ = c.Log(func(e LogEntry) bool {
		if e.Action == ActionRepair {
			actions++
		}
		return true
	})
	if actions != 2 {
		t.Errorf("%d repair log entries, want 2", actions)
	}
	// Nothing left to repair: no change, no log entry. Verify passes on cleanup.
	if rep, err = c.Repair(ctx, RepairOptions{}); err != nil || len(rep.Repaired)+len(rep.Unrepaired) != 0 {
		t.Errorf("third repair: %v %+v", err, rep)
	}
}
