package records

import (
	"context"
	"strings"
	"testing"
)

// On the local forge a team is the members the configuration lists (forge.teams):
// a member is one of them, in any spelling of the identity; an undeclared team is an
// error naming it, never an empty team nor anyone's. Mutation testing (make
// mutation) found this unguarded.
func TestRuleLocalTeamIsItsConfiguredMembers(t *testing.T) {
	f := localFacts{teams: map[string][]string{"org/sre": {"dave@example.com", "Carol@Example.com"}, "org/empty": nil}}
	for _, tc := range []struct {
		team, who string
		member    bool
	}{
		{"org/sre", "dave@example.com", true},
		{"org/sre", "carol@example.COM", true},
		{"org/sre", "erin@example.com", false},
		{"org/sre", "carol", false},
		{"org/empty", "dave@example.com", false},
	} {
		got, err := f.TeamMember(context.Background(), tc.team, tc.who)
		if err != nil || got != tc.member {
			t.Errorf("%s in %s: %v %v, want %v", tc.who, tc.team, got, err, tc.member)
		}
	}
	if ok, err := f.TeamMember(context.Background(), "org/db", "dave@example.com"); ok || err == nil || !strings.Contains(err.Error(), "team org/db is not declared under forge.teams") {
		t.Fatalf("an undeclared team: %v %v", ok, err)
	}
}
