package service

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Security is how newsflow authenticates to its servers and encrypts the connections: the
// NEWSFLOW_NATS_*, NEWSFLOW_KAFKA_* and NEWSFLOW_ES_* credential and TLS settings (declared
// in registry_vars.go; every secret also as <VAR>_FILE). The zero value is plaintext without
// credentials (the local dev stack). docs/security.md describes every setting.
type Security struct {
	NATS  NATSSecurity
	Kafka KafkaSecurity
	ES    ESSecurity
	API   APISecurity
}

// NATSSecurity authenticates to NATS with at most one of user/password, token, credentials
// file (JWT) or NKey seed file, over TLS when the URL is tls:// or a TLS setting is given.
type NATSSecurity struct {
	User      string
	Password  string // secret
	Token     string // secret
	CredsFile string // a .creds file (JWT + NKey seed); the file is the secret
	NKeyFile  string // an NKey seed file ("SU…"); the file is the secret
	TLS       TLSFiles
}

// KafkaSecurity authenticates to Kafka with SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and
// encrypts with TLS when TLS is set (SASL_SSL); SASL without TLS is SASL_PLAINTEXT.
type KafkaSecurity struct {
	SASLMechanism string // "", PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
	Username      string
	Password      string // secret
	TLS           bool
	TLSFiles      TLSFiles
}

// ESSecurity authenticates to Elasticsearch with an API key or a username/password and trusts
// its certificate by CA file or SHA-256 fingerprint; CloudID replaces the URL (Elastic Cloud).
type ESSecurity struct {
	APIKey        string // secret: "id:key" or the encoded form Elasticsearch returns
	Username      string
	Password      string // secret
	CAFile        string
	CAFingerprint string // hex SHA-256 of the server or CA certificate, colons allowed
	CloudID       string
	TLS           TLSFiles // client certificate and server name (CAFile above)
}

// LoadSecurity reads the Security settings through e (errors are collected in e).
func LoadSecurity(e *Env) Security {
	var s Security
	n := &s.NATS
	n.User = e.String("NEWSFLOW_NATS_USER", "")
	n.Password = e.String("NEWSFLOW_NATS_PASSWORD", "")
	n.Token = e.String("NEWSFLOW_NATS_TOKEN", "")
	n.CredsFile = e.String("NEWSFLOW_NATS_CREDS_FILE", "")
	n.NKeyFile = e.String("NEWSFLOW_NATS_NKEY_SEED_FILE", "")
	n.TLS = loadTLSFiles(e, natsTLSVars)
	k := &s.Kafka
	k.SASLMechanism = strings.ToUpper(e.String("NEWSFLOW_KAFKA_SASL_MECHANISM", ""))
	k.Username = e.String("NEWSFLOW_KAFKA_SASL_USERNAME", "")
	k.Password = e.String("NEWSFLOW_KAFKA_SASL_PASSWORD", "")
	k.TLSFiles = loadTLSFiles(e, kafkaTLSVars)
	k.TLSFiles.InsecureSkipVerify = e.Bool("NEWSFLOW_KAFKA_TLS_INSECURE_SKIP_VERIFY", false)
	k.TLS = e.Bool("NEWSFLOW_KAFKA_TLS", false) || k.TLSFiles.set()
	es := &s.ES
	es.APIKey = e.String("NEWSFLOW_ES_API_KEY", "")
	es.Username = e.String("NEWSFLOW_ES_USERNAME", "")
	es.Password = e.String("NEWSFLOW_ES_PASSWORD", "")
	es.CAFingerprint = e.String("NEWSFLOW_ES_CA_FINGERPRINT", "")
	es.CloudID = e.String("NEWSFLOW_ES_CLOUD_ID", "")
	es.TLS = loadTLSFiles(e, esTLSVars)
	es.CAFile = es.TLS.CAFile
	s.API = loadAPISecurity(e)
	return s
}

// tlsVars names the variables of one server kind's TLSFiles.
type tlsVars struct{ CA, Cert, Key, ServerName string }

var (
	natsTLSVars  = tlsVars{"NEWSFLOW_NATS_TLS_CA_FILE", "NEWSFLOW_NATS_TLS_CERT_FILE", "NEWSFLOW_NATS_TLS_KEY_FILE", "NEWSFLOW_NATS_TLS_SERVER_NAME"}
	kafkaTLSVars = tlsVars{"NEWSFLOW_KAFKA_TLS_CA_FILE", "NEWSFLOW_KAFKA_TLS_CERT_FILE", "NEWSFLOW_KAFKA_TLS_KEY_FILE", "NEWSFLOW_KAFKA_TLS_SERVER_NAME"}
	esTLSVars    = tlsVars{"NEWSFLOW_ES_CA_FILE", "NEWSFLOW_ES_TLS_CERT_FILE", "NEWSFLOW_ES_TLS_KEY_FILE", "NEWSFLOW_ES_TLS_SERVER_NAME"}
)

