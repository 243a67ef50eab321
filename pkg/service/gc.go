package service

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// TuneGC sets the garbage collector for a CPU-bound pipeline process: when GOGC is not set it
// raises the GC target to gcPercent (extraction and enrichment allocate many short-lived
// objects; a larger target runs the collector less often for a larger heap). When GOMEMLIMIT
// is not set either and the process runs under a cgroup v2 memory limit (a container), it
// also sets a soft memory limit of 80 % of that, so the larger heap makes the collector work
// harder near the limit instead of getting the process OOM-killed. GOGC or GOMEMLIMIT set in
// the environment always win.
func TuneGC(getenv func(string) string, gcPercent int) {
	tuneGC(getenv, gcPercent, os.ReadFile, debug.SetGCPercent, debug.SetMemoryLimit)
}

func tuneGC(getenv func(string) string, gcPercent int, readFile func(string) ([]byte, error),
	setPercent func(int) int, setLimit func(int64) int64) {
	if getenv("GOGC") != "" {
		return
	}
	setPercent(gcPercent)
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	if limit := cgroupMemoryLimit(readFile); limit > 0 {
		setLimit(limit / 10 * 8)
	}
}

// cgroupMemoryLimit is the cgroup v2 memory.max of this process in bytes, 0 when there is
// none ("max", cgroup v1, not Linux).
func cgroupMemoryLimit(readFile func(string) ([]byte, error)) int64 {
	b, err := readFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
