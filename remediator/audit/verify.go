package audit

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/signing"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Trust is what the audit checks the history against. Each part left nil is a check
// not made (and said so by the command).
type Trust struct {
	// Remediator is the remediator's public key: its proposal heads, its merges and
	// its records of GitHub reviews are signed with it.
	Remediator ssh.PublicKey
	// Reviewers are the keys approvals on the local forge are signed with.
	Reviewers *signing.AllowedSigners
	// Teams are the members of each org/team on the local forge.
	Teams map[string][]string
	// Reporters are the principals of forge.check_reporters: an approval by one of
	// them, or with a key listed for one, is flagged (a reporter is not a reviewer).
	Reporters []string
	// CatalogAt is the catalog published at a time.
	CatalogAt func(at time.Time) (*runbooks.Catalog, error)
}

// Verify adds the findings about provenance, scope, the catalog, approvals and
// outcomes to the ledger's own (the artifacts changed outside their merge, found while
// building it). repo is the repository the ledger was built from.
func (l *Ledger) Verify(repo *git.Repository, t Trust) []Finding {
	out := append([]Finding(nil), l.Findings...)
	for i := range l.Entries {
		out = append(out, verifyEntry(repo, &l.Entries[i], t)...)
	}
	return append(out, l.deletedRecords(repo, t)...)
}

