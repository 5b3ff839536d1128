package forge

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
)

// MaxBody is GitHub's limit on a pull request body or comment, in characters.
const MaxBody = 65536

// Title is the pull request title: the first line of the proposal commit.
func Title(a *artifact.Artifact) string {
	title, _, _ := strings.Cut(a.CommitMessage(), "\n")
	return title
}

// ProposalMarker is the hidden line that identifies a proposal's pull request, with
// the facts the remediator counts limits by.
func ProposalMarker(a *artifact.Artifact) string {
	return fmt.Sprintf("<!-- remediation:proposal id=%s runbook=%s policy=%s risk=%s -->",
		markerValue(a.ID), markerValue(a.Runbook), markerValue(a.Policy), markerValue(a.Risk))
}

// markerValue keeps a value from ending the comment or adding fields: names are
// validated upstream, this is the second fence.
func markerValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '>' || r == '<' || r == '=' || r == '!' {
			return '_'
		}
		return r
	}, s)
}

var markerRE = regexp.MustCompile(`<!-- remediation:proposal ((?:[a-z]+=[^\s]* ?)+)-->`)

// ParseMarker finds the proposal marker in a body and returns its fields; ok is false
// when the body has none (a pull request a person opened on the branch).
func ParseMarker(body string) (fields map[string]string, ok bool) {
	m := markerRE.FindStringSubmatch(body)
	if m == nil {
		return nil, false
	}
	fields = map[string]string{}
	for _, kv := range strings.Fields(m[1]) {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	return fields, fields["id"] != ""
}

// Body renders the pull request description: what fired, what the runbook changes and
// why, the risk and approvals it needs, what success looks like and how it is undone.
// Values from the anomaly are shown as code, so a label cannot inject Markdown or
// HTML. The result always fits GitHub's limit: the longest sections are cut first.
func Body(r Request) string {
	a := r.Artifact
	var b strings.Builder
	b.WriteString(ProposalMarker(a) + "\n")
	fmt.Fprintf(&b, "## Remediation `%s`\n\n", code(a.ID))
	fmt.Fprintf(&b, "Runbook **%s** (version `%s`) proposes this change for target `%s`.\n\n", code(a.Runbook), code(a.RunbookVersion), code(a.Target))
	if !a.Merge.Allowed {
		fmt.Fprintf(&b, "> [!WARNING]\n> Not mergeable yet: %s.\n\n", artifact.OneLine(a.Merge.Reason))
	}
	b.WriteString("### Anomaly\n\n")
	fmt.Fprintf(&b, "| | |\n|---|---|\n| source | `%s` |\n| status | `%s` |\n| started | `%s` |\n| value | `%g` |\n| fingerprint | `%s` |\n",
		code(a.Anomaly.Source), code(a.Anomaly.Status), code(a.Anomaly.StartsAt), a.Anomaly.Value, code(a.Anomaly.Fingerprint))
	for _, k := range sortedKeys(a.Anomaly.Labels) {
		fmt.Fprintf(&b, "| label `%s` | `%s` |\n", code(k), code(a.Anomaly.Labels[k]))
	}
	for _, k := range sortedKeys(a.Anomaly.Annotations) {
		fmt.Fprintf(&b, "| annotation `%s` | `%s` |\n", code(k), code(a.Anomaly.Annotations[k]))
	}
	b.WriteString("\n### Risk and approval\n\n")
	fmt.Fprintf(&b, "Risk **%s** under policy **%s**: %d approval(s) required", code(a.Risk), code(a.Policy), a.RequiredApprovals)
	if len(r.Reviewers) > 0 {
		quoted := make([]string, len(r.Reviewers))
		for i, rv := range r.Reviewers {
			quoted[i] = "`" + code(rv) + "`"
		}
		fmt.Fprintf(&b, ", reviewers %s", strings.Join(quoted, ", "))
	}
	b.WriteString(".\n\n### Changes\n\n| file | path | from | to |\n|---|---|---|---|\n")
	for _, c := range a.Changes {
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` | `%s` |\n", code(c.File), code(c.Path), code(c.From), code(c.To))
	}
	if len(r.DiffStat) > 0 {
		b.WriteString("\n| file | + | - |\n|---|---|---|\n")
		for _, s := range r.DiffStat {
			fmt.Fprintf(&b, "| `%s` | %d | %d |\n", code(s.File), s.Additions, s.Deletions)
		}
	}
	b.WriteString("\n### Expected outcome and verification\n\n")
	fmt.Fprintf(&b, "%s.\n", artifact.OneLine(a.Expected))
	if a.Verify.PromQL != "" {
		fmt.Fprintf(&b, "\n```promql\n%s\n```\n", fence(a.Verify.PromQL))
	}
	b.WriteString("\n### Rollback\n\n")
	if a.Rollback == "none" {
		b.WriteString("None: the runbook declares no rollback. A failed verification is reported, nothing is reverted.\n")
	} else {
		b.WriteString("If verification fails, the remediator proposes the revert of this merge as its own pull request, under the same approval rules.\n")
	}
	fmt.Fprintf(&b, "\nThe full record is `%s` in this change.\n", code(artifact.Path(a.ID)))
	return Truncate(b.String(), MaxBody)
}

// Truncate cuts text to at most limit characters on a line boundary and says so.
func Truncate(s string, limit int) string {
	if len([]rune(s)) <= limit {
		return s
	}
	const note = "\n\n_(cut to fit the forge's limit; the full record is in the artifact file)_\n"
	r := []rune(s)[:limit-len(note)]
	cut := string(r)
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	}
	if strings.Count(cut, "```")%2 == 1 {
		cut += "\n```"
	}
	return cut + note
}

// code makes a value safe inside a Markdown code span on one table row.
func code(s string) string {
	s = artifact.OneLine(s)
	s = strings.ReplaceAll(s, "`", "'")
	return strings.ReplaceAll(s, "|", `\|`)
}

// fence keeps a value from closing a fenced block.
func fence(s string) string { return strings.ReplaceAll(s, "```", "'''") }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
