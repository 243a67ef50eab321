package stages_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEachStageLinksOnlyItsStage: a service binary (services/<name>: kit.Main over
// pkg/stages/<name>) links its own stage's logic and none of the others' (issue 16 item 7: every
// binary used to link every stage, 80 MB each); pkg/stages/kit links no stage.
func TestEachStageLinksOnlyItsStage(t *testing.T) {
	const mod = "github.com/newsflow/newsflow/pkg/"
	logic := map[string]string{"fetcher": "fetch", "cleaner": "clean", "enricher": "enrich", "indexer": "index", "alerter": "alert"}
	for _, pkg := range []string{"kit", "fetcher", "cleaner", "enricher", "indexer", "alerter"} {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", mod+"stages/"+pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps: %v", err)
			}
			deps := map[string]bool{}
			for _, d := range strings.Fields(string(out)) {
				deps[strings.TrimPrefix(d, mod)] = true
			}
			for stage, l := range logic {
				if deps[l] != (stage == pkg) {
					t.Errorf("pkg/stages/%s links pkg/%s: %v, want %v", pkg, l, deps[l], stage == pkg)
				}
				if stage != pkg && deps["stages/"+stage] {
					t.Errorf("pkg/stages/%s links pkg/stages/%s", pkg, stage)
				}
			}
			if deps["stages"] {
				t.Errorf("pkg/stages/%s links pkg/stages (which gathers every stage)", pkg)
			}
		})
	}
}