func verifyEntry(repo *git.Repository, e *Entry, t Trust) []Finding {
	var out []Finding
	add := func(kind, format string, args ...any) {
		out = append(out, Finding{Commit: e.Merge, ID: e.ID, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
	merge, err := repo.CommitObject(plumbing.NewHash(e.Merge))
	if err != nil {
		add(FindingBadArtifact, "read the merge: %v", err)
		return out
	}
	head, err := repo.CommitObject(plumbing.NewHash(e.Head))
	if err != nil {
		add(FindingForeignHead, "read the merged head %s: %v", e.Head[:12], err)
		return out
	}
	if t.Remediator != nil {
		if reason := records.Provenance(head, e.ID, t.Remediator); reason != "" {
			add(FindingForeignHead, "%s", reason)
		}
	}
	// The catalog's word where there is one: the rollback of a runbook since deleted
	// is judged at critical risk, whatever its artifact and trailers claim.
	required, risk := e.RequiredApprovals, e.Risk
	var terms *records.Terms
	if t.CatalogAt != nil && e.art != nil {
		terms = catalogTerms(e, t, add)
		if terms != nil {
			required, risk = terms.Required, string(terms.Risk)
		}
	}
	counted := approvals(e, t, add)
	decided(merge, e, t, add)
	if t.Remediator != nil {
		// Every merge, whatever its approvals: the remediator's records of GitHub
		// reviews prove approvals, never who merged (provenance_github.go).
		if reason := mergeProvenance(merge, e, t.Remediator); reason != "" {
			add(FindingMergeNotOurs, "%s", reason)
		}
	}
	if t.Remediator != nil && e.outcomeNote != nil {
		if ev := records.ReadOutcome(e.outcomeNote, merge.Hash, t.Remediator); ev.Tampered != "" {
			add(FindingOutcomeNotOurs, "%s: it counts for nothing (no record, no breaker)", ev.Tampered)
		}
	}
	if e.art != nil {
		scope(merge, scopeEntry(head, e, add), terms, add)
	}
	if len(counted) < required {
		add(FindingApprovals, "merged with %d valid approval(s); policy %s required %d for risk %s", len(counted), e.Policy, required, risk)
	}
	if terms != nil {
		for _, want := range terms.Policy.Spec.RequiredReviewers {
			if !reviewed(want, counted, t.Teams) {
				add(FindingReviewer, "policy %s requires an approval by %s; none of the valid approvals is theirs", terms.Policy.Metadata.Name, want)
			}
		}
	}
	if e.Outcome == OutcomeMissing {
		add(FindingNoOutcome, "merged at %s; no outcome recorded within %s", e.MergedAt.UTC().Format("2006-01-02T15:04:05Z"), e.within)
	}
	return out
}

// approvals checks every Approved-by trailer against the signed approvals recorded on
// the merged head, and returns those that count.
func approvals(e *Entry, t Trust, add func(kind, format string, args ...any)) []records.Approval {
	trust := records.Trust{Reviewers: t.Reviewers, Remediator: t.Remediator, AcceptForge: true,
		Excluded: []string{e.headAuth[0], e.headAuth[1]}, Reporters: t.Reporters, Now: e.MergedAt}
	counted, ignored := records.Counted(e.Head, e.noteApps, trust)
	backed := map[string]bool{}
	for _, a := range counted {
		backed[signing.Normalize(a.Principal)] = true
	}
	why := map[string]string{}
	for _, reason := range ignored {
		who, r, _ := strings.Cut(reason, ": ")
		why[signing.Normalize(who)] = r
	}
	var valid []records.Approval
	for _, who := range distinct(e.Approvers) {
		key := signing.Normalize(who)
		if backed[key] {
			for _, a := range counted {
				if a.Is(who) {
					valid = append(valid, a)
				}
			}
			continue
		}
		detail := "no approval recorded on the proposal head " + e.Head[:12]
		if r, ok := why[key]; ok {
			detail = "its approval on the proposal head " + e.Head[:12] + " does not count: " + r
		}
		add(FindingUnbacked, "Approved-by %s: %s", who, detail)
	}
	return valid
}

// catalogTerms judges the merged artifact by the catalog published when it merged.
func catalogTerms(e *Entry, t Trust, add func(kind, format string, args ...any)) *records.Terms {
	cat, err := t.CatalogAt(e.MergedAt)
	if err != nil {
		add(FindingCatalog, "the catalog published at %s cannot be read: %v", e.MergedAt.UTC().Format(time.RFC3339), err)
		return nil
	}
	router, err := runbooks.NewRouter(cat)
	if err != nil {
		add(FindingCatalog, "the catalog published at the merge does not compile: %v", err)
		return nil
	}
	terms, refusal := records.TermsOf(cat, router, e.ID, e.art)
	if refusal != nil {
		add(FindingCatalog, "%s", refusal.Reason)
		return nil
	}
	return &terms
}

// scope flags what the merge changed beyond the files its artifact records, and any
// protected path.
func scope(merge *object.Commit, e *Entry, terms *records.Terms, add func(kind, format string, args ...any)) {
	files, err := mergeFiles(merge)
	if err != nil {
		// What cannot be read cannot be vouched for.
		add(FindingScope, "the files the merge changed cannot be read: %v", err)
		return
	}
	allowed := map[string]bool{}
	for _, c := range e.art.Changes {
		allowed[c.File] = true
	}
	var extra []string
	if terms != nil {
		extra = terms.Policy.Spec.ProtectedPaths
	}
	for _, s := range records.OutOfScope(files, e.ID, extra, func(f string) bool { return allowed[f] }) {
		if s.Protected != "" {
			add(FindingScope, "the merge changed %s, which is protected (%s)", s.File, s.Protected)
		} else {
			add(FindingScope, "the merge changed %s, which its artifact does not record", s.File)
		}
	}
}

// mergeFiles lists the paths a merge changed against its first parent (the base).
func mergeFiles(merge *object.Commit) ([]string, error) {
	parent, err := merge.Parent(0)
	if err != nil {
		return nil, err
	}
	from, err := parent.Tree()
	if err != nil {
		return nil, err
	}
	to, err := merge.Tree()
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTree(from, to)
	if err != nil {
		return nil, err
	}
	files := make([]string, 0, len(changes))
	for _, c := range changes {
		name := c.To.Name
		if name == "" {
			name = c.From.Name
		}
		files = append(files, name)
	}
	return files, nil
}

// reviewed says whether a required reviewer (a user, or an org/team of the local
// forge's teams) is among the valid approvals.
func reviewed(want string, counted []records.Approval, teams map[string][]string) bool {
	names := []string{want}
	if strings.Contains(want, "/") {
		if teams[want] == nil {
			return true // a GitHub team: its membership is GitHub's to say, not Git's
		}
		names = teams[want]
	}
	for _, a := range counted {
		for _, n := range names {
			if a.Is(n) {
				return true
			}
		}
	}
	return false
}

func distinct(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if k := signing.Normalize(s); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// String is the finding as one line of `audit verify`.
func (f Finding) String() string {
	id := f.ID
	if id == "" {
		id = "-"
	}
	return fmt.Sprintf("%s %s %s: %s", f.Commit[:12], f.Kind, id, f.Detail)
}
