package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadersDuringIngest (issue 7 item 8): while a 300-file ingest runs (small generated photos,
// committed in chunks of 16), readers query in a loop (each opening the catalog read-only, listing
// the batches, looking a photo up, closing): every query succeeds, the files they see never go
// down, some see a part of the batch (they ran during the ingest, seeing each committed chunk), and
// a second writer still gets ErrLocked naming this process.
func TestReadersDuringIngest(t *testing.T) {
	old := chunkFiles
	chunkFiles = 16
	defer func() { chunkFiles = old }()
	const n = 300
	root := t.TempDir()
	photos := map[string][]byte{}
	for i := range n {
		photos[fmt.Sprintf("%03d.jpg", i)] = photoBytes(1000+i, photoMeta{NoEXIF: true})
	}
	rel := writeRelease(t, root, "big", "is-test", "2021-01-01", photos)
	probe := filepath.Join(rel, "000.jpg")
	dir := filepath.Join(root, "cat")

	w, err := Open(dir, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var done atomic.Bool
	ingestErr := make(chan error, 1)
	go func() {
		defer done.Store(true)
		_, err := w.Ingest(context.Background(), []string{rel}, IngestOptions{Workers: 1})
		ingestErr <- err
	}()

	query := func() (int, error) {
		r, err := Open(dir, Options{ReadOnly: true, Version: "test"})
		if err != nil {
			return 0, err
		}
		defer r.Close()
		bs, err := r.Batches("")
		if err != nil {
			return 0, err
		}
		if _, err := r.Lookup(context.Background(), probe, MatchOptions{}, HashOptions{}); err != nil {
			return 0, err
		}
		files := 0
		for _, b := range bs {
			files += b.Files
		}
		return files, nil
	}
	var seen []int
	var lat []time.Duration
	failures := 0
	secondWriter := false
	for !done.Load() {
		start := time.Now()
		files, err := query()
		lat = append(lat, time.Since(start))
		if err != nil {
			if errors.Is(err, ErrNotFound) && len(seen) == 0 {
				continue // the writer has not created catalog.db yet
			}
			failures++
			t.Errorf("query during the ingest: %v", err)
			continue
		}
		if len(seen) > 0 && files < seen[len(seen)-1] {
			t.Errorf("files went down during the ingest: %d after %d", files, seen[len(seen)-1])
		}
		seen = append(seen, files)
		if !secondWriter && files > 0 {
			secondWriter = true
			_, err := Open(dir, Options{LockTimeout: 200 * time.Millisecond})
			if !errors.Is(err, ErrLocked) {
				t.Errorf("second writer during the ingest: %v, want ErrLocked", err)
			} else if _, ok := procStartTime(os.Getpid()); ok && !strings.Contains(err.Error(), "(pid "+strconv.Itoa(os.Getpid())+")") {
				t.Errorf("second writer: %v does not name the writer's pid", err)
			}
		}
	}
	if err := <-ingestErr; err != nil {
		t.Fatal(err)
	}
	final, err := query()
	if err != nil || final != n {
		t.Fatalf("after the ingest: %d files, %v", final, err)
	}
	partial := 0
	for _, f := range seen {
		if f > 0 && f < n {
			partial++
		}
	}
	slices.Sort(lat)
	t.Logf("%d queries during the ingest, %d failed, %d saw a partial batch; latency median %s, p90 %s, max %s",
		len(lat), failures, partial, lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*9/10].Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	if partial == 0 {
		t.Errorf("no query saw the batch part-way (files seen: %v): the readers did not run during the ingest", seen)
	}
	if !secondWriter {
		t.Errorf("the second writer was never tried")
	}
}
