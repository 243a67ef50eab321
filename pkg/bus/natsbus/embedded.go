package natsbus

import (
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// StartEmbedded starts an in-process nats-server with JetStream on 127.0.0.1:port (0 picks a
// free port), storing streams under dir. It returns once the server accepts connections;
// url is its client URL. The caller owns the server: Shutdown then WaitForShutdown it.
// Used by the all-in-one binary and by tests (the same real server, in-process).
func StartEmbedded(dir string, port int) (*server.Server, string, error) {
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: "newsflow-embedded",
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
		// Deliberately no HTTP monitor or cluster ports: loopback client port only.
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, "", fmt.Errorf("natsbus: embedded server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(15 * time.Second) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, "", fmt.Errorf("natsbus: embedded server on port %d not ready within 15s", port)
	}
	return s, s.ClientURL(), nil
}

// EmbeddedPort returns the TCP port an embedded server listens on (useful after port 0).
func EmbeddedPort(s *server.Server) int {
	if a, ok := s.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}
