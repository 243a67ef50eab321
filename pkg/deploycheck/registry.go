package deploycheck

import (
	"fmt"
	"strings"

	"github.com/newsflow/newsflow/pkg/service"
)

// CheckEnvVar checks one NEWSFLOW_* variable a deployment (compose, k8s) sets: it must be
// declared in the configuration registry (pkg/service, docs/config.md), its value (after
// interpolation; "" when it comes from elsewhere, e.g. a Secret) must parse as the declared
// type and, when binary is not "", that binary must read it. Other names are not checked.
func CheckEnvVar(binary, name, value string) error {
	if !strings.HasPrefix(name, "NEWSFLOW_") {
		return nil
	}
	v, ok := service.LookupVar(name)
	if !ok {
		return fmt.Errorf("%s is not a newsflow setting (not declared in pkg/service/registry_vars.go, docs/config.md)", name)
	}
	if err := v.Check(value); err != nil {
		return err
	}
	if binary != "" && !v.UsedBy(binary) {
		return fmt.Errorf("%s is not read by %s (only by %s)", name, binary, strings.Join(v.Binaries, ", "))
	}
	return nil
}
