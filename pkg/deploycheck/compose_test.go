package deploycheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/pkg/alert"
	"github.com/newsflow/newsflow/pkg/fetch"
	"github.com/newsflow/newsflow/pkg/service"
)

const dockerfilePath = "deploy/docker/Dockerfile"

func loadCompose(t *testing.T) (*Compose, string) {
	t.Helper()
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCompose(b)
	if err != nil {
		t.Fatal(err)
	}
	return c, root
}

func codeEnv(t *testing.T, root string) map[string][]string {
	t.Helper()
	vars, err := EnvVarsInCode(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"NEWSFLOW_BUS", "NEWSFLOW_NATS_URL", "NEWSFLOW_HTTP_ADDR", "NEWSFLOW_ES_URL"} {
		if len(vars[must]) == 0 {
			t.Fatalf("code scan found no %s: the scanner is broken (found %d names)", must, len(vars))
		}
	}
	// A secret read by the code is also read from <NAME>_FILE (the registry's getters do it).
	for _, v := range service.Vars() {
		if v.Secret && len(vars[v.Name]) > 0 {
			vars[v.Name+service.FileSuffix] = vars[v.Name]
		}
	}
	return vars
}

func knownServices(t *testing.T, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	ents, err := os.ReadDir(filepath.Join(root, "services"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(root, "services", e.Name(), "main.go")); e.IsDir() && err == nil {
			out[e.Name()] = true
		}
	}
	return out
}

// isNewsflow reports whether a compose service runs a newsflow binary built from the repo.
func isNewsflow(s ComposeService) bool { return s.Build != nil }

func isOneShot(s ComposeService) bool { return s.Restart == "no" || s.Restart == "on-failure" }

func env(s ComposeService, k string) string {
	v, _ := Interpolate(EnvString(s.Environment[k]))
	return v
}

func TestComposeBuildsExistingServices(t *testing.T) {
	c, root := loadCompose(t)
	services := knownServices(t, root)
	built := map[string]bool{}
	for name, s := range c.Services {
		if s.Build == nil {
			continue
		}
		if s.Build.Context != "." || s.Build.Dockerfile != dockerfilePath {
			t.Errorf("%s: build {context: %q, dockerfile: %q}, want {context: ., dockerfile: %s}", name, s.Build.Context, s.Build.Dockerfile, dockerfilePath)
		}
		svc := s.Build.Args["SERVICE"]
		if !services[svc] {
			t.Errorf("%s: build arg SERVICE=%q is not a services/<dir> with main.go (have %v)", name, svc, sortedKeys(services))
		}
		built[svc] = true
		if s.Image != "" && !strings.Contains(s.Image, svc) {
			t.Errorf("%s: image %q does not name the service %s it is built from", name, s.Image, svc)
		}
	}
	for _, stage := range []string{"fetcher", "cleaner", "enricher", "indexer", "alerter"} {
		if !built[stage] {
			t.Errorf("stage %s is not built by any compose service", stage)
		}
	}
}

func TestComposeEnvVarsAreReadByTheCode(t *testing.T) {
	c, root := loadCompose(t)
	vars := codeEnv(t, root)
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		binary := ""
		if s.Build != nil {
			binary = s.Build.Args["SERVICE"]
		}
		for _, k := range sortedKeys(s.Environment) {
			v, err := Interpolate(EnvString(s.Environment[k]))
			if err != nil {
				t.Errorf("%s: %s: %v", name, k, err)
			}
			if strings.HasPrefix(k, "NEWSFLOW_") && len(vars[k]) == 0 {
				t.Errorf("%s: environment %s is not read by any code in pkg/ or services/ (typo?)", name, k)
			}
			if err := CheckEnvVar(binary, k, v); err != nil {
				t.Errorf("%s: environment: %v", name, err)
			}
		}
		if !isNewsflow(s) {
			continue
		}
		if bus := env(s, "NEWSFLOW_BUS"); bus != "nats" && bus != "kafka" {
			t.Errorf("%s: NEWSFLOW_BUS defaults to %q, want nats or kafka", name, bus)
		}
		for _, k := range []string{"NEWSFLOW_LOG_LEVEL", "NEWSFLOW_LOG_FORMAT"} {
			if v := env(s, k); v != "" && !map[string]bool{"debug": true, "info": true, "warn": true, "error": true, "json": true, "console": true}[v] {
				t.Errorf("%s: %s=%q is not a valid value", name, k, v)
			}
		}
		for _, k := range []string{"NEWSFLOW_SHUTDOWN_TIMEOUT", "NEWSFLOW_ACK_WAIT", "NEWSFLOW_INDEX_FLUSH_INTERVAL"} {
			if v := env(s, k); v != "" {
				if _, err := time.ParseDuration(v); err != nil {
					t.Errorf("%s: %s=%q: %v", name, k, v, err)
				}
			}
		}
		if n := env(s, "NEWSFLOW_ALERT_SHARD_COUNT"); n != "" {
			cnt, _ := strconv.Atoi(n)
			idx, _ := strconv.Atoi(env(s, "NEWSFLOW_ALERT_SHARD_INDEX"))
			if cnt < 1 || idx < 0 || idx >= cnt {
				t.Errorf("%s: NEWSFLOW_ALERT_SHARD_INDEX=%d not in [0, NEWSFLOW_ALERT_SHARD_COUNT=%d)", name, idx, cnt)
			}
		}
	}
}

