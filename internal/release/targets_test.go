package release_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/release"
)

func TestBuildsExpandsTargetsLessIgnored(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    map[string][]string
		wantErr string
	}{
		{
			name: "matrix less ignored",
			yaml: "builds:\n- id: p\n  main: .\n  goos: [linux, windows]\n  goarch: [amd64, arm]\n  ignore:\n  - {goos: windows, goarch: arm}\n",
			want: map[string][]string{"p": {"linux_amd64", "linux_arm", "windows_amd64"}},
		},
		{
			name:    "no main",
			yaml:    "builds:\n- id: p\n  goos: [linux]\n  goarch: [amd64]\n",
			wantErr: `build "p"`,
		},
		{
			name:    "not yaml",
			yaml:    "builds: [",
			wantErr: "parse release configuration",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".goreleaser.yml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			builds, err := release.Builds(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, b := range builds {
				for _, target := range b.Targets {
					got[b.ID] = append(got[b.ID], target.String())
				}
			}
			for id, want := range tt.want {
				if !slices.Equal(got[id], want) {
					t.Errorf("build %s: targets %v, want %v", id, got[id], want)
				}
			}
		})
	}
}

// The project's own configuration releases the provider for Windows too.
func TestReleaseConfigurationNamesWindows(t *testing.T) {
	builds, err := release.Builds(filepath.Join(root, ".goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range builds {
		if b.ID == "provider" && slices.Contains(b.Targets, release.Target{GOOS: "windows", GOARCH: "amd64"}) {
			return
		}
	}
	t.Fatalf("no provider build for windows_amd64 in %+v", builds)
}
