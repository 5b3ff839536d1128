package gitlab_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/fakegitlab"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge/gitlab"
)

// syncBuffer is a log destination safe for the forge's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTheFirstPassWarnsWhenCommitAuthorsMayApprove: only GitLab can match a commit's
// email to an account, so the first pass says, once, when the project lets people
// who added commits approve, naming the setting that stops them.
func TestTheFirstPassWarnsWhenCommitAuthorsMayApprove(t *testing.T) {
	for _, prevent := range []bool{false, true} {
		w := newWorld(t)
		w.s.Configure(project, fakegitlab.Settings{CommittersCannotApprove: prevent})
		var logs syncBuffer
		f, err := gitlab.New(gitlab.Options{BaseURL: w.s.URL, Project: project, Token: "rtoken",
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := f.OpenProposals(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		warned := strings.Count(logs.String(), "merge_requests_disable_committers_approval is off")
		if want := map[bool]int{false: 1, true: 0}[prevent]; warned != want {
			t.Errorf("prevent=%v: warned %d times, want %d: %s", prevent, warned, want, logs.String())
		}
		if !prevent && !strings.Contains(logs.String(), "Prevent approvals by users who add commits") {
			t.Errorf("the warning does not name the setting: %s", logs.String())
		}
	}
}
