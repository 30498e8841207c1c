package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepairCommand: verify names the fix; repair remakes a deleted thumbnail and restores a
// damaged original from --from; verify then passes. A damaged original without --from is an error
// (exit 1) that says to give the file again.
func TestRepairCommand(t *testing.T) {
	cat := filepath.Join(t.TempDir(), "cat")
	if out, errOut, code := relcat(t, append([]string{"--catalog", cat, "ingest"}, sampleDirs(t)[0])...); code != exitOK {
		t.Fatalf("ingest exit %d\n%s\n%s", code, out, errOut)
	}
	src := filepath.Join(sampleDirs(t)[0], "03-dog.jpg")
	out, _, _ := relcat(t, "--catalog", cat, "--json", "lookup", src)
	sha := jsonLines(t, out)[0]["sha256"].(string)
	obj := filepath.Join(cat, "objects", sha[:2], sha)
	thumb := filepath.Join(cat, "thumbs", sha[:2], sha+".jpg")
	if err := os.Remove(thumb); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(obj, 0o644)
	if err := os.WriteFile(obj, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := relcat(t, "--catalog", cat, "verify")
	if code != exitError || !strings.Contains(out, "(fix: `relcat repair --from DIR`, DIR holding the original file)") ||
		!strings.Contains(out, "(fix: `relcat repair` makes it again from the original)") {
		t.Errorf("verify: exit %d\n%s", code, out)
	}
	out, errOut, code := relcat(t, "--catalog", cat, "repair")
	if code != exitError || !strings.Contains(out, "CANNOT    object "+sha) || !strings.Contains(out, "relcat repair --from DIR") ||
		!strings.Contains(errOut, "could not be repaired") {
		t.Errorf("repair without --from: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = relcat(t, "--catalog", cat, "repair", "--from", sampleDirs(t)[0])
	if code != exitOK || !strings.Contains(out, "repaired  object "+sha) || !strings.Contains(out, "repaired  thumbnail "+sha) {
		t.Errorf("repair --from: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, code := relcat(t, "--catalog", cat, "verify"); code != exitOK {
		t.Errorf("verify after repair: exit %d\n%s", code, out)
	}
	logOut, _, _ := relcat(t, "--catalog", cat, "--json", "log")
	if !strings.Contains(logOut, `"action":"repair"`) {
		t.Errorf("no repair log entry")
	}
}
