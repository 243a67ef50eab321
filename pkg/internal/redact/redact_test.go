package redact

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"no url here", "no url here"},
		{"http://127.0.0.1:9200", "http://127.0.0.1:9200"},
		{"http://elastic:s3cret@127.0.0.1:9200", "http://elastic:REDACTED@127.0.0.1:9200"},
		{"https://elastic:p%40ss@es.example.com/prefix?pretty", "https://elastic:REDACTED@es.example.com/prefix?pretty"},
		{"nats://t0ken@nats:4222", "nats://REDACTED@nats:4222"},
		{"nats://u:p@a:4222,nats://u:q@b:4222", "nats://u:REDACTED@a:4222,nats://u:REDACTED@b:4222"},
		{"nats://a:4222, nats://tok@b:4222", "nats://a:4222, nats://REDACTED@b:4222"},
		{"https://h/x?token=abc&q=news&api_key=k1&Signature=s&X-Amz-Signature=z", "https://h/x?token=REDACTED&q=news&api_key=REDACTED&Signature=REDACTED&X-Amz-Signature=REDACTED"},
		{"https://h/x?apikey=a;key=b;monkey=c", "https://h/x?apikey=REDACTED;key=REDACTED;monkey=c"},
		{"https://h/cb#access_token=tok&state=1", "https://h/cb#access_token=REDACTED&state=1"},
		{"https://h/p?password=pw&secret=s&sig=g&access_token=a", "https://h/p?password=REDACTED&secret=REDACTED&sig=REDACTED&access_token=REDACTED"},
		{"https://hooks.slack.com/services/T000/B000/XXXXXXXX", "https://hooks.slack.com/…"},
		{"https://hooks.slack.com/workflows/T0/A0/123/abc", "https://hooks.slack.com/…"},
		{"https://example.com/services/T/B/x", "https://example.com/…"},
		{"https://ops.example.com:8443/hooks/abc?x=1", "https://ops.example.com:8443/…"},
		{"https://discord.com/api/webhooks/1/tok", "https://discord.com/…"},
		{"https://u:pw@example.com/hooks/abc", "https://example.com/…"},
		{"https://example.com/hookshot/a", "https://example.com/hookshot/a"},
		// Inside text, as Go errors quote URLs.
		{`Post "https://hooks.slack.com/services/T/B/Z": dial tcp: refused`, `Post "https://hooks.slack.com/…": dial tcp: refused`},
		{`install templates at http://elastic:pw@127.0.0.1:1: connection refused`, `install templates at http://elastic:REDACTED@127.0.0.1:1: connection refused`},
		{`{"url":"nats://tok@h:4222","msg":"x"}`, `{"url":"nats://REDACTED@h:4222","msg":"x"}`},
		{`<https://h/?token=a>`, `<https://h/?token=REDACTED>`},
		// Malformed: a password with an unescaped '/' or '?' (url.Parse errors quote it).
		{`parse "http://elastic:pa/ss@host:9200": invalid port`, `parse "http://elastic:REDACTED@host:9200": invalid port`},
		{`http://u:pa?ss@host/x`, `http://u:REDACTED@host/x`},
		{`http://host:9200/path@x`, `http://host:9200/path@x`},
		{"://nothing", "://nothing"},
		{"1://x", "1://x"},
	} {
		if got := URL(tc.in); got != tc.want {
			t.Errorf("URL(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestCredentials(t *testing.T) {
	got := Credentials("nats://u:pw@a:4222,nats://tok@b:4222,http://elastic@es:9200,https://h/?token=qt&q=1")
	want := []string{"pw", "tok", "qt"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Credentials = %q, want %q", got, want)
	}
}

func TestError(t *testing.T) {
	base := &url.Error{Op: "Post", URL: "https://alerts.example.com/a/b0Ok", Err: fs.ErrNotExist}
	for _, tc := range []struct {
		name    string
		err     error
		secrets []string
		want    string
	}{
		{"url user-info", fmt.Errorf("connect nats://u:pw@h:4222: %w", fs.ErrNotExist), nil, "connect nats://u:REDACTED@h:4222: file does not exist"},
		{"plain secret", errors.New("auth failed for tok3n-abc"), []string{"tok3n-abc"}, "auth failed for REDACTED"},
		{"secret url", base, []string{"https://alerts.example.com/a/b0Ok"}, `Post "https://alerts.example.com/…": file does not exist`},
		{"secret url path alone", errors.New("404 for /a/b0Ok"), []string{"https://alerts.example.com/a/b0Ok"}, "404 for /REDACTED"},
		{"secret inside mask", errors.New("got RED"), []string{"RED"}, "got ***"},
		{"nil secret list entry", errors.New("x"), []string{""}, "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Error(tc.err, tc.secrets...)
			if got := err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if !errors.Is(err, tc.err) {
				t.Error("errors.Is lost the wrapped error")
			}
		})
	}
	if Error(nil, "x") != nil {
		t.Error("Error(nil) != nil")
	}
	var ue *url.Error
	if !errors.As(Error(fmt.Errorf("w: %w", base)), &ue) {
		t.Error("errors.As lost *url.Error")
	}
	if !errors.Is(Error(context.DeadlineExceeded), context.DeadlineExceeded) {
		t.Error("errors.Is(DeadlineExceeded)")
	}
}

// A real net/http failure on a webhook URL: the message it builds must not show the path.
func TestErrorHTTPClient(t *testing.T) {
	hook := "http://127.0.0.1:1/hooks/T0/B0/very-secret-path?sig=abc"
	req, _ := http.NewRequest(http.MethodPost, hook, nil)
	_, err := http.DefaultClient.Do(req)
	if err == nil {
		t.Skip("something listens on port 1")
	}
	msg := Error(err, hook).Error()
	for _, s := range []string{"very-secret-path", "abc", "T0/B0"} {
		if strings.Contains(msg, s) {
			t.Errorf("%q leaks %q", msg, s)
		}
	}
}

func TestField(t *testing.T) {
	if f := Field("url", "nats://tok@h:4222"); f.String != "nats://REDACTED@h:4222" {
		t.Errorf("Field = %q", f.String)
	}
}

// FuzzURL: the redaction of a URL (alone, in a list or quoted in an error) does not depend on
// its password or token, so it cannot show them.
func FuzzURL(f *testing.F) {
	for _, s := range [][6]string{
		{"elastic", "s3cretPW", "127.0.0.1:9200", "/", "tok", "https"},
		{"", "natstoken", "nats.example.com:4222", "", "", "nats"},
		{"u", "p@ss/w?rd#x", "h", "/services/T/B/X", "qq", "https"},
		{"user", "pa:ss,nats://x", "[::1]:4222", "/a b", "t&k=v", "nats"},
		{"a", "REDACT", "hooks.slack.com", "/x", "REDACTED", "http"},
		{"ü", "\"quoted\"", "h:1", "/%41", "\\", "ws"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5])
	}
	f.Fuzz(func(t *testing.T, user, pass, host, path, tok, scheme string) {
		if scheme == "" || !isLetter(scheme[0]) || strings.IndexFunc(scheme, func(r rune) bool { return r > 127 || !schemeByte(byte(r)) }) >= 0 {
			scheme = "https"
		}
		if host == "" || strings.ContainsAny(host, "@/?#\\\"'`<> \t\r\n\f\v,%") || strings.ContainsRune(host, 0x7f) {
			host = "h"
		}
		build := func(pass, tok string) string {
			u := url.URL{Scheme: scheme, Host: host, Path: path, RawQuery: url.Values{"token": {tok}, "q": {"news"}}.Encode()}
			if pass != "" {
				u.User = url.UserPassword(user, pass)
			} else if user != "" {
				u.User = url.User(user)
			}
			return u.String()
		}
		if pass == "" || tok == "" {
			return
		}
		in := build(pass, tok)
		ref := build("0", "0") // the same URL with other secrets
		for _, wrap := range []func(string) string{
			func(s string) string { return s },
			func(s string) string { return "nats://a:4222," + s },
			func(s string) string { return fmt.Sprintf("connect %q: refused", s) },
			func(s string) string { return fmt.Sprintf(`{"url":%q}`, s) },
		} {
			got, want := URL(wrap(in)), URL(wrap(ref))
			if got != want {
				// Only the secrets differ between the two inputs, so the outputs may not.
				t.Fatalf("redaction depends on the secrets:\n in %q → %q\nref %q → %q", wrap(in), got, wrap(ref), want)
			}
			for _, s := range []string{pass, tok, url.QueryEscape(tok), url.PathEscape(pass)} {
				if len(s) >= 3 && strings.Contains(got, s) && !strings.Contains(want, s) {
					t.Fatalf("URL(%q) = %q shows %q", wrap(in), got, s)
				}
			}
		}
	})
}

// FuzzError: an error's message never shows a secret its caller names.
func FuzzError(f *testing.F) {
	f.Add("auth failed for ", "tok3n", " at nats://h:4222")
	f.Add("Post \"", "https://hooks.example.com/a/b", "\": refused")
	f.Add("x", "RED", "ACTED")
	f.Add("xx", "xR", "EDACTED")
	f.Add("", "/", "")
	f.Fuzz(func(t *testing.T, pre, secret, post string) {
		if secret == "" {
			return
		}
		err := Error(errors.New(pre+secret+post+secret), secret)
		if got := err.Error(); strings.Contains(got, secret) {
			t.Fatalf("Error(%q, %q) = %q", pre+secret+post+secret, secret, got)
		}
	})
}
