package catalog

import (
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