// TestComposeEndpointsResolve checks that every address a service is given points at a
// service of the file that listens there, and that health checks probe the HTTP port.
func TestComposeEndpointsResolve(t *testing.T) {
	c, _ := loadCompose(t)
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		for _, k := range []string{"NEWSFLOW_NATS_URL", "NEWSFLOW_FETCH_STATE_NATS_URL", "NEWSFLOW_ES_URL", "NEWSFLOW_KAFKA_BROKERS", "KIBANA_URL"} {
			v := env(s, k)
			if v == "" || v == "memory" {
				continue
			}
			for _, addr := range strings.Split(v, ",") {
				host, port, err := HostPort(strings.TrimSpace(addr))
				if err != nil {
					t.Errorf("%s: %s: %v", name, k, err)
					continue
				}
				target, ok := c.Services[host]
				if !ok {
					t.Errorf("%s: %s=%s: no compose service %q", name, k, v, host)
					continue
				}
				if !target.ContainerPorts()[port] {
					t.Errorf("%s: %s=%s: service %s does not expose port %d (expose/ports: %v)", name, k, v, host, port, sortedInts(target.ContainerPorts()))
				}
				if k == "NEWSFLOW_KAFKA_BROKERS" {
					adv := env(target, "KAFKA_ADVERTISED_LISTENERS")
					if !strings.Contains(adv, "//"+host+":"+strconv.Itoa(port)) {
						t.Errorf("%s: %s=%s but %s advertises %q: clients would be redirected elsewhere", name, k, v, host, adv)
					}
				}
			}
		}
		if !isNewsflow(s) {
			continue
		}
		addr := env(s, "NEWSFLOW_HTTP_ADDR")
		_, port, err := HostPort(addr)
		if err != nil {
			t.Errorf("%s: NEWSFLOW_HTTP_ADDR: %v", name, err)
			continue
		}
		if strings.HasPrefix(addr, "127.") || strings.HasPrefix(addr, "localhost") {
			t.Errorf("%s: NEWSFLOW_HTTP_ADDR=%s listens on loopback only: unreachable from other containers", name, addr)
		}
		if isOneShot(s) {
			continue
		}
		if !s.ContainerPorts()[port] {
			t.Errorf("%s: NEWSFLOW_HTTP_ADDR port %d is not exposed (%v)", name, port, sortedInts(s.ContainerPorts()))
		}
		if s.Healthcheck == nil || len(s.Healthcheck.Test) == 0 {
			t.Errorf("%s: no healthcheck", name)
			continue
		}
		test := strings.Join(s.Healthcheck.Test, " ")
		if !strings.Contains(test, ":"+strconv.Itoa(port)+"/healthz") {
			t.Errorf("%s: healthcheck %q does not probe /healthz on the HTTP port %d", name, test, port)
		}
	}
}

