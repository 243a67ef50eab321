package service

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/kafka-go"
)

func TestClassifyConn(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string // prefix of the classification; "" for not a security failure
	}{
		{"unknown authority", fmt.Errorf("connect: %w", x509.UnknownAuthorityError{}), "server certificate not trusted"},
		{"hostname", fmt.Errorf("connect: %w", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "h"}), "server certificate does not match"},
		{"nats authorization", fmt.Errorf("natsbus: %w", nats.ErrAuthorization), "credentials rejected"},
		{"kafka SASL", fmt.Errorf("metadata: %w", kafka.SASLAuthenticationFailed), "SASL authentication failed"},
		{"nats tls error", errors.New("nats: tls error: connection closed by remote after TLS handshake: write: broken pipe"), "TLS handshake failed"},
		{"plaintext to TLS port", fmt.Errorf("x: %w", io.ErrUnexpectedEOF), "connection closed by the server during the handshake"},
		{"refused", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), ""},
		{"timeout", errors.New("context deadline exceeded"), ""},
		{"nil", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := classifyConn(tc.err)
			if (tc.want == "") != (got == "") || !strings.HasPrefix(got, tc.want) {
				t.Errorf("classifyConn(%v) = %q, want prefix %q", tc.err, got, tc.want)
			}
		})
	}
}
