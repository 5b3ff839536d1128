// Command gen writes docs/remediator-config.md and docs/remediator-config.schema.json
// from remediator/config (`make generate` runs it from the module's root).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/configdoc"
)

func main() {
	root := flag.String("root", ".", "the module's root")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(root string) error {
	files, err := configdoc.Render(root)
	if err != nil {
		return err
	}
	for name, content := range files {
		if err := writeFile(filepath.Join(root, name), content); err != nil {
			return err
		}
	}
	return nil
}

// writeFile replaces the file whole (a temporary file renamed), so a failed run
// never leaves half a reference.
func writeFile(path string, content []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".configdoc-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
