package plancheck

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
)

// ReadArtifact reads an artifact file given on the command line.
func ReadArtifact(file string) (*artifact.Artifact, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read artifact: %w", err)
	}
	a, err := artifact.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return a, nil
}

// FindArtifact finds the artifact the checked-out change adds or changes: the files
// under .remediations/ that differ between HEAD and its merge base with base (a
// branch, origin/<branch>, or a commit). found is false when there is none: the
// change is not a remediation. More than one is an error: a proposal carries one.
func FindArtifact(repoDir, base string) (a *artifact.Artifact, file string, found bool, err error) {
	repo, err := git.PlainOpenWithOptions(repoDir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, "", false, fmt.Errorf("open repository %s: %w", repoDir, err)
	}
	headRef, err := repo.Head()
	if err != nil {
		return nil, "", false, fmt.Errorf("read HEAD of %s: %w", repoDir, err)
	}
	head, err := repo.CommitObject(headRef.Hash())
	if err != nil {
		return nil, "", false, err
	}
	baseHash, err := resolve(repo, base)
	if err != nil {
		return nil, "", false, fmt.Errorf("--base %s: %w", base, err)
	}
	baseCommit, err := repo.CommitObject(baseHash)
	if err != nil {
		return nil, "", false, err
	}
	bases, err := head.MergeBase(baseCommit)
	if err != nil {
		return nil, "", false, fmt.Errorf("merge base of HEAD and %s: %w", base, err)
	}
	if len(bases) == 0 {
		return nil, "", false, fmt.Errorf("HEAD and %s share no history", base)
	}
	from, err := bases[0].Tree()
	if err != nil {
		return nil, "", false, err
	}
	to, err := head.Tree()
	if err != nil {
		return nil, "", false, err
	}
	changes, err := object.DiffTree(from, to)
	if err != nil {
		return nil, "", false, err
	}
	var files []string
	for _, c := range changes {
		action, err := c.Action()
		if err != nil {
			return nil, "", false, err
		}
		name := c.To.Name
		if action == merkletrie.Delete {
			continue
		}
		if path.Dir(name) == artifact.Dir && strings.HasSuffix(name, ".yaml") {
			files = append(files, name)
		}
	}
	switch len(files) {
	case 0:
		return nil, "", false, nil
	case 1:
	default:
		return nil, "", false, fmt.Errorf("the change holds %d remediation artifacts (%s): a proposal carries exactly one", len(files), strings.Join(files, ", "))
	}
	f, err := to.File(files[0])
	if err != nil {
		return nil, "", false, err
	}
	data, err := f.Contents()
	if err != nil {
		return nil, "", false, err
	}
	a, err = artifact.Decode([]byte(data))
	if err != nil {
		return nil, "", false, fmt.Errorf("%s: %w", files[0], err)
	}
	return a, files[0], true, nil
}

func resolve(repo *git.Repository, rev string) (plumbing.Hash, error) {
	for _, r := range []string{rev, "refs/remotes/origin/" + rev, "refs/heads/" + rev} {
		if h, err := repo.ResolveRevision(plumbing.Revision(r)); err == nil {
			return *h, nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("no branch or commit %q", rev)
}
