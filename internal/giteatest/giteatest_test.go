package giteatest

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestMissingBinarySkipsUnlessRequired: no binary skips the tests that need Gitea,
// except when the run requires it (CI); any other failure to start fails the run.
func TestMissingBinarySkipsUnlessRequired(t *testing.T) {
	t.Setenv(BinaryEnv, filepath.Join(t.TempDir(), "gitea"))
	_, err := binary()
	if !errors.Is(err, errAbsent) {
		t.Fatalf("binary(): %v, want errAbsent", err)
	}
	cases := []struct {
		err     error
		require string
		skip    bool
	}{
		{err, "", true},
		{err, "1", false},
		{errors.New("gitea migrate: exit status 1"), "", false},
	}
	for _, tc := range cases {
		if got := skips(tc.err, tc.require); got != tc.skip {
			t.Errorf("skips(%v, %q) = %v, want %v", tc.err, tc.require, got, tc.skip)
		}
	}
}
