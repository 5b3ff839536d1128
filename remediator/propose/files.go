package propose

import (
	"os"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
)

// writeArtifact writes the artifact inside the work tree, even if .remediations is a
// symlink planted in the repository.
func writeArtifact(root, id string, data []byte) error {
	p, err := securejoin.SecureJoin(root, filepath.FromSlash(artifact.Path(id)))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}
