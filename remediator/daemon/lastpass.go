package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/decision"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/lifecycle"
)

// LastPass is what the reconcile passes found, as the status page and `status`
// show it: kept by the daemon in memory and in a file of the state directory, so
// showing it never asks the forge. A pass narrowed to what webhook deliveries named
// updates the proposals it looked at; a full pass replaces them all.
type LastPass struct {
	// At is when the last pass ended; Full when the last full pass did.
	At   time.Time `json:"at"`
	Full time.Time `json:"full"`
	// Error is why the last pass did not finish, if it did not.
	Error string `json:"error,omitempty"`
	// Proposals are the open proposals by id; Verifying the merged remediations
	// the last pass verified.
	Proposals map[string]lifecycle.Result `json:"proposals"`
	Verifying []lifecycle.Result          `json:"verifying"`
}

// DryRunPass records a dry-run pass's outcomes, as the status shows them.
func DryRunPass(outcomes []lifecycle.Result, passErr error, at time.Time) *LastPass {
	l := &LastPass{}
	l.apply(outcomes, passErr, true, at)
	return l
}

// proposalActions are what a pass says of an open proposal.
var proposalActions = map[decision.Action]bool{decision.Waiting: true, decision.WouldMerge: true, decision.WouldClose: true}

// apply records one pass's outcomes.
func (l *LastPass) apply(outcomes []lifecycle.Result, passErr error, full bool, at time.Time) {
	if l.Proposals == nil || full {
		l.Proposals = map[string]lifecycle.Result{}
	}
	l.At, l.Error = at, ""
	if full {
		l.Full = at
	}
	if passErr != nil {
		l.Error = passErr.Error()
	}
	var verifying []lifecycle.Result
	for _, o := range outcomes {
		switch {
		case proposalActions[o.Action]:
			l.Proposals[o.ID] = o
		case o.Action == decision.Closed:
			delete(l.Proposals, o.ID)
		default: // merged now, or a merged remediation's verification
			delete(l.Proposals, o.ID)
			verifying = append(verifying, o)
		}
	}
	l.Verifying = verifying
}

// Outcomes are the pass's outcomes in a stable order: proposals by id, then the
// verifications.
func (l *LastPass) Outcomes() []lifecycle.Result {
	out := make([]lifecycle.Result, 0, len(l.Proposals)+len(l.Verifying))
	for _, o := range l.Proposals {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return append(out, l.Verifying...)
}

// Err is the last pass's error, or nil.
func (l *LastPass) Err() error {
	if l.Error == "" {
		return nil
	}
	return errors.New(l.Error)
}

// LastPassFile is where serve keeps the last pass in its state directory.
func LastPassFile(stateDir string) string { return filepath.Join(stateDir, "status", "last-pass.json") }

// save writes the record whole or not at all (a rename), for `status` to read.
func (l *LastPass) save(file string) error {
	data, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encode the last pass: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("keep the last pass: %w", err)
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("keep the last pass: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("keep the last pass: %w", err)
	}
	return nil
}

// ReadLastPass reads the record serve keeps; found is false when no pass has been
// kept there yet.
func ReadLastPass(file string) (l *LastPass, found bool, err error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read the last pass: %w", err)
	}
	l = &LastPass{}
	if err := json.Unmarshal(data, l); err != nil {
		return nil, false, fmt.Errorf("read the last pass %s: %w", file, err)
	}
	return l, true, nil
}
