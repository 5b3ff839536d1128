package propose

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/edits"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// applyChanges applies the runbook's changes, in order, to the work tree, noting
// each in the artifact: the files changed.
func (pr *proposal) applyChanges(wt *infrarepo.WorkTree, art *artifact.Artifact) ([]string, error) {
	rb, a, protected := pr.rb, pr.a, pr.pol.Spec.ProtectedPaths
	var files []string
	for i, c := range rb.Spec.Changes {
		if c.Kind == runbooks.ChangeRevert {
			reverted, err := pr.revert(wt, i, c, art)
			if err != nil {
				return nil, err
			}
			files = append(files, reverted...)
			continue
		}
		ea := a.Subject()
		target, err := edits.Target(c.File, ea)
		if err != nil {
			return nil, &InputError{fmt.Errorf("runbook %s change %d: %w", rb.Metadata.Name, i, err)}
		}
		if err := wt.Materialize(target); err != nil {
			return nil, err
		}
		e, err := edits.Apply(wt.Dir, c, ea, protected)
		if err != nil {
			return nil, &InputError{fmt.Errorf("runbook %s change %d: %w", rb.Metadata.Name, i, err)}
		}
		if e.Changed {
			files = append(files, e.File)
			art.Changes = append(art.Changes, artifact.Change{File: e.Path, Path: c.Path, From: fmt.Sprint(e.Current), To: fmt.Sprint(e.New)})
		}
	}
	return files, nil
}

// revert undoes the newest base commit within the change's window that touches its
// paths, for those paths. Nothing found is no change; a file changed again since, or
// a protected one, is refused.
func (pr *proposal) revert(wt *infrarepo.WorkTree, i int, c runbooks.Change, art *artifact.Artifact) ([]string, error) {
	p, rb, protected := pr.p, pr.rb, pr.pol.Spec.ProtectedPaths
	// The patterns are path templates too: render them for this anomaly first.
	globs := make([]string, len(c.Paths))
	for j, src := range c.Paths {
		g, err := edits.Target(src, art.Anomaly.Subject())
		if err != nil {
			return nil, &InputError{fmt.Errorf("runbook %s change %d: paths[%d]: %w", rb.Metadata.Name, i, j, err)}
		}
		globs[j] = g
	}
	match := func(name string) bool {
		for _, g := range globs {
			if ok, _ := doublestar.Match(g, name); ok {
				return true
			}
		}
		return false
	}
	// The suspects are the changes merged within `within` before the anomaly
	// started; one whose start is unknown started now.
	until := p.Now()
	if t, err := time.Parse(time.RFC3339, art.Anomaly.StartsAt); err == nil && !t.IsZero() && t.Before(until) {
		until = t
	}
	plan, err := p.Infra.PlanRevert(p.Base, infrarepo.Suspects{From: until.Add(-c.Within.Std()), Until: until}, match)
	if errors.Is(err, infrarepo.ErrRevertConflict) {
		return nil, &InputError{fmt.Errorf("runbook %s change %d: %w", rb.Metadata.Name, i, err)}
	}
	if err != nil || plan == nil {
		return nil, err
	}
	subject, _, _ := strings.Cut(plan.Commit.Message, "\n")
	art.Reverts = append(art.Reverts, artifact.Reverted{Commit: plan.Commit.Hash.String(), Subject: subject, Why: plan.Why})
	var files []string
	for _, f := range plan.Files {
		if pattern, bad := runbooks.ProtectedMatch(f.Path, protected); bad {
			return nil, &InputError{fmt.Errorf("runbook %s change %d: the revert of %s would change %s, which is protected (%s)",
				rb.Metadata.Name, i, plan.Commit.Hash.String()[:12], f.Path, pattern)}
		}
		dst := filepath.Join(wt.Dir, filepath.FromSlash(f.Path))
		if f.Delete {
			if err := os.Remove(dst); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		} else {
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(dst, f.Content, 0o644); err != nil {
				return nil, err
			}
		}
		to := "the content before " + plan.Commit.Hash.String()[:12]
		if f.Delete {
			to = "deleted"
		}
		files = append(files, f.Path)
		art.Changes = append(art.Changes, artifact.Change{File: f.Path, Path: "revert " + plan.Commit.Hash.String()[:12], From: artifact.OneLine(subject), To: to})
	}
	return files, nil
}
