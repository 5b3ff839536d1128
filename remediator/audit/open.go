package audit

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Open opens a repository for reading its whole history: a bare repository, or the
// .git of a work tree (the directory or any below it). Pack files stay open for the
// walk: go-git otherwise reopens one per object read, which on a 100,000-commit
// history costs more than the reading.
func Open(dir string) (*git.Repository, error) {
	gitDir, err := findGitDir(dir)
	if err != nil {
		return nil, err
	}
	st := filesystem.NewStorageWithOptions(osfs.New(gitDir), cache.NewObjectLRU(256*cache.MiByte),
		filesystem.Options{KeepDescriptors: true})
	repo, err := git.Open(st, nil)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", dir, err)
	}
	return repo, nil
}

func findGitDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if isGitDir(d) {
			return d, nil
		}
		if isGitDir(filepath.Join(d, ".git")) {
			return filepath.Join(d, ".git"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("open repository %s: %w", dir, git.ErrRepositoryNotExists)
		}
	}
}

func isGitDir(d string) bool {
	for _, f := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(d, f)); err != nil {
			return false
		}
	}
	return true
}
