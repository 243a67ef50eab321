package deploycheck

import (
	"bufio"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Compose is the part of a docker-compose file the checks read.
type Compose struct {
	Services map[string]ComposeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

// ComposeService is one service of a compose file.
type ComposeService struct {
	Image       string               `yaml:"image"`
	Build       *ComposeBuild        `yaml:"build"`
	Command     any                  `yaml:"command"`
	Entrypoint  any                  `yaml:"entrypoint"`
	Environment map[string]any       `yaml:"environment"`
	Expose      []any                `yaml:"expose"`
	Ports       []string             `yaml:"ports"`
	Volumes     []string             `yaml:"volumes"`
	Profiles    []string             `yaml:"profiles"`
	DependsOn   map[string]DependsOn `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Restart         string `yaml:"restart"`
	StopGracePeriod string `yaml:"stop_grace_period"`
}

// ComposeBuild is a service's build section.
type ComposeBuild struct {
	Context    string            `yaml:"context"`
	Dockerfile string            `yaml:"dockerfile"`
	Args       map[string]string `yaml:"args"`
}

// DependsOn is one long-form depends_on entry.
type DependsOn struct {
	Condition string `yaml:"condition"`
	Required  *bool  `yaml:"required"`
}

var interp = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^}]*)))?\}`)

// Interpolate expands compose variables the way `docker compose` does with an empty
// environment: ${X:-default} and ${X-default} become default, ${X} becomes "", "$$" is a
// literal "$". ${X:?err} is reported as an error, since it requires the variable.
func Interpolate(s string) (string, error) {
	var err error
	s = interp.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := interp.FindStringSubmatch(m)
		switch {
		case sub[2] == ":-" || sub[2] == "-":
			return sub[3]
		case strings.HasSuffix(sub[2], "?"):
			err = fmt.Errorf("variable %s is required (%s)", sub[1], m)
			return ""
		}
		return ""
	})
	return s, err
}

// ParseCompose parses a compose file. Anchors and merge keys (<<: *x) are resolved by the
// YAML decoder; variables are left as written (see Interpolate).
func ParseCompose(b []byte) (*Compose, error) {
	var c Compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("deploycheck: compose: %w", err)
	}
	if len(c.Services) == 0 {
		return nil, fmt.Errorf("deploycheck: compose: no services")
	}
	return &c, nil
}

// MergeCompose applies an override file to base as `docker compose -f base -f over` does for
// the fields the checks read: environment and depends_on entries are merged (the override
// wins), profiles are joined, a set image replaces the base's. A service of over that base
// lacks is an error: an override file here only adjusts the base's services.
func MergeCompose(base, over *Compose) (*Compose, error) {
	out := &Compose{Services: map[string]ComposeService{}, Volumes: map[string]any{}}
	for k, v := range base.Volumes {
		out.Volumes[k] = v
	}
	for k, v := range over.Volumes {
		out.Volumes[k] = v
	}
	for name, s := range base.Services {
		s.Environment = maps.Clone(s.Environment)
		s.DependsOn = maps.Clone(s.DependsOn)
		s.Profiles = append([]string(nil), s.Profiles...)
		out.Services[name] = s
	}
	for name, o := range over.Services {
		s, ok := out.Services[name]
		if !ok {
			return nil, fmt.Errorf("deploycheck: compose override: service %q is not in the base file", name)
		}
		if o.Image != "" {
			s.Image = o.Image
		}
		for k, v := range o.Environment {
			if s.Environment == nil {
				s.Environment = map[string]any{}
			}
			s.Environment[k] = v
		}
		for k, v := range o.DependsOn {
			if s.DependsOn == nil {
				s.DependsOn = map[string]DependsOn{}
			}
			s.DependsOn[k] = v
		}
		for _, p := range o.Profiles {
			if !slices.Contains(s.Profiles, p) {
				s.Profiles = append(s.Profiles, p)
			}
		}
		out.Services[name] = s
	}
	return out, nil
}

// Enabled reports whether the service starts with the given COMPOSE_PROFILES: a service
// without profiles always does, else one of its profiles must be active.
func (s ComposeService) Enabled(active ...string) bool {
	if len(s.Profiles) == 0 {
		return true
	}
	for _, p := range s.Profiles {
		if slices.Contains(active, p) {
			return true
		}
	}
	return false
}

