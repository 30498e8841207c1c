package media

import (
	"go/build"
	"strings"
	"testing"
)

// TestLeaf keeps the design's arrows true: media imports no relcat package.
func TestLeaf(t *testing.T) {
	const self = "github.com/relcat/relcat/catalog/media" // the external tests import it
	const sub = self + "/jpeg"                            // its own decoder, itself a leaf
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range append(append(pkg.Imports, pkg.TestImports...), pkg.XTestImports...) {
		if strings.HasPrefix(imp, "github.com/relcat/relcat") && imp != self && imp != sub {
			t.Errorf("media imports project package %s", imp)
		}
	}
}
