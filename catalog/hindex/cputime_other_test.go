//go:build !unix

package hindex

import "time"

func cpuTime() time.Duration { return 0 }
