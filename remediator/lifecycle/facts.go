package lifecycle

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/infrarepo"
)

// Facts are what the forge knows about a proposal beyond its approvals: the checks
// reported on a commit and who belongs to which team.
type Facts interface {
	Checks(ctx context.Context, sha string) (map[string]forge.CheckState, error)
	TeamMember(ctx context.Context, team, login string) (bool, error)
}

// ChecksRef holds the local forge's check results: one note per commit, one line per
// report, "<state> <name>", the last line for a name winning. CI (or `remediator
// plan-check --comment` on the local forge) appends to it.
const ChecksRef = "refs/notes/remediation-checks"

// ParseChecks reads a checks note; lines that are not "<state> <name>" are skipped.
func ParseChecks(note []byte) map[string]forge.CheckState {
	out := map[string]forge.CheckState{}
	for _, line := range strings.Split(string(note), "\n") {
		state, name, ok := strings.Cut(strings.TrimSpace(line), " ")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			continue
		}
		switch s := forge.CheckState(state); s {
		case forge.CheckSuccess, forge.CheckPending, forge.CheckFailure:
			out[name] = s
		}
	}
	return out
}

// AddCheck appends one report to a checks note.
func AddCheck(note []byte, name string, state forge.CheckState) []byte {
	s := string(note)
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return []byte(s + string(state) + " " + strings.ReplaceAll(name, "\n", " ") + "\n")
}

// RecordCheck appends a check report to the commit's checks note and pushes it.
func RecordCheck(ctx context.Context, infra *infrarepo.Repo, sha plumbing.Hash, name string, state forge.CheckState, author, email string, now time.Time) error {
	_, err := infra.UpdateNote(ctx, ChecksRef, sha, "check "+name, author, email, now, func(old []byte) ([]byte, error) {
		return AddCheck(old, name, state), nil
	})
	if err != nil {
		return fmt.Errorf("record check %s: %w", name, err)
	}
	return nil
}

// localFacts are the local forge's: checks from the checks note, teams from the
// configuration (a plain Git server has no organisation to ask).
type localFacts struct {
	infra *infrarepo.Repo
	teams map[string][]string
}

func (f localFacts) Checks(_ context.Context, sha string) (map[string]forge.CheckState, error) {
	note, _, err := f.infra.Note(ChecksRef, plumbing.NewHash(sha))
	if err != nil {
		return nil, err
	}
	return ParseChecks(note), nil
}

func (f localFacts) TeamMember(_ context.Context, team, who string) (bool, error) {
	members, ok := f.teams[team]
	if !ok {
		return false, fmt.Errorf("team %s is not declared under forge.teams in the configuration (the local forge has no organisation to ask)", team)
	}
	for _, m := range members {
		if strings.EqualFold(m, who) {
			return true, nil
		}
	}
	return false, nil
}
