package stages_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
	"github.com/newsflow/newsflow/pkg/index"
	"github.com/newsflow/newsflow/pkg/internal/securetest"
	"github.com/newsflow/newsflow/pkg/service"
	"github.com/newsflow/newsflow/pkg/stages"
)

// TestIndexerOnSecuredES runs the indexer stage against the Elasticsearch of
// deploy/local/secure.sh (security on: HTTPS with the test CA, a file-realm user, an API key)
// with each way of authenticating and of trusting the certificate: it installs the templates,
// indexes an article from the bus and the article is found. Wrong credentials and an
// untrusted certificate fail at set-up with a one-line *service.ConnError.
func TestIndexerOnSecuredES(t *testing.T) {
	esURL := securetest.Var(t, "ES_URL")
	securetest.Dialable(t, esURL)
	ca := securetest.Var(t, "CA_FILE")
	apiKey := securetest.Read(t, "ES_API_KEY_FILE")
	keyID, keySecret := securetest.Read(t, "ES_API_KEY_ID_FILE"), securetest.Read(t, "ES_API_KEY_SECRET_FILE")
	password := securetest.Read(t, "ES_PASSWORD_FILE")
	fp := leafFingerprint(t, esURL)
	tests := []struct {
		name string
		env  map[string]string
		want []string // substrings of the set-up error; nil: works
	}{
		{name: "encoded API key from a file, CA file", env: map[string]string{
			"NEWSFLOW_ES_API_KEY_FILE": securetest.Var(t, "ES_API_KEY_FILE"), "NEWSFLOW_ES_CA_FILE": ca}},
		{name: "id:key API key, CA fingerprint", env: map[string]string{
			"NEWSFLOW_ES_API_KEY": keyID + ":" + keySecret, "NEWSFLOW_ES_CA_FINGERPRINT": fp}},
		{name: "username and password", env: map[string]string{
			"NEWSFLOW_ES_USERNAME": securetest.Var(t, "ES_USERNAME"), "NEWSFLOW_ES_PASSWORD_FILE": securetest.Var(t, "ES_PASSWORD_FILE"), "NEWSFLOW_ES_CA_FILE": ca}},
		{name: "wrong API key", env: map[string]string{"NEWSFLOW_ES_API_KEY": keyID + ":wrong" + keySecret, "NEWSFLOW_ES_CA_FILE": ca},
			want: []string{"elasticsearch https://127.0.0.1:", "credentials rejected (HTTP 401)", "API key (id " + keyID + ")"}},
		{name: "no credentials", env: map[string]string{"NEWSFLOW_ES_CA_FILE": ca},
			want: []string{"credentials required (HTTP 401)"}},
		{name: "untrusted certificate", env: map[string]string{"NEWSFLOW_ES_API_KEY": apiKey},
			want: []string{"elasticsearch https://127.0.0.1:", "server certificate not trusted"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sec, err := service.SecurityFromEnv(securetest.Getenv(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			icfg := stages.IndexerConfigFromEnv(&service.Env{Get: func(string) string { return "" }}, esURL)
			icfg.Index.Setup.Names.Prefix = "secure" + strings.ToLower(uniquePrefix()[1:7])
			icfg.Index.Refresh = "true"
			es, err := stages.NewESClient(esURL, service.ESSecurity{APIKey: apiKey, CAFile: ca, TLS: service.TLSFiles{CAFile: ca}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { deleteSecured(t, es, icfg.Index.Setup) })
			if tc.want != nil {
				cfg := service.DefaultConfig("indexer")
				cfg.Security = sec
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_, err := stages.AddIndexer(ctx, stages.Common{RT: service.New(cfg, testLogger())}, icfg)
				securetest.CheckFailure(t, err, tc.want, []string{apiKey, keySecret, password})
				if !service.IsConnError(err) {
					t.Errorf("not a ConnError: %v", err)
				}
				return
			}
			nats := embeddedNATS(t)
			be := nats
			be.set = func(c *service.Config) { nats.set(c); c.Security = sec }
			client := testClient(t, be)
			startPipeline(t, be, "indexer", service.StateDir(t.TempDir()), func(c stages.Common) error {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				_, err := stages.AddIndexer(ctx, c, icfg)
				return err
			})
			u := "https://secure.example/a/" + icfg.Index.Setup.Names.Prefix
			en := &article.Enriched{}
			en.URL, en.CanonicalURL, en.Title, en.FetchedAt = u, u, "Volcano erupts near "+icfg.Index.Setup.Names.Prefix, time.Now().UTC()
			en.Language, en.Text = "en", "A volcano erupted on Tuesday."
			id, _, err := article.ID(u)
			if err != nil {
				t.Fatal(err)
			}
			data, err := article.Encode(&article.Envelope{ID: id, Stage: article.StageEnriched, Enriched: en})
			if err != nil {
				t.Fatal(err)
			}
			publish(t, client, article.SubjectEnriched, id, data)
			waitFor(t, "the article searchable on the secured node", func() bool {
				_, total, err := index.Search(context.Background(), es, icfg.Index.Setup.Names, "volcano", 1)
				return err == nil && total == 1
			})
		})
	}
}

// leafFingerprint is the hex SHA-256 of the certificate the server at u presents (what an
// operator copies from Elasticsearch's first start).
func leafFingerprint(t *testing.T, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", pu.Host, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reading the certificate only
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// deleteSecured removes what index.Setup installed for cfg (and its indices) through es.
func deleteSecured(t *testing.T, es interface {
	Perform(*http.Request) (*http.Response, error)
}, cfg index.SetupConfig) {
	paths := []string{"/" + cfg.Names.Prefix + "-*"}
	reqs := index.Templates(cfg)
	for i := len(reqs) - 1; i >= 0; i-- {
		if !strings.ContainsAny(reqs[i].Path, "*?") {
			paths = append(paths, reqs[i].Path)
		}
	}
	for _, p := range paths {
		req, _ := http.NewRequest(http.MethodDelete, p, nil)
		res, err := es.Perform(req)
		if err != nil {
			t.Logf("cleanup %s: %v", p, err)
			continue
		}
		res.Body.Close()
	}
}
