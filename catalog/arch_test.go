package catalog

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportArrows keeps DESIGN.md's picture true: cmd -> {catalog, web}; web -> catalog -> {pdq,
// exifmeta, hindex, media, thumbs, bbolt}; the leaves import no project package; nothing imports cmd.
func TestImportArrows(t *testing.T) {
	const mod = "github.com/relcat/relcat/"
	leaves := []string{"catalog/pdq", "catalog/exifmeta", "catalog/hindex", "catalog/media", "catalog/media/jpeg", "catalog/textsafe", "thumbs"}
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		var own []string
		for _, d := range strings.Fields(string(out)) {
			if strings.HasPrefix(d, mod) && d != mod+pkg {
				own = append(own, strings.TrimPrefix(d, mod))
			}
		}
		return own
	}
	for _, leaf := range leaves {
		own := deps(leaf)
		if leaf == "catalog/media" && len(own) == 1 && own[0] == "catalog/media/jpeg" {
			continue // media's own JPEG decoder, itself a leaf
		}
		if len(own) > 0 {
			t.Errorf("%s is a leaf but imports %v", leaf, own)
		}
	}
	allowed := map[string]bool{}
	for _, l := range leaves {
		allowed[l] = true
	}
	for _, d := range deps("catalog") {
		if !allowed[d] {
			t.Errorf("catalog imports %s, which is not one of its leaves", d)
		}
	}
	// web uses catalog (and its leaves), never a command; catalog never imports web.
	webAllowed := map[string]bool{"catalog": true}
	for _, l := range leaves {
		webAllowed[l] = true
	}
	for _, d := range deps("web") {
		if !webAllowed[d] {
			t.Errorf("web imports %s: it may use only catalog and catalog's leaves", d)
		}
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}: {{join .Imports \" \"}}", mod+"...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, ":") && strings.Contains(strings.SplitN(line, ":", 2)[1], mod+"cmd/") {
			t.Errorf("a package imports a command: %s", line)
		}
	}
}
