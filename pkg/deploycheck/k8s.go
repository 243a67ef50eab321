package deploycheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// K8sObject is one Kubernetes manifest document, kept generic (map) with the header fields
// pulled out.
type K8sObject struct {
	File       string
	APIVersion string
	Kind       string
	Name       string
	Doc        map[string]any
}

// ParseManifests splits a multi-document YAML file into objects; empty documents are
// skipped and a document without apiVersion/kind/metadata.name is an error.
func ParseManifests(file string, b []byte) ([]K8sObject, error) {
	var out []K8sObject
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for i := 0; ; i++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("deploycheck: %s document %d: %w", file, i, err)
		}
		if doc == nil {
			continue
		}
		o := K8sObject{File: file, Doc: doc}
		o.APIVersion, _ = doc["apiVersion"].(string)
		o.Kind, _ = doc["kind"].(string)
		o.Name = Str(doc, "metadata", "name")
		if o.APIVersion == "" || o.Kind == "" || (o.Name == "" && o.Kind != "Kustomization") {
			return nil, fmt.Errorf("deploycheck: %s document %d: apiVersion, kind and metadata.name are required", file, i)
		}
		out = append(out, o)
	}
}

// Get walks nested maps by keys; nil when a step is missing.
func Get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// Str is Get as a string ("" when missing; numbers are formatted).
func Str(v any, path ...string) string { return EnvString(Get(v, path...)) }

// Maps returns Get as a list of maps (non-map items skipped).
func Maps(v any, path ...string) []map[string]any {
	l, _ := Get(v, path...).([]any)
	var out []map[string]any
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// Int returns Get as an int (YAML ints; -1 when missing or not a number).
func Int(v any, path ...string) int {
	switch x := Get(v, path...).(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		return int(x)
	}
	return -1
}

// PodSpec returns the pod spec of a workload (Deployment, StatefulSet, DaemonSet, Job,
// CronJob), or nil.
func (o K8sObject) PodSpec() map[string]any {
	var spec any
	switch o.Kind {
	case "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet":
		spec = Get(o.Doc, "spec", "template", "spec")
	case "CronJob":
		spec = Get(o.Doc, "spec", "jobTemplate", "spec", "template", "spec")
	}
	m, _ := spec.(map[string]any)
	return m
}

// PodLabels returns the pod template labels of a workload.
func (o K8sObject) PodLabels() map[string]string {
	path := []string{"spec", "template", "metadata", "labels"}
	if o.Kind == "CronJob" {
		path = []string{"spec", "jobTemplate", "spec", "template", "metadata", "labels"}
	}
	out := map[string]string{}
	m, _ := Get(o.Doc, path...).(map[string]any)
	for k, v := range m {
		out[k] = EnvString(v)
	}
	return out
}

// SelectorMatches reports whether a matchLabels selector (map) selects labels; an empty
// selector matches nothing here (it would select everything, which is never intended).
func SelectorMatches(sel any, labels map[string]string) bool {
	m, _ := sel.(map[string]any)
	if len(m) == 0 {
		return false
	}
	for k, v := range m {
		if labels[k] != EnvString(v) {
			return false
		}
	}
	return true
}
