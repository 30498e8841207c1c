package jpeg

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"sort"
	"testing"
)

// planes returns the sample planes of a decoded image, for exact comparison.
func planes(img image.Image) [][]uint8 {
	switch m := img.(type) {
	case *image.YCbCr:
		return [][]uint8{m.Y, m.Cb, m.Cr}
	case *image.Gray:
		return [][]uint8{m.Pix}
	case *image.RGBA:
		return [][]uint8{m.Pix}
	case *image.CMYK:
		return [][]uint8{m.Pix}
	}
	panic(fmt.Sprintf("unexpected %T", img))
}

// TestCompactLayoutAndReusedBuffers: a reduced decode of every progressive test file keeps only the
// AC coefficients its inverse DCT reads (acLayouts), at 1/4 transforms them sparsely
// (idct2Sparse), and gives exactly the samples of a decode keeping all 63 through idct2; and a decode into Buffers left dirty by other files (their slots overwritten
// with garbage) gives exactly the samples of a decode into fresh buffers.
func TestCompactLayoutAndReusedBuffers(t *testing.T) {
	files := testFiles(t)
	var names []string
	for name, data := range files {
		if cfg, err := DecodeConfig(data); err == nil && cfg.Progressive {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) < 8 {
		t.Fatalf("only %d progressive test files", len(names))
	}
	var bufs Buffers
	for _, s := range []int{1, 2, 4, 8} {
		for _, name := range names {
			data := files[name]
			fresh, err := Decode(context.Background(), data, Options{Scale: s})
			if err != nil {
				t.Fatalf("%s at 1/%d: %v", name, s, err)
			}
			// Every AC coefficient kept, as before the compact layout, and the 1/4 inverse
			// DCT through a natural-order block (idct2), not idct2Sparse.
			saved := acLayouts[8/s]
			acLayouts[8/s], sparseIDCT2 = acLayouts[8], false
			full, err := Decode(context.Background(), data, Options{Scale: s})
			acLayouts[8/s], sparseIDCT2 = saved, true
			if err != nil {
				t.Fatalf("%s at 1/%d, full layout: %v", name, s, err)
			}
			for i := range bufs.coef {
				bufs.coef[i] = int16(0x5a5a ^ i)
			}
			reused, err := Decode(context.Background(), data, Options{Scale: s, Buffers: &bufs})
			if err != nil {
				t.Fatalf("%s at 1/%d, reused buffers: %v", name, s, err)
			}
			if bufs.Size() == 0 {
				t.Fatalf("%s: the buffers were not kept", name)
			}
			want := planes(full)
			for what, img := range map[string]image.Image{"compact layout": fresh, "reused buffers": reused} {
				got := planes(img)
				for p := range want {
					if !bytes.Equal(got[p], want[p]) {
						t.Errorf("%s at 1/%d, %s: plane %d differs from the full layout's decode", name, s, what, p)
					}
				}
			}
		}
	}
	// The layouts keep what idct reads: every coefficient at full size, none but DC at 1/8.
	if acLayouts[8].stride != 63 || acLayouts[4].stride != 49 || acLayouts[2].stride != 25 || acLayouts[1].stride != 1 {
		t.Errorf("strides %d %d %d %d, want 63 49 25 1", acLayouts[8].stride, acLayouts[4].stride, acLayouts[2].stride, acLayouts[1].stride)
	}
}
