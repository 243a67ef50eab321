package alert

import (
	_ "embed"
	"fmt"
)

// defaultRulesYAML is the rule set newsflow ships enabled: the alerter uses it when no rules
// file is configured, deploy/docker/alert-rules.yaml and deploy/k8s/config.yaml carry the same
// rules (a deploycheck test keeps them equal), and `make eval-alerts` scores it.
//
//go:embed default-rules.yaml
var defaultRulesYAML []byte

// DefaultRulesYAML returns the shipped default rules file.
func DefaultRulesYAML() []byte { return append([]byte(nil), defaultRulesYAML...) }

// DefaultRules returns the shipped default rules, validated.
func DefaultRules() []Rule {
	rules, err := ParseRules(defaultRulesYAML)
	if err != nil {
		panic(fmt.Sprintf("alert: embedded default rules invalid: %v", err)) // caught by TestDefaultRules
	}
	return rules
}
