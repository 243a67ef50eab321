package service

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSecurity(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pwFile := write("pw", "file-password-1\n")
	seed := write("seed", "SUAEXAMPLESEEDEXAMPLESEEDEXAMPLESEEDEXAMPLESEEDEXAMPLE\n")
	ca := write("ca.pem", "not a certificate")
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // substrings; nil: valid
		check   func(t *testing.T, s Security)
	}{
		{name: "nothing: plaintext", env: map[string]string{}, check: func(t *testing.T, s Security) {
			if s.Kafka.TLS || s.NATS.TLS.set() || s.Kafka.SASLMechanism != "" {
				t.Errorf("%+v", s)
			}
		}},
		{name: "password from a file", env: map[string]string{"NEWSFLOW_NATS_USER": "u", "NEWSFLOW_NATS_PASSWORD_FILE": pwFile},
			check: func(t *testing.T, s Security) {
				if s.NATS.Password != "file-password-1" {
					t.Errorf("password %q", s.NATS.Password)
				}
			}},
		{name: "password and its file", env: map[string]string{"NEWSFLOW_NATS_USER": "u", "NEWSFLOW_NATS_PASSWORD": "x", "NEWSFLOW_NATS_PASSWORD_FILE": pwFile},
			wantErr: []string{"NEWSFLOW_NATS_PASSWORD and NEWSFLOW_NATS_PASSWORD_FILE are both set"}},
		{name: "two NATS mechanisms", env: map[string]string{"NEWSFLOW_NATS_TOKEN": "tok-1234", "NEWSFLOW_NATS_NKEY_SEED_FILE": seed},
			wantErr: []string{"set one of"}},
		{name: "user without password", env: map[string]string{"NEWSFLOW_NATS_USER": "u"}, wantErr: []string{"go together"}},
		{name: "kafka SCRAM", env: map[string]string{"NEWSFLOW_KAFKA_SASL_MECHANISM": "scram-sha-512", "NEWSFLOW_KAFKA_SASL_USERNAME": "u", "NEWSFLOW_KAFKA_SASL_PASSWORD": "p-1234"},
			check: func(t *testing.T, s Security) {
				m, err := s.Kafka.SASL()
				if err != nil || m.Name() != "SCRAM-SHA-512" {
					t.Errorf("SASL %v %v", m, err)
				}
				if s.Kafka.TLS {
					t.Error("TLS on without a TLS setting")
				}
			}},
		{name: "kafka unknown mechanism", env: map[string]string{"NEWSFLOW_KAFKA_SASL_MECHANISM": "GSSAPI", "NEWSFLOW_KAFKA_SASL_USERNAME": "u", "NEWSFLOW_KAFKA_SASL_PASSWORD": "p"},
			wantErr: []string{`NEWSFLOW_KAFKA_SASL_MECHANISM="GSSAPI"`}},
		{name: "kafka mechanism without password", env: map[string]string{"NEWSFLOW_KAFKA_SASL_MECHANISM": "PLAIN"}, wantErr: []string{"needs NEWSFLOW_KAFKA_SASL_USERNAME"}},
		{name: "kafka CA turns TLS on", env: map[string]string{"NEWSFLOW_KAFKA_TLS_CA_FILE": ca}, check: func(t *testing.T, s Security) {
			if !s.Kafka.TLS {
				t.Error("TLS off")
			}
			if _, err := s.Kafka.TLSFiles.Config(); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
				t.Errorf("Config() error %v", err)
			}
		}},
		{name: "kafka cert without key", env: map[string]string{"NEWSFLOW_KAFKA_TLS_CERT_FILE": ca}, wantErr: []string{"NEWSFLOW_KAFKA_TLS_CERT_FILE and NEWSFLOW_KAFKA_TLS_KEY_FILE go together"}},
		{name: "missing CA file", env: map[string]string{"NEWSFLOW_ES_CA_FILE": filepath.Join(dir, "nope.pem")},
			wantErr: []string{"NEWSFLOW_ES_CA_FILE=" + filepath.Join(dir, "nope.pem"), "no such file"}},
		{name: "es api key and password", env: map[string]string{"NEWSFLOW_ES_API_KEY": "id:key", "NEWSFLOW_ES_USERNAME": "u", "NEWSFLOW_ES_PASSWORD": "p"},
			wantErr: []string{"not both"}},
		{name: "es bad fingerprint", env: map[string]string{"NEWSFLOW_ES_CA_FINGERPRINT": "abc"}, wantErr: []string{"64 hex digits"}},
		{name: "es fingerprint with colons", env: map[string]string{"NEWSFLOW_ES_CA_FINGERPRINT": strings.Repeat("AB:", 31) + "AB"},
			check: func(t *testing.T, s Security) {
				if got := s.ES.NormalizedFingerprint(); got != strings.Repeat("ab", 32) {
					t.Errorf("fingerprint %q", got)
				}
			}},
		{name: "api token file", env: map[string]string{"NEWSFLOW_API_TOKEN_FILE": pwFile, "NEWSFLOW_METRICS_ADDR": "127.0.0.1:9100"},
			check: func(t *testing.T, s Security) {
				if s.API.Token != "file-password-1" || s.API.MetricsAddr != "127.0.0.1:9100" {
					t.Errorf("%+v", s.API)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := SecurityFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if tc.check != nil {
					tc.check(t, s)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, v := range tc.env {
				if strings.Contains(v, "p-1234") || strings.Contains(v, "tok-1234") {
					if strings.Contains(err.Error(), v) {
						t.Errorf("error contains a secret: %q", err)
					}
				}
			}
		})
	}
}

func TestESAPIKeyAndSecrets(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString([]byte("VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"))
	tests := []struct {
		name, key, wantEncoded string
	}{
		{"id:key", "VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw", enc},
		{"encoded", enc, enc},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Security{ES: ESSecurity{APIKey: tc.key}}
			if got := s.ES.EncodedAPIKey(); got != tc.wantEncoded {
				t.Errorf("EncodedAPIKey = %q, want %q", got, tc.wantEncoded)
			}
			secrets := strings.Join(s.Secrets(), "\n")
			for _, want := range []string{"ui2lp2axTNmsyakw9tvNnw", enc} {
				if !strings.Contains(secrets, want) {
					t.Errorf("Secrets() misses %q", want)
				}
			}
			if strings.Contains(s.ES.Describe(), "ui2lp2ax") {
				t.Errorf("Describe shows the key: %s", s.ES.Describe())
			}
		})
	}
}
