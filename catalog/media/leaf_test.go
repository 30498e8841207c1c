package media

import (
	"go/build"
	"strings"
	"testing"
)

// TestLeaf keeps the design's arrows true: media imports no relcat package (its tests may use
// internal/hostile, the generators of hostile files, which imports none either).
func TestLeaf(t *testing.T) {
	const self = "github.com/relcat/relcat/catalog/media" // the external tests import it
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	const hostile = "github.com/relcat/relcat/internal/hostile"
	const sub = self + "/jpeg" // its own JPEG decoder, itself a leaf
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/relcat/relcat") && imp != sub {
			t.Errorf("media imports project package %s", imp)
		}
	}
	for _, imp := range append(pkg.TestImports, pkg.XTestImports...) {
		if strings.HasPrefix(imp, "github.com/relcat/relcat") && imp != self && imp != hostile {
			t.Errorf("media imports project package %s", imp)
		}
	}
}