func loadTLSFiles(e *Env, v tlsVars) TLSFiles {
	return TLSFiles{
		CAFile:     e.String(v.CA, ""),
		CertFile:   e.String(v.Cert, ""),
		KeyFile:    e.String(v.Key, ""),
		ServerName: e.String(v.ServerName, ""),
	}
}

// Validate reports contradictory settings and files that cannot be read, naming the variable.
func (s Security) Validate() error {
	var errs []error
	n := s.NATS
	count := 0
	for _, set := range []bool{n.User != "" || n.Password != "", n.Token != "", n.CredsFile != "", n.NKeyFile != ""} {
		if set {
			count++
		}
	}
	if count > 1 {
		errs = append(errs, errors.New("NATS: set one of NEWSFLOW_NATS_USER/PASSWORD, NEWSFLOW_NATS_TOKEN, NEWSFLOW_NATS_CREDS_FILE, NEWSFLOW_NATS_NKEY_SEED_FILE"))
	}
	if (n.User == "") != (n.Password == "") {
		errs = append(errs, errors.New("NATS: NEWSFLOW_NATS_USER and NEWSFLOW_NATS_PASSWORD go together"))
	}
	errs = append(errs, readable("NEWSFLOW_NATS_CREDS_FILE", n.CredsFile), readable("NEWSFLOW_NATS_NKEY_SEED_FILE", n.NKeyFile))
	errs = append(errs, n.TLS.validate(natsTLSVars))
	k := s.Kafka
	switch k.SASLMechanism {
	case "":
		if k.Username != "" || k.Password != "" {
			errs = append(errs, errors.New("Kafka: NEWSFLOW_KAFKA_SASL_USERNAME/PASSWORD need NEWSFLOW_KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)"))
		}
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if k.Username == "" || k.Password == "" {
			errs = append(errs, fmt.Errorf("Kafka: NEWSFLOW_KAFKA_SASL_MECHANISM=%s needs NEWSFLOW_KAFKA_SASL_USERNAME and NEWSFLOW_KAFKA_SASL_PASSWORD", k.SASLMechanism))
		}
	default:
		errs = append(errs, fmt.Errorf("Kafka: NEWSFLOW_KAFKA_SASL_MECHANISM=%q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", k.SASLMechanism))
	}
	errs = append(errs, k.TLSFiles.validate(kafkaTLSVars))
	es := s.ES
	if es.APIKey != "" && (es.Username != "" || es.Password != "") {
		errs = append(errs, errors.New("Elasticsearch: set NEWSFLOW_ES_API_KEY or NEWSFLOW_ES_USERNAME/PASSWORD, not both"))
	}
	if (es.Username == "") != (es.Password == "") {
		errs = append(errs, errors.New("Elasticsearch: NEWSFLOW_ES_USERNAME and NEWSFLOW_ES_PASSWORD go together"))
	}
	if es.CAFile != "" && es.CAFingerprint != "" {
		errs = append(errs, errors.New("Elasticsearch: set NEWSFLOW_ES_CA_FILE or NEWSFLOW_ES_CA_FINGERPRINT, not both"))
	}
	if fp := normFingerprint(es.CAFingerprint); es.CAFingerprint != "" && (len(fp) != 64 || strings.Trim(fp, "0123456789abcdef") != "") {
		errs = append(errs, errors.New("Elasticsearch: NEWSFLOW_ES_CA_FINGERPRINT: want the 64 hex digits of a SHA-256 fingerprint"))
	}
	errs = append(errs, es.TLS.validate(esTLSVars))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("security settings: %w", err)
	}
	return nil
}

// readable checks that the file a variable names exists and can be read (not its contents).
func readable(variable, path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("%s=%s: %w", variable, path, err)
	}
	return f.Close()
}

// Secrets returns every secret value of s (passwords, tokens, keys, and the contents of the
// credentials and seed files), for redact.Error.
func (s Security) Secrets() []string {
	out := []string{s.NATS.Password, s.NATS.Token, s.Kafka.Password, s.ES.Password, s.ES.APIKey, s.API.Token}
	if id, key, ok := strings.Cut(s.ES.APIKey, ":"); ok {
		out = append(out, key, base64.StdEncoding.EncodeToString([]byte(id+":"+key)))
	} else if dec, err := base64.StdEncoding.DecodeString(s.ES.APIKey); err == nil {
		if _, key, ok := strings.Cut(string(dec), ":"); ok {
			out = append(out, key)
		}
	}
	for _, f := range []string{s.NATS.CredsFile, s.NATS.NKeyFile} {
		if f == "" {
			continue
		}
		if b, err := os.ReadFile(f); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if line = strings.TrimSpace(line); len(line) >= 16 && !strings.HasPrefix(line, "-") {
					out = append(out, line)
				}
			}
		}
	}
	var keep []string
	for _, v := range out {
		if len(v) >= 4 { // shorter "secrets" would mask ordinary words
			keep = append(keep, v)
		}
	}
	return keep
}

