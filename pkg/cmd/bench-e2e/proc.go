package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ (100 on Linux everywhere it matters).
const clockTicks = 100

// procCPU returns a process's own user+system CPU time from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // comm may contain spaces
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks, true
}

// procPPID returns a process's parent pid.
func procPPID(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

// procHWM returns a process's peak resident set size (VmHWM) in bytes.
func procHWM(pid int) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// tree samples the CPU time and peak RSS of a process and all its descendants (news-please
// runs its crawlers in child processes) until stopped; exited processes keep their last
// sample.
type tree struct {
	root int
	mu   sync.Mutex
	cpu  map[int]time.Duration
	hwm  map[int]int64
	stop chan struct{}
	done chan struct{}
}

func watchTree(root int) *tree {
	t := &tree{root: root, cpu: map[int]time.Duration{}, hwm: map[int]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		tk := time.NewTicker(200 * time.Millisecond)
		defer tk.Stop()
		for {
			t.sample()
			select {
			case <-t.stop:
				return
			case <-tk.C:
			}
		}
	}()
	return t
}

func (t *tree) sample() {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	parent := map[int]int{}
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			parent[pid] = procPPID(pid)
		}
	}
	in := func(pid int) bool {
		for p := pid; p > 1; p = parent[p] {
			if p == t.root {
				return true
			}
		}
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for pid := range parent {
		if !in(pid) {
			continue
		}
		if c, ok := procCPU(pid); ok && c >= t.cpu[pid] {
			t.cpu[pid] = c
		}
		if h := procHWM(pid); h > t.hwm[pid] {
			t.hwm[pid] = h
		}
	}
}

// Stop ends sampling and returns total CPU and the largest single-process peak RSS.
func (t *tree) Stop() (time.Duration, int64) {
	t.sample()
	close(t.stop)
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	var cpu time.Duration
	var hwm int64
	for _, c := range t.cpu {
		cpu += c
	}
	for _, h := range t.hwm {
		hwm = max(hwm, h)
	}
	return cpu, hwm
}

// Snapshot returns the CPU sampled so far.
func (t *tree) Snapshot() time.Duration {
	t.sample()
	t.mu.Lock()
	defer t.mu.Unlock()
	var cpu time.Duration
	for _, c := range t.cpu {
		cpu += c
	}
	return cpu
}

// treeCPU is the CPU time of a process and all its descendants, sampled once.
func treeCPU(root int) time.Duration {
	t := &tree{root: root, cpu: map[int]time.Duration{}, hwm: map[int]int64{}}
	t.sample()
	var cpu time.Duration
	for _, c := range t.cpu {
		cpu += c
	}
	return cpu
}

// loadavg is the box's 1-minute load average (/proc/loadavg), "?" when unreadable.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
