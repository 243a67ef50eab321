package service

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/kafka-go"
)

// TLSFiles are the TLS settings of one server kind: the CA that signs the server's
// certificate (empty: the system roots), a client certificate and key (mTLS), the name the
// server's certificate must carry (empty: the host dialled) and, for Kafka only, skipping
// verification.
type TLSFiles struct {
	CAFile             string
	CertFile           string
	KeyFile            string
	ServerName         string
	InsecureSkipVerify bool
}

func (t TLSFiles) set() bool {
	return t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.InsecureSkipVerify
}

// validate reports unreadable files and a certificate without its key, naming the variables.
func (t TLSFiles) validate(v tlsVars) error {
	var errs []error
	if (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, fmt.Errorf("%s and %s go together", v.Cert, v.Key))
	}
	errs = append(errs, readable(v.CA, t.CAFile), readable(v.Cert, t.CertFile), readable(v.Key, t.KeyFile))
	return errors.Join(errs...)
}

// Config loads the files into a tls.Config (TLS 1.2 at least).
func (t TLSFiles) Config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // only when asked, with a warning
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s / key %s: %w", t.CertFile, t.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// describe is the TLS part of a mechanism description: ", TLS (CA …, client certificate …)".
func (t TLSFiles) describe(on bool) string {
	if !on && !t.set() {
		return ""
	}
	var parts []string
	if t.CAFile != "" {
		parts = append(parts, "CA "+t.CAFile)
	} else {
		parts = append(parts, "system CAs")
	}
	if t.CertFile != "" {
		parts = append(parts, "client certificate "+t.CertFile)
	}
	if t.ServerName != "" {
		parts = append(parts, "server name "+t.ServerName)
	}
	if t.InsecureSkipVerify {
		parts = append(parts, "certificate NOT verified")
	}
	return ", TLS (" + strings.Join(parts, ", ") + ")"
}

// ConnError is a failure to connect to a server that configuration must fix: credentials
// rejected, a certificate not trusted, a file missing. Its message is one line naming the
// server, the mechanism and what failed, and it carries no secret. Services exit 2 on it at
// start (ExitCode).
type ConnError struct {
	Server    string // "nats tls://127.0.0.1:4222", "kafka 10.0.0.1:9093", "elasticsearch https://…"
	Mechanism string // NATSSecurity.Describe() and friends
	What      string // "credentials rejected", "server certificate not trusted", …
	Err       error
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("%s: %s (using %s): %v", e.Server, e.What, e.Mechanism, oneLine(e.Err))
}

func (e *ConnError) Unwrap() error { return e.Err }

func oneLine(err error) string {
	if err == nil {
		return "no detail"
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// IsConnError reports whether err is (or wraps) a ConnError: a configuration problem.
func IsConnError(err error) bool {
	var ce *ConnError
	return errors.As(err, &ce)
}

// classifyConn names what failed when err is a security failure (credentials, certificate,
// TLS), or returns "" for other failures (server down, timeouts).
func classifyConn(err error) string {
	if err == nil {
		return ""
	}
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		recErr   tls.RecordHeaderError
		alert    tls.AlertError
	)
	msg := strings.ToLower(err.Error())
	switch {
	case errors.As(err, &unknown) || strings.Contains(msg, "certificate signed by unknown authority"):
		return "server certificate not trusted (certificate signed by an unknown authority: set the CA file)"
	case errors.As(err, &hostname):
		return "server certificate does not match the host name (set the server name)"
	case errors.As(err, &invalid) || errors.As(err, &verify):
		return "server certificate rejected"
	case errors.Is(err, nats.ErrAuthorization) || strings.Contains(msg, "authorization violation") || strings.Contains(msg, "authentication expired"):
		return "credentials rejected"
	case errors.Is(err, nats.ErrNoUserCB) || errors.Is(err, nats.ErrNkeysNotSupported):
		return "credentials not accepted by this server"
	case errors.Is(err, kafka.SASLAuthenticationFailed) || errors.Is(err, kafka.UnsupportedSASLMechanism) || errors.Is(err, kafka.IllegalSASLState):
		return "SASL authentication failed"
	case errors.As(err, &recErr) || strings.Contains(msg, "first record does not look like a tls handshake"):
		return "TLS handshake failed (the server does not speak TLS on this port)"
	case errors.As(err, &alert) || strings.Contains(msg, "tls: ") || strings.Contains(msg, "tls error"):
		return "TLS handshake failed (a client certificate required? the server closed the connection)"
	case errors.Is(err, nats.ErrSecureConnRequired):
		return "the server requires TLS (set a tls:// URL or a TLS setting)"
	case errors.Is(err, nats.ErrSecureConnWanted):
		return "TLS wanted but the server does not offer it"
	case strings.Contains(msg, "unexpected eof") || strings.Contains(msg, "connection reset by peer"):
		// a SASL_SSL/TLS port closing a plaintext client, or a server refusing the handshake
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			return "connection closed by the server during the handshake (TLS or SASL settings wrong?)"
		}
	}
	return ""
}

// ConnFailure returns a *ConnError naming server and mechanism when err is a security failure
// (rejected credentials, an untrusted certificate, a failed TLS handshake), else nil.
func ConnFailure(server, mechanism string, err error) error {
	if what := classifyConn(err); what != "" {
		return &ConnError{Server: server, Mechanism: mechanism, What: what, Err: err}
	}
	return nil
}
