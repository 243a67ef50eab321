// Package esclient builds the Elasticsearch client of the stages that use one (the indexer,
// the fetcher's Elasticsearch state store) and `newsflow` commands: credentials, TLS and
// the authentication check.
package esclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/newsflow/newsflow/pkg/internal/redact"
	"github.com/newsflow/newsflow/pkg/service"
)

// New builds the official client for url (or sec.CloudID) with the credentials and
// TLS settings of sec (it refuses servers that are not Elasticsearch).
func New(url string, sec service.ESSecurity) (*elasticsearch.Client, error) {
	return NewOver(url, sec, nil)
}

// NewOver is New over tr (nil: a clone of http.DefaultTransport).
func NewOver(url string, sec service.ESSecurity, tr *http.Transport) (*elasticsearch.Client, error) {
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	secrets := append(redact.Credentials(url), service.Security{ES: sec}.Secrets()...)
	cfg := elasticsearch.Config{
		MaxRetries:             2,
		Transport:              tr,
		APIKey:                 sec.EncodedAPIKey(),
		Username:               sec.Username,
		Password:               sec.Password,
		CloudID:                sec.CloudID,
		CertificateFingerprint: sec.NormalizedFingerprint(),
	}
	if sec.CloudID == "" {
		cfg.Addresses = []string{url}
	}
	if sec.CAFingerprint == "" && (sec.TLS.CAFile != "" || sec.TLS.CertFile != "" || sec.TLS.ServerName != "") {
		tc, err := sec.TLS.Config()
		if err != nil {
			return nil, &service.ConnError{Server: "elasticsearch " + Where(url, sec), Mechanism: sec.Describe(), What: "TLS settings", Err: err}
		}
		tr.TLSClientConfig = tc
	}
	es, err := elasticsearch.NewClient(cfg)
	if err != nil {
		return nil, redact.Error(fmt.Errorf("elasticsearch client for %s: %w", Where(url, sec), err), secrets...)
	}
	return es, nil
}

// Where names the Elasticsearch newsflow talks to: the URL (redacted) or the Cloud ID's
// deployment name.
func Where(url string, sec service.ESSecurity) string {
	if sec.CloudID != "" {
		name, _, _ := strings.Cut(sec.CloudID, ":")
		return "cloud " + name
	}
	return redact.URL(url)
}

// CheckAuth asks Elasticsearch who the client is: rejected credentials (401/403), an
// untrusted certificate or a failed handshake return a *service.ConnError (a configuration
// error: the service exits 2); a server that does not answer returns nil (set-up retries).
func CheckAuth(ctx context.Context, es *elasticsearch.Client, url string, sec service.ESSecurity) error {
	server := "elasticsearch " + Where(url, sec)
	res, err := es.Info(es.Info.WithContext(ctx))
	if err != nil {
		return service.ConnFailure(server, sec.Describe(), err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
		what := "credentials rejected"
		if sec.APIKey == "" && sec.Username == "" {
			what = "credentials required"
		}
		return &service.ConnError{Server: server, Mechanism: sec.Describe(), What: fmt.Sprintf("%s (HTTP %d)", what, res.StatusCode), Err: errors.New(res.Status())}
	}
	return nil
}