// EnvString returns an environment value as a string (YAML numbers and booleans included).
func EnvString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// ImagePinned reports whether an image reference names a fixed tag or digest (not latest).
func ImagePinned(image string) error {
	if image == "" {
		return fmt.Errorf("no image")
	}
	if strings.Contains(image, "@sha256:") {
		return nil
	}
	last := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(last, ":")
	if i < 0 {
		return fmt.Errorf("image %q has no tag (means latest)", image)
	}
	tag := last[i+1:]
	if tag == "" || tag == "latest" || strings.Contains(tag, "$") {
		return fmt.Errorf("image %q: tag %q is not pinned", image, tag)
	}
	return nil
}

// HostPort splits the host and port of a URL ("nats://nats:4222", "http://u:p@es:9200") or
// of a bare "host:port". A URL without a port gets the scheme's default.
func HostPort(s string) (host string, port int, err error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			// $(VAR) placeholders in userinfo (Kubernetes dependent env) are not valid URL
			// syntax; drop the userinfo and retry.
			if i, j := strings.Index(s, "://"), strings.LastIndex(s, "@"); j > i {
				u, err = url.Parse(s[:i+3] + s[j+1:])
			}
			if err != nil {
				return "", 0, fmt.Errorf("url %q: %w", s, err)
			}
		}
		host = u.Hostname()
		if p := u.Port(); p != "" {
			port, err = strconv.Atoi(p)
			return host, port, err
		}
		switch u.Scheme {
		case "http":
			return host, 80, nil
		case "https":
			return host, 443, nil
		case "nats":
			return host, 4222, nil
		}
		return "", 0, fmt.Errorf("url %q has no port", s)
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", s, err)
	}
	port, err = strconv.Atoi(p)
	return h, port, err
}

// Ports returns the container ports a compose service declares (expose and the container
// side of ports).
func (s ComposeService) ContainerPorts() map[int]bool {
	out := map[int]bool{}
	for _, e := range s.Expose {
		if n, err := strconv.Atoi(strings.TrimSuffix(EnvString(e), "/tcp")); err == nil {
			out[n] = true
		}
	}
	for _, p := range s.Ports {
		p = strings.TrimSuffix(p, "/tcp")
		if i := strings.LastIndex(p, ":"); i >= 0 {
			p = p[i+1:]
		}
		if n, err := strconv.Atoi(p); err == nil {
			out[n] = true
		}
	}
	return out
}

// DockerfileInstruction is one instruction of a Dockerfile with continuation lines joined.
type DockerfileInstruction struct {
	Line int
	Cmd  string // upper-case: FROM, COPY, RUN, ...
	Args string
}

// ParseDockerfile splits a Dockerfile into instructions (comments dropped, "\" continuations
// joined). It does not evaluate ARGs.
func ParseDockerfile(b []byte) ([]DockerfileInstruction, error) {
	var out []DockerfileInstruction
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	var cur strings.Builder
	start, n := 0, 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trim := strings.TrimSpace(line)
		if cur.Len() == 0 && (trim == "" || strings.HasPrefix(trim, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(trim, "#") {
			continue // comment inside a continuation
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(trim, "\\") {
			cur.WriteString(strings.TrimSuffix(trim, "\\") + " ")
			continue
		}
		cur.WriteString(trim)
		inst := strings.TrimSpace(cur.String())
		cur.Reset()
		if inst == "" {
			continue
		}
		cmd, args, _ := strings.Cut(inst, " ")
		out = append(out, DockerfileInstruction{Line: start, Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)})
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("deploycheck: Dockerfile ends inside a continuation (line %d)", start)
	}
	return out, sc.Err()
}

// CopySources returns the context paths of COPY/ADD instructions without --from (the files
// the build needs from the context), as written (may contain globs).
func CopySources(insts []DockerfileInstruction) []string {
	var out []string
	for _, in := range insts {
		if in.Cmd != "COPY" && in.Cmd != "ADD" {
			continue
		}
		fields := strings.Fields(in.Args)
		var args []string
		from := false
		for _, f := range fields {
			if strings.HasPrefix(f, "--") {
				if strings.HasPrefix(f, "--from") {
					from = true
				}
				continue
			}
			args = append(args, f)
		}
		if from || len(args) < 2 {
			continue
		}
		out = append(out, args[:len(args)-1]...)
	}
	return out
}

// ContextPathExists reports whether a COPY source (maybe a glob) matches something under root.
func ContextPathExists(root, src string) bool {
	p := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(src, "./")))
	if strings.ContainsAny(src, "*?[") {
		m, _ := filepath.Glob(p)
		return len(m) > 0
	}
	_, err := os.Stat(p)
	return err == nil
}