func TestComposeDependsOn(t *testing.T) {
	c, _ := loadCompose(t)
	conditions := map[string]bool{"service_started": true, "service_healthy": true, "service_completed_successfully": true}
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		for _, dep := range sortedKeys(s.DependsOn) {
			d := s.DependsOn[dep]
			target, ok := c.Services[dep]
			if !ok {
				t.Errorf("%s: depends_on %q: no such service", name, dep)
				continue
			}
			if !conditions[d.Condition] {
				t.Errorf("%s: depends_on %s: condition %q", name, dep, d.Condition)
			}
			if d.Condition == "service_healthy" && target.Healthcheck == nil {
				t.Errorf("%s: depends_on %s: service_healthy but %s has no healthcheck", name, dep, dep)
			}
			if d.Condition == "service_completed_successfully" && !isOneShot(target) {
				t.Errorf("%s: depends_on %s: service_completed_successfully but %s restarts (restart %q)", name, dep, dep, target.Restart)
			}
			if len(target.Profiles) > 0 && len(s.Profiles) == 0 && (d.Required == nil || *d.Required) {
				t.Errorf("%s: depends_on %s, which is only in profiles %v: set required: false or compose fails without the profile", name, dep, target.Profiles)
			}
		}
		if !isNewsflow(s) {
			continue
		}
		if isOneShot(s) {
			continue
		}
		// Long-running stages wait for the bus (and Kafka when that profile runs).
		for bus, svc := range map[string]string{"nats": "nats", "kafka": "kafka"} {
			if _, ok := c.Services[svc]; ok {
				if _, ok := s.DependsOn[svc]; !ok {
					t.Errorf("%s: does not depend on %s (the %s bus)", name, svc, bus)
				}
			}
		}
	}
	// The indexer writes only after templates exist; the Kibana import waits for Kibana.
	if d, ok := c.Services["indexer"].DependsOn["indexer-setup"]; !ok || d.Condition != "service_completed_successfully" {
		t.Errorf("indexer: want depends_on indexer-setup: service_completed_successfully")
	}
	if d, ok := c.Services["kibana-import"].DependsOn["kibana"]; !ok || d.Condition != "service_healthy" {
		t.Errorf("kibana-import: want depends_on kibana: service_healthy")
	}
}

func TestComposeImagesPinnedAndVolumes(t *testing.T) {
	c, root := loadCompose(t)
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if s.Image == "" && s.Build == nil {
			t.Errorf("%s: neither image nor build", name)
		}
		if s.Image != "" {
			img, err := Interpolate(s.Image)
			if err == nil {
				err = ImagePinned(img)
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		for _, v := range s.Volumes {
			src, dst, _ := strings.Cut(v, ":")
			if dst == "" {
				continue // anonymous volume
			}
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("%s: bind mount %s: %v", name, v, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s: named volume %q is not declared under top-level volumes", name, src)
			}
		}
		if isNewsflow(s) && !isOneShot(s) {
			grace, err := time.ParseDuration(s.StopGracePeriod)
			shutdown, err2 := time.ParseDuration(env(s, "NEWSFLOW_SHUTDOWN_TIMEOUT"))
			if err != nil || err2 != nil || grace <= shutdown {
				t.Errorf("%s: stop_grace_period %q must exceed NEWSFLOW_SHUTDOWN_TIMEOUT %q (drain before SIGKILL)", name, s.StopGracePeriod, env(s, "NEWSFLOW_SHUTDOWN_TIMEOUT"))
			}
		}
	}
}

// hostPathOf maps a container path to the host file of the bind mount that provides it.
func hostPathOf(root string, s ComposeService, p string) (string, bool) {
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || !strings.HasPrefix(parts[0], ".") {
			continue
		}
		if p == parts[1] {
			return filepath.Join(root, parts[0]), true
		}
		if strings.HasPrefix(p, parts[1]+"/") {
			return filepath.Join(root, parts[0], strings.TrimPrefix(p, parts[1]+"/")), true
		}
	}
	return "", false
}

