// Command decodefloor reads and decodes every JPEG in a folder with Go's image/jpeg, with
// GOMAXPROCS workers as relcat ingest has: the floor bench/ingest-vs-peers.sh compares ingest with
// (ingest must read and decode every new photo once).
//
//	go run ./bench/decodefloor FOLDER
package main

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: decodefloor FOLDER")
		os.Exit(2)
	}
	paths, err := filepath.Glob(filepath.Join(os.Args[1], "*.jpg"))
	if err != nil || len(paths) == 0 {
		fmt.Fprintln(os.Stderr, "decodefloor: no JPEGs in", os.Args[1], err)
		os.Exit(1)
	}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(paths) {
					return
				}
				data, err := os.ReadFile(paths[i])
				if err == nil {
					_, err = jpeg.Decode(bytes.NewReader(data))
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, paths[i], err)
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		os.Exit(1)
	}
}
