// Package release reads the release configuration (.goreleaser.yml) so the tests
// that build, package and check a release use the same targets as the release does
// and cannot drift from it.
package release

import (
	"fmt"
	"os"
	"slices"

	"gopkg.in/yaml.v3"
)

// Build is one entry of the configuration's builds: a main package and the targets
// it is released for.
type Build struct {
	ID      string
	Main    string
	Binary  string
	Targets []Target
}

// Target is one GOOS/GOARCH a build is released for.
type Target struct {
	GOOS, GOARCH string
}

// Env is the target's build environment as goreleaser sets it: CGO off, and for 32-bit
// ARM goreleaser's default GOARM (6), not Go's (7), so a build here shares the build
// cache with the release's.
func (t Target) Env() []string {
	env := []string{"CGO_ENABLED=0", "GOOS=" + t.GOOS, "GOARCH=" + t.GOARCH}
	if t.GOARCH == "arm" {
		env = append(env, "GOARM=6")
	}
	return env
}

// ByTarget lists, for each target, the builds released for it: what one go build
// invocation per target compiles.
func ByTarget(builds []Build) ([]Target, map[Target][]Build) {
	var order []Target
	by := map[Target][]Build{}
	for _, b := range builds {
		for _, t := range b.Targets {
			if by[t] == nil {
				order = append(order, t)
			}
			by[t] = append(by[t], b)
		}
	}
	return order, by
}

func (t Target) String() string { return t.GOOS + "_" + t.GOARCH }

type pair struct {
	GOOS   string `yaml:"goos"`
	GOARCH string `yaml:"goarch"`
}

type config struct {
	Builds []struct {
		ID     string   `yaml:"id"`
		Main   string   `yaml:"main"`
		Binary string   `yaml:"binary"`
		GOOS   []string `yaml:"goos"`
		GOARCH []string `yaml:"goarch"`
		Ignore []pair   `yaml:"ignore"`
	} `yaml:"builds"`
}

// Builds reads the builds of the goreleaser configuration at path, each with its
// targets: every goos × goarch, less the ignored pairs.
func Builds(path string) ([]Build, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read release configuration: %w", err)
	}
	var c config
	if err := yaml.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("parse release configuration %s: %w", path, err)
	}
	builds := make([]Build, 0, len(c.Builds))
	for _, b := range c.Builds {
		if b.ID == "" || b.Main == "" || len(b.GOOS) == 0 || len(b.GOARCH) == 0 {
			return nil, fmt.Errorf("parse release configuration %s: build %q: id, main, goos and goarch are all needed", path, b.ID)
		}
		out := Build{ID: b.ID, Main: b.Main, Binary: b.Binary}
		for _, goos := range b.GOOS {
			for _, goarch := range b.GOARCH {
				if !slices.Contains(b.Ignore, pair{GOOS: goos, GOARCH: goarch}) {
					out.Targets = append(out.Targets, Target{GOOS: goos, GOARCH: goarch})
				}
			}
		}
		builds = append(builds, out)
	}
	return builds, nil
}
