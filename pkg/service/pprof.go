package service

import (
	"net/http"
	"net/http/pprof"
)

// servePProf adds Go's profiling endpoints (/debug/pprof/: profile, heap, allocs, goroutine,
// trace, …) to mux. Off unless NEWSFLOW_PPROF is set: they expose the process's internals
// and a CPU profile costs a few percent while it runs. `make bench-e2e` (-pprof DIR) takes
// each stage's CPU and allocation profiles through them; by hand:
//
//	go tool pprof -top http://127.0.0.1:8080/debug/pprof/profile?seconds=30
//	go tool pprof -sample_index=alloc_space -top http://127.0.0.1:8080/debug/pprof/allocs
func servePProf(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
