package release

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Version is the version goreleaser built, from the dist's metadata.json (without v).
func Version(dist string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err != nil {
		return "", fmt.Errorf("read release metadata: %w", err)
	}
	var m struct {
		Version string `json:"version"`
		Commit  string `json:"commit"`
	}
	if err := json.Unmarshal(raw, &m); err != nil || m.Version == "" {
		return "", fmt.Errorf("read release metadata %s: no version (%w)", dist, err)
	}
	return m.Version, nil
}