// Options returns the nats.go options of s: credentials and TLS.
func (n NATSSecurity) Options() ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case n.User != "":
		opts = append(opts, nats.UserInfo(n.User, n.Password))
	case n.Token != "":
		opts = append(opts, nats.Token(n.Token))
	case n.CredsFile != "":
		opts = append(opts, nats.UserCredentials(n.CredsFile))
	case n.NKeyFile != "":
		o, err := nats.NkeyOptionFromSeed(n.NKeyFile)
		if err != nil {
			return nil, &ConnError{Server: "nats", Mechanism: n.Describe(), What: "NKey seed file unreadable", Err: err}
		}
		opts = append(opts, o)
	}
	if n.TLS.set() {
		cfg, err := n.TLS.Config()
		if err != nil {
			return nil, &ConnError{Server: "nats", Mechanism: n.Describe(), What: "TLS settings", Err: err}
		}
		opts = append(opts, nats.Secure(cfg))
	}
	return opts, nil
}

// Describe describes how s authenticates, for error messages (no secret in it).
func (n NATSSecurity) Describe() string {
	m := "no credentials"
	switch {
	case n.User != "":
		m = fmt.Sprintf("user/password (user %q)", n.User)
	case n.Token != "":
		m = "token"
	case n.CredsFile != "":
		m = "credentials file " + n.CredsFile
	case n.NKeyFile != "":
		m = "NKey seed file " + n.NKeyFile
	}
	return m + n.TLS.describe(true)
}

// SASL returns the kafka-go SASL mechanism of k (nil without SASL).
func (k KafkaSecurity) SASL() (sasl.Mechanism, error) {
	switch k.SASLMechanism {
	case "":
		return nil, nil
	case "PLAIN":
		return plain.Mechanism{Username: k.Username, Password: k.Password}, nil
	case "SCRAM-SHA-256":
		return scram.Mechanism(scram.SHA256, k.Username, k.Password)
	case "SCRAM-SHA-512":
		return scram.Mechanism(scram.SHA512, k.Username, k.Password)
	}
	return nil, fmt.Errorf("NEWSFLOW_KAFKA_SASL_MECHANISM=%q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", k.SASLMechanism)
}

// Describe describes how k authenticates, for error messages (no secret in it).
func (k KafkaSecurity) Describe() string {
	m := "no SASL"
	if k.SASLMechanism != "" {
		m = fmt.Sprintf("SASL %s (user %q)", k.SASLMechanism, k.Username)
	}
	return m + k.TLSFiles.describe(k.TLS)
}

// Describe describes how s authenticates, for error messages (no secret in it).
func (s ESSecurity) Describe() string {
	m := "no credentials"
	switch {
	case s.APIKey != "":
		m = "API key"
		if id, _, ok := strings.Cut(s.APIKey, ":"); ok {
			m = fmt.Sprintf("API key (id %s)", id)
		}
	case s.Username != "":
		m = fmt.Sprintf("username/password (user %q)", s.Username)
	}
	if s.CAFingerprint != "" {
		return m + ", TLS trusting fingerprint " + normFingerprint(s.CAFingerprint)[:12] + "…"
	}
	return m + s.TLS.describe(false)
}

// EncodedAPIKey returns the API key in the encoded form of the Authorization header: an
// "id:key" pair is base64-encoded, an encoded key is returned as it is.
func (s ESSecurity) EncodedAPIKey() string {
	if strings.Contains(s.APIKey, ":") {
		return base64.StdEncoding.EncodeToString([]byte(s.APIKey))
	}
	return s.APIKey
}

func normFingerprint(fp string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(fp), ":", ""))
}

// NormalizedFingerprint is CAFingerprint without colons, in lower case.
func (s ESSecurity) NormalizedFingerprint() string { return normFingerprint(s.CAFingerprint) }

// SecurityFromEnv reads and validates the Security settings alone (the CLI commands that talk
// to one server without a service Config).
func SecurityFromEnv(getenv func(string) string) (Security, error) {
	e := &Env{Get: getenv}
	s := LoadSecurity(e)
	if err := errors.Join(e.Err(), s.Validate()); err != nil {
		return s, err
	}
	return s, nil
}
