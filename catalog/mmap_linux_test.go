package catalog

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

// The index files are mapped asking for huge pages (hugewrite.go): the mapping carries the kernel's
// "hg" flag, so that a part of the file read back from disk comes in 2 MiB folios.
func TestMapPrivateAsksForHugePages(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("this kernel has no transparent huge pages: the advice is refused, and mapPrivate ignores that")
	}
	path := filepath.Join(t.TempDir(), "near.idx")
	if err := os.WriteFile(path, make([]byte, 3*hugeChunk), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := mapPrivate(f, 3*hugeChunk)
	if err != nil {
		t.Fatal(err)
	}
	defer unmapPrivate(data)
	start := fmt.Sprintf("%x-", uintptr(unsafe.Pointer(&data[0])))
	smaps, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer smaps.Close()
	sc := bufio.NewScanner(smaps)
	in := false // in the mapping's block, which its VmFlags line ends
	for sc.Scan() {
		line := sc.Text()
		in = in || strings.HasPrefix(line, start)
		if in && strings.HasPrefix(line, "VmFlags:") {
			if !strings.Contains(" "+line+" ", " hg ") {
				t.Fatalf("the mapping of %s lacks the huge page advice: %s", path, line)
			}
			return
		}
	}
	t.Fatalf("no mapping starting at %s in /proc/self/smaps", start)
}