// TestComposeMountedFilesParse loads the files services are pointed at with the code that
// reads them in production.
func TestComposeMountedFilesParse(t *testing.T) {
	c, root := loadCompose(t)
	checked := 0
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		for k, parse := range map[string]func([]byte) error{
			"NEWSFLOW_SOURCES": func(b []byte) error {
				src, err := fetch.ParseSourcesYAML(b)
				if err == nil && len(src) == 0 {
					t.Errorf("%s: NEWSFLOW_SOURCES has no sources", name)
				}
				return err
			},
			"NEWSFLOW_ALERT_RULES": func(b []byte) error { _, err := alert.ParseRules(b); return err },
		} {
			p := env(s, k)
			if p == "" {
				continue
			}
			host, ok := hostPathOf(root, s, p)
			if !ok {
				t.Errorf("%s: %s=%s is not provided by a bind mount", name, k, p)
				continue
			}
			b, err := os.ReadFile(host)
			if err == nil {
				err = parse(b)
			}
			if err != nil {
				t.Errorf("%s: %s=%s (%s): %v", name, k, p, host, err)
			}
			checked++
		}
		// Scripts run from a mount (the Kibana import job).
		for _, arg := range append(stringsOf(s.Entrypoint), stringsOf(s.Command)...) {
			if !strings.HasPrefix(arg, "/") {
				continue
			}
			if host, ok := hostPathOf(root, s, arg); ok {
				if _, err := os.Stat(host); err != nil {
					t.Errorf("%s: runs %s from a mount, but %v", name, arg, err)
				}
				checked++
			}
		}
	}
	if checked < 3 {
		t.Errorf("only %d mounted files checked; expected sources, alert rules and the Kibana import script", checked)
	}
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, EnvString(e))
		}
		return out
	}
	return nil
}

func TestDockerfile(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, dockerfilePath))
	if err != nil {
		t.Fatal(err)
	}
	insts, err := ParseDockerfile(b)
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{}
	var froms, copiesTo []string
	var user, expose string
	var build bool
	for _, in := range insts {
		switch in.Cmd {
		case "ARG":
			k, v, _ := strings.Cut(in.Args, "=")
			if _, ok := args[k]; !ok || v != "" {
				args[k] = v
			}
		case "FROM":
			img := strings.Fields(in.Args)[0]
			for k, v := range args {
				img = strings.ReplaceAll(img, "${"+k+"}", v)
			}
			froms = append(froms, img)
		case "USER":
			user = in.Args
		case "EXPOSE":
			expose = in.Args
		case "RUN":
			if strings.Contains(in.Args, "go build") && strings.Contains(in.Args, "./services/${SERVICE}") &&
				strings.Contains(in.Args, `-ldflags="-s -w"`) && strings.Contains(in.Args, "-trimpath") {
				build = true
			}
		case "COPY":
			f := strings.Fields(in.Args)
			copiesTo = append(copiesTo, f[len(f)-1])
		}
	}
	if _, ok := args["SERVICE"]; !ok {
		t.Error("no ARG SERVICE")
	}
	if !build {
		t.Error("no RUN go build -trimpath -ldflags=\"-s -w\" ./services/${SERVICE}")
	}
	if !strings.Contains(string(b), "CGO_ENABLED=0") {
		t.Error("binary is not static: CGO_ENABLED=0 missing")
	}
	for _, f := range froms {
		if err := ImagePinned(f); err != nil {
			t.Errorf("FROM %s: %v", f, err)
		}
	}
	if len(froms) < 2 || !strings.HasPrefix(froms[0], "golang:") {
		t.Errorf("FROM %v: want a golang builder and a runtime stage", froms)
	}
	last := froms[len(froms)-1]
	if !(strings.Contains(last, "distroless") && strings.HasSuffix(last, ":nonroot")) && (user == "" || user == "root" || strings.HasPrefix(user, "0")) {
		t.Errorf("runtime image %s runs as root (USER %q)", last, user)
	}
	for _, src := range CopySources(insts) {
		if !ContextPathExists(root, src) {
			t.Errorf("COPY %s: not in the repository", src)
		}
	}
	// Compose's healthcheck binary and HTTP port come from this image.
	c, _ := loadCompose(t)
	for name, s := range c.Services {
		if !isNewsflow(s) || isOneShot(s) || s.Healthcheck == nil {
			continue
		}
		probe := s.Healthcheck.Test[len(s.Healthcheck.Test)-2]
		if s.Healthcheck.Test[0] == "CMD" && !contains(copiesTo, probe) {
			t.Errorf("%s: healthcheck runs %s, which the Dockerfile does not COPY (has %v)", name, probe, copiesTo)
		}
		_, port, _ := HostPort(env(s, "NEWSFLOW_HTTP_ADDR"))
		if !contains(strings.Fields(expose), strconv.Itoa(port)) {
			t.Errorf("%s: NEWSFLOW_HTTP_ADDR port %d, but the Dockerfile EXPOSEs %q", name, port, expose)
		}
	}
	checkDockerignore(t, root, CopySources(insts))
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// checkDockerignore makes sure the Dockerfile-specific ignore file (deny all, allow some)
// lets every COPY source into the context.
func checkDockerignore(t *testing.T, root string, sources []string) {
	b, err := os.ReadFile(filepath.Join(root, dockerfilePath+".dockerignore"))
	if err != nil {
		t.Fatalf("want %s.dockerignore (BuildKit reads it for this Dockerfile): %v", dockerfilePath, err)
	}
	var allow []string
	denyAll := false
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "*":
			denyAll = true
		case strings.HasPrefix(l, "!"):
			allow = append(allow, strings.TrimSuffix(strings.TrimPrefix(l, "!"), "/"))
		}
	}
	if !denyAll {
		return
	}
	for _, src := range sources {
		s := strings.TrimSuffix(strings.TrimRight(src, "*?"), "/")
		ok := false
		for _, a := range allow {
			if s == a || strings.HasPrefix(s, a+"/") || strings.HasPrefix(a, s) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("COPY %s is excluded by %s.dockerignore (allowed: %v)", src, dockerfilePath, allow)
		}
	}
}

