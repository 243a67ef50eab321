package stages_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/article"
)

// cleanerBinary builds services/cleaner (workspace mode, from the repository's go.work) into
// a temp dir once per test binary run, with the go tool on PATH or the one running the test.
var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func cleanerBinary(t testing.TB) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go") // the toolchain running this test
	}
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		// Not t.TempDir: the binary is shared by the tests of this run; TestMain removes it.
		if buildDir, buildErr = os.MkdirTemp("", "newsflow-stages-test-"); buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "cleaner")
		cmd := exec.Command(goTool, "build", "-o", buildBin, "./services/cleaner")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New("go build ./services/cleaner: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// serviceEnv is the parent environment without NEWSFLOW_* and CI variables, plus kv.
func serviceEnv(kv ...string) []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "NEWSFLOW_") {
			env = append(env, e)
		}
	}
	return append(env, kv...)
}

// logLines collects a process's JSON log lines and reports the "service started" address.
type logLines struct {
	mu      sync.Mutex
	lines   []string
	started chan string
	done    chan struct{}
}

func (l *logLines) read(r *bufio.Scanner) {
	defer close(l.done)
	sent := false
	for r.Scan() {
		line := r.Text()
		l.mu.Lock()
		l.lines = append(l.lines, line)
		l.mu.Unlock()
		var rec struct {
			Msg  string `json:"msg"`
			HTTP string `json:"http"`
		}
		if !sent && json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "service started" {
			l.started <- rec.HTTP
			sent = true
		}
	}
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// TestCleanerBinarySIGTERM runs the real cleaner binary on a fresh NATS server, checks it
// becomes ready and cleans an article, then sends SIGTERM: it must drain, save its state,
// log "service stopped cleanly" and exit 0 within its shutdown budget.
func TestCleanerBinarySIGTERM(t *testing.T) {
	bin := cleanerBinary(t)
	be := embeddedNATS(t)
	cfg := be.config("x")
	client := testClient(t, be)
	cleaned := startSink(t, client, article.SubjectClean)
	state := t.TempDir()

	cmd := exec.Command(bin)
	cmd.Env = serviceEnv(
		"NEWSFLOW_BUS=nats",
		"NEWSFLOW_NATS_URL="+cfg.NATSURL,
		"NEWSFLOW_HTTP_ADDR=127.0.0.1:0",
		"NEWSFLOW_STATE_DIR="+state,
		"NEWSFLOW_SHUTDOWN_TIMEOUT=10s",
		"NEWSFLOW_LOG_FORMAT=json",
	)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &logLines{started: make(chan string, 1), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	go logs.read(sc)
	exited := make(chan error, 1)
	go func() {
		<-logs.done // Wait closes the pipe: read it to EOF first
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	var addr string
	select {
	case addr = <-logs.started:
	case err := <-exited:
		t.Fatalf("cleaner exited before starting: %v\n%s", err, logs)
	case <-time.After(waitLimit):
		t.Fatalf("no \"service started\" log line within %s:\n%s", waitLimit, logs)
	}
	waitFor(t, "GET /readyz = 200", func() bool {
		res, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})

	g := goodArticles[1]
	id, b := rawEnvelope(t, g.url, g.contentType, readTestdata(t, g.file), time.Now())
	publish(t, client, article.SubjectRaw, id, b)
	waitFor(t, "the binary's news.clean output", func() bool { return cleanedByURL(cleaned)[g.url] != nil })

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0\n%s", err, logs)
		}
	case <-time.After(cfg.ShutdownTimeout + 20*time.Second):
		t.Fatalf("cleaner still running long after SIGTERM (budget 10s):\n%s", logs)
	}
	if !strings.Contains(logs.String(), `"msg":"service stopped cleanly"`) {
		t.Errorf("no \"service stopped cleanly\" in the log:\n%s", logs)
	}
	if err := cleanerStateSaved(func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(state, name)) }); err != nil {
		t.Errorf("on SIGTERM: %v", err)
	}
}

// TestCleanerBinaryInvalidConfig: a configuration error exits 2 with every problem named.
// Shared settings are checked before any connection; stage settings (NEWSFLOW_CLEAN_*) only
// once the bus is connected, so that case runs with a reachable server.
func TestCleanerBinaryInvalidConfig(t *testing.T) {
	bin := cleanerBinary(t)
	for _, tc := range []struct {
		name     string
		env      []string
		needsBus bool
		want     []string
	}{
		{name: "unknown bus", env: []string{"NEWSFLOW_BUS=redis"},
			want: []string{"invalid configuration", `NEWSFLOW_BUS="redis": want nats or kafka`}},
		{name: "unparsable value", env: []string{"NEWSFLOW_ACK_WAIT=soon"},
			want: []string{"invalid configuration", `NEWSFLOW_ACK_WAIT="soon": not a duration`}},
		// (A parse error hides the validation errors: LoadConfig returns before Validate.)
		{name: "several errors at once", env: []string{"NEWSFLOW_MAX_DELIVER=0", "NEWSFLOW_LOG_LEVEL=loud"},
			want: []string{"invalid configuration", "NEWSFLOW_MAX_DELIVER=0", `NEWSFLOW_LOG_LEVEL="loud"`}},
		{name: "bad stage setting", env: []string{"NEWSFLOW_CLEAN_TIMEOUT=fast"}, needsBus: true,
			want: []string{"invalid configuration", `NEWSFLOW_CLEAN_TIMEOUT="fast": not a duration`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := append(tc.env, "NEWSFLOW_HTTP_ADDR=127.0.0.1:0", "NEWSFLOW_STATE_DIR="+t.TempDir())
			if tc.needsBus {
				env = append(env, "NEWSFLOW_NATS_URL="+embeddedNATS(t).config("x").NATSURL)
			} else {
				env = append(env, "NEWSFLOW_NATS_URL=nats://127.0.0.1:1") // never dialled
			}
			cmd := exec.Command(bin)
			cmd.Env = serviceEnv(env...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit: %v, want status 2\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
