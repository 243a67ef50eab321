// Package nxdns is a DNS server for tests: on loopback UDP, it answers NXDOMAIN to every
// query, so tests of hosts that do not resolve (the .invalid TLD, or feed items linking to
// internet hosts) behave the same on every machine and never send a query off it.
package nxdns

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
)

// Server is a running NXDOMAIN server.
type Server struct {
	pc      net.PacketConn
	queries atomic.Int64
}

// Start starts a server that stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &Server{pc: pc}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := answer(buf[:n]); resp != nil {
				d.queries.Add(1)
				_, _ = pc.WriteTo(resp, addr)
			}
		}
	}()
	return d
}

// answer is the NXDOMAIN response to query q, nil when q is not a DNS query.
func answer(q []byte) []byte {
	n := len(q)
	if n < 12 {
		return nil
	}
	end := 12 // end of the question: QNAME labels, then QTYPE and QCLASS
	for end < n && q[end] != 0 {
		end += int(q[end]) + 1
	}
	end += 5
	if end > n {
		return nil
	}
	resp := append([]byte(nil), q[:end]...)
	resp[2] = 0x80 | q[2]&0x79 // QR, opcode and RD echoed
	resp[3] = 0x80 | 3         // RA, RCODE 3 = NXDOMAIN
	resp[4], resp[5] = 0, 1    // one question
	for i := 6; i < 12; i++ {  // no answer, authority or additional records
		resp[i] = 0
	}
	return resp
}

// Queries is the number of queries answered so far.
func (d *Server) Queries() int64 { return d.queries.Load() }

// Resolver is a resolver that asks only this server.
func (d *Server) Resolver() *net.Resolver {
	addr := d.pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "udp", addr)
	}}
}
