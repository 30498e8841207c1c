package catalog

import (
	"encoding/json"
	"testing"
	"time"
)

// batches --limit at a million images orders every batch record: batchKeyOf reads the three fields
// directly, and must give what json.Unmarshal gives, whatever the free text holds.
func TestBatchKeyOf(t *testing.T) {
	rel, _ := ParseReleased("2019-11-02T07:30:00Z")
	day, _ := ParseReleased("2019-11-02")
	ing := time.Date(2020, 1, 2, 3, 4, 5, 678901234, time.UTC)
	cases := []struct {
		b    Batch
		scan bool // read directly (else through json.Unmarshal)
	}{
		{Batch{Affiliate: "is-sinai", Released: rel, Folder: "f", Ingested: ing, Files: 3}, true},
		{Batch{Affiliate: "is-sinai", Released: day, Title: `x "released":"1999-01-01" "ingested":"2001-01-01T00:00:00Z"`,
			Notes: `\"ingested\":\"`, Folder: `"affiliate":"evil"`, Ingested: ing}, true},
		{Batch{Affiliate: `odd"slug\`, Released: rel, Ingested: ing}, false},
		{Batch{Affiliate: "a", Ingested: ing}, false}, // no release time
	}
	for _, tc := range cases {
		v, err := json.Marshal(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		var want batchKey
		if err := json.Unmarshal(v, &want); err != nil {
			t.Fatal(err)
		}
		_, scanned := scanBatchKey(v)
		got, err := batchKeyOf(v)
		if err != nil || scanned != tc.scan || got.Affiliate != want.Affiliate || got.Released != want.Released || !got.Ingested.Equal(want.Ingested) {
			t.Errorf("%s: got %+v (scanned %v, %v), want %+v (scanned %v)", v, got, scanned, err, want, tc.scan)
		}
	}
	if _, err := batchKeyOf([]byte(`{"affiliate":"a","released":"not a date","ingested":"x"}`)); err == nil {
		t.Error("a record that does not read gives no error")
	}
}
