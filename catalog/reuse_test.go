package catalog

import "testing"

// TestReuseLimits: what the workers keep between files outside the decode-memory budget (their read
// buffers and their progressive JPEGs' coefficient buffers) is at most a quarter of the budget all
// together, and with the defaults each keeps a 12 MP progressive photo's coefficients (23 MB at
// 4:2:2 decoded at 1/4).
func TestReuseLimits(t *testing.T) {
	for _, budget := range []int64{1 << 20, 64 << 20, 256 << 20, DefaultDecodeMemory, 4 << 30} {
		for _, workers := range []int{1, 2, 3, 8, 64} {
			read, dec := reuseLimit(budget, workers), decodeReuseLimit(budget, workers)
			if read < 0 || dec < 0 || int64(workers)*(read+dec) > budget/4 {
				t.Errorf("budget %d MiB, %d workers: read %d + decode %d bytes each, over a quarter of the budget", budget>>20, workers, read, dec)
			}
		}
	}
	if got := decodeReuseLimit(DefaultDecodeMemory, 2); got < 23<<20 {
		t.Errorf("defaults on 2 cores: %d bytes of coefficient buffers kept, want room for 23 MB", got)
	}
}
