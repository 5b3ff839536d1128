package records

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/edits"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// ChangedByPerson is the reason a proposal whose head the remediator did not make
// waits for good: the rule "the remediator merges only its own tree". People merge
// such a branch through their own process, if they want it.
const ChangedByPerson = "changed by a person"

// Provenance says whether the head is the remediator's own proposal commit for id:
// signed by the remediator's key (a signature nobody else can make, over the commit
// and so over its whole tree) and carrying the id's trailer. It returns why not.
func Provenance(head *object.Commit, id string, remediator ssh.PublicKey) string {
	if remediator == nil {
		return "no signing key: the remediator cannot prove the head is its own (signing.key_file)"
	}
	if err := signing.VerifyCommit(head, remediator); err != nil {
		if errors.Is(err, signing.ErrUnsigned) {
			err = errors.New("it is not signed")
		}
		return fmt.Sprintf("%s: the head %s is not the remediator's own commit (%v); people merge it through their own process if they want it",
			ChangedByPerson, head.Hash.String()[:12], err)
	}
	if got := infrarepo.Trailers(head.Message)["Remediation-Id"]; got != id {
		return fmt.Sprintf("%s: the head %s is a remediator commit of %q, not of %s", ChangedByPerson, head.Hash.String()[:12], got, id)
	}
	return ""
}

// Scope checks the change a merge would make: from the merge base to the head it may
// touch only the files the runbook's changes produce for the recorded anomaly (or, for
// a rollback, the files the reverted merge changed) and the proposal's own artifact,
// and never a protected path. It is checked again right before every merge.
func Scope(infra *infrarepo.Repo, base string, head plumbing.Hash, art *artifact.Artifact, t Terms) (string, error) {
	files, err := infra.ChangedFiles(base, head)
	if err != nil {
		return "", fmt.Errorf("scope of %s: %w", art.ID, err)
	}
	allowed, err := allowedFiles(infra, art, t)
	if err != nil {
		return "", err
	}
	var bad []string
	for _, s := range OutOfScope(files, art.ID, t.Policy.Spec.ProtectedPaths, allowed) {
		if s.Protected != "" {
			bad = append(bad, fmt.Sprintf("%s is protected (%s)", s.File, s.Protected))
		} else {
			bad = append(bad, s.File+" is not a file its runbook changes")
		}
	}
	if len(bad) == 0 {
		return "", nil
	}
	return "the change reaches beyond its runbook: " + strings.Join(bad, "; "), nil
}

// Stray is a file a change may not touch: a protected path (Protected names the
// pattern), or one the proposal's runbook does not produce.
type Stray struct{ File, Protected string }

// OutOfScope lists the files of proposal id's change that it may not touch: its own
// artifact always may be; a protected path (the defaults and protected) never; any
// other file only when allowed says so. The gate and the audit both judge by it.
func OutOfScope(files []string, id string, protected []string, allowed func(string) bool) []Stray {
	var out []Stray
	for _, f := range files {
		if f == artifact.Path(id) {
			continue // its own record; every other file under .remediations/ is protected
		}
		if pattern, ok := runbooks.ProtectedMatch(f, protected); ok {
			out = append(out, Stray{File: f, Protected: pattern})
			continue
		}
		if !allowed(f) {
			out = append(out, Stray{File: f})
		}
	}
	return out
}

// allowedFiles is the set of paths a proposal may change.
func allowedFiles(infra *infrarepo.Repo, art *artifact.Artifact, t Terms) (func(string) bool, error) {
	exact := map[string]bool{artifact.Path(art.ID): true}
	var globs []string
	if art.RollbackOf != "" {
		for _, r := range art.Reverts {
			files, err := infra.CommitFiles(plumbing.NewHash(r.Commit))
			if err != nil {
				return nil, fmt.Errorf("files of the reverted merge %s: %w", r.Commit, err)
			}
			for _, f := range files {
				if !strings.HasPrefix(f, artifact.Dir+"/") {
					exact[f] = true
				}
			}
		}
	} else {
		ea := art.Anomaly.Subject()
		for _, c := range t.Runbook.Spec.Changes {
			if c.Kind == runbooks.ChangeRevert {
				for _, src := range c.Paths {
					if g, err := edits.Target(src, ea); err == nil {
						globs = append(globs, g)
					}
				}
				continue
			}
			if f, err := edits.Target(c.File, ea); err == nil {
				exact[path.Clean(f)] = true
			}
		}
	}
	return func(f string) bool {
		if exact[f] {
			return true
		}
		for _, g := range globs {
			if ok, _ := doublestar.Match(g, f); ok {
				return true
			}
		}
		return false
	}, nil
}
