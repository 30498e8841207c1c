package catalog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseReleaseInfo: a release.json comes with the release, from whoever published or collected
// it. ParseReleaseInfo must never panic; what it accepts must survive a round trip through its own
// JSON form; and when the info normalises, the canonical release time must parse back to itself
// (it is stored as text in the batch record and in the batch identity).
func FuzzParseReleaseInfo(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "samples", "releases", "*", ReleaseFileName))
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		`{"affiliate":"is-sinai","released":"2019-11-02"}`,
		`{"affiliate":"IS-Sinai ","released":" 2019-11-02T07:30:00+03:00","title":"t","notes":"n","source":"s"}`,
		`{"afiliate":"typo"}`,
		`{"affiliate":"a"} {"affiliate":"b"}`,
		`{"affiliate":"a"} trailing`,
		`{"Affiliate":"a","AFFILIATE":"b","released":"0000-01-01T00:30:00+01:00"}`,
		`{"released":"9999-12-31T23:59:59-23:59"}`,
		`{"title":"\u001b[31m\u202e<script>","notes":"\ud800"}`,
		"{\"title\":\"\xff\xfe\"}",
		`[]`, `null`, `""`, `{}`, `{"affiliate":null}`, `{"affiliate":1}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ri, err := ParseReleaseInfo(data)
		if err != nil {
			if ri != (ReleaseInfo{}) {
				t.Fatalf("error %v with a non-empty result %+v", err, ri)
			}
			return
		}
		enc, err := json.Marshal(ri)
		if err != nil {
			t.Fatalf("marshal %+v: %v", ri, err)
		}
		if len(enc) <= maxReleaseFile {
			back, err := ParseReleaseInfo(enc)
			if err != nil {
				t.Fatalf("own output %s rejected: %v", enc, err)
			}
			if back != ri {
				t.Fatalf("round trip: %+v -> %s -> %+v", ri, enc, back)
			}
		}
		aff, rel, err := ri.normalise("dir")
		if err != nil {
			return
		}
		if !ValidSlug(aff) {
			t.Fatalf("normalised affiliate %q is not a slug", aff)
		}
		text := rel.String()
		again, err := ParseReleased(text)
		if err != nil {
			t.Fatalf("release time %q normalises to %q, which does not parse: %v", ri.Released, text, err)
		}
		if !again.Time.Equal(rel.Time) || again.DateOnly != rel.DateOnly || again.String() != text {
			t.Fatalf("release time %q -> %q -> %q", ri.Released, text, again.String())
		}
		var viaJSON Released
		if err := viaJSON.UnmarshalText([]byte(text)); err != nil || !viaJSON.Time.Equal(again.Time) || viaJSON.DateOnly != again.DateOnly {
			t.Fatalf("release time %q: stored text %q does not read back: %v", ri.Released, text, err)
		}
	})
}