// TestHealthcheckProgramBuilds compiles deploy/docker/healthcheck.go the way the Dockerfile
// does (standalone, standard library only).
func TestHealthcheckProgramBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a program")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(root, "deploy/docker/healthcheck.go"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "healthcheck.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gobin, "build", "-o", filepath.Join(dir, "hc"), "healthcheck.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build healthcheck.go: %v\n%s", err, out)
	}
}

func TestInterpolate(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"${NEWSFLOW_BUS:-nats}", "nats", ""},
		{"${X-def}/y", "def/y", ""},
		{"a${UNSET}b", "ab", ""},
		{"$$HOME", "$HOME", ""},
		{"${NEED:?set NEED}", "", "required"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Interpolate(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Interpolate(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestImagePinned(t *testing.T) {
	tests := []struct {
		image string
		ok    bool
	}{
		{"nats:2.15.2-alpine", true},
		{"docker.elastic.co/elasticsearch/elasticsearch:8.19.21", true},
		{"localhost:5000/newsflow/cleaner:dev", true},
		{"localhost:5000/newsflow/cleaner", false},
		{"nats", false},
		{"nats:latest", false},
		{"busybox@sha256:abc", true},
	}
	for _, tc := range tests {
		t.Run(tc.image, func(t *testing.T) {
			if err := ImagePinned(tc.image); (err == nil) != tc.ok {
				t.Fatalf("ImagePinned(%q) = %v, want ok=%v", tc.image, err, tc.ok)
			}
		})
	}
}

func TestHostPort(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
	}{
		{"nats://nats:4222", "nats", 4222},
		{"http://elasticsearch:9200", "elasticsearch", 9200},
		{"kafka:9092", "kafka", 9092},
		{"http://elastic:$(ES_PASSWORD)@newsflow-es-http:9200", "newsflow-es-http", 9200},
		{"0.0.0.0:8080", "0.0.0.0", 8080},
		{"nats://nats", "nats", 4222},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			h, p, err := HostPort(tc.in)
			if err != nil || h != tc.host || p != tc.port {
				t.Fatalf("HostPort(%q) = %q, %d, %v", tc.in, h, p, err)
			}
		})
	}
}

func FuzzParseDockerfile(f *testing.F) {
	f.Add([]byte("FROM a:1\nRUN x \\\n  y\nCOPY a b\n"))
	f.Add([]byte("# c\n\nCOPY --from=build /a /b\nRUN \\\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		insts, err := ParseDockerfile(b)
		if err != nil {
			return
		}
		for _, in := range insts {
			if in.Cmd == "" || in.Line < 1 {
				t.Fatalf("bad instruction %+v", in)
			}
		}
		CopySources(insts)
	})
}

func FuzzInterpolate(f *testing.F) {
	for _, s := range []string{"${A:-b}", "$${A}", "${A:?x}", "${", "}${A-}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, _ := Interpolate(s)
		if !strings.Contains(s, "${") && !strings.Contains(s, "$$") && out != s {
			t.Fatalf("Interpolate(%q) = %q changed a string without variables", s, out)
		}
	})
}

func sortedInts(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
