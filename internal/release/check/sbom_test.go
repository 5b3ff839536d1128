package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckSBOM(t *testing.T) {
	const archive = "remediator_0.1.0_linux_amd64.tar.gz"
	cases := []struct {
		name, doc, want string // want: a problem's words; "" for none
	}{
		{"no SBOM", "", "no SBOM for " + archive},
		{"not SPDX", `{"bomFormat": "CycloneDX"}`, "is not an SPDX JSON document"},
		{"not JSON", `spdxVersion: SPDX-2.3`, "is not an SPDX JSON document"},
		{"an SBOM of nothing", `{"spdxVersion": "SPDX-2.3", "packages": [{"name": "stdlib"}]}`, "lists 1 packages, not github.com/go-git/go-git/v5"},
		{"what the binary links", `{"spdxVersion": "SPDX-2.3", "packages": [{"name": "stdlib"}, {"name": "github.com/go-git/go-git/v5"}]}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dist := t.TempDir()
			if tc.doc != "" {
				if err := os.WriteFile(filepath.Join(dist, archive+".sbom.json"), []byte(tc.doc), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			problems := checkSBOM(dist, archive)
			if tc.want == "" && len(problems) != 0 || tc.want != "" && (len(problems) != 1 || !strings.Contains(problems[0], tc.want)) {
				t.Fatalf("problems %q, want %q", problems, tc.want)
			}
		})
	}
}
