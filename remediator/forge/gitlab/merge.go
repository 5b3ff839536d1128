package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// errNoHead is a merge call without the head it must merge at: never sent, since
// GitLab would merge whatever the branch holds.
var errNoHead = errors.New("gitlab: merge without sha refused")

// stillChecking are the detailed merge statuses of a merge request whose
// mergeability GitLab has not computed yet: the next pass tries again.
var stillChecking = map[string]bool{"checking": true, "unchecked": true, "preparing": true, "approvals_syncing": true}

// Merge merges the merge request at exactly the reviewed head sha, with a merge
// commit whose message the caller writes (its trailers), squash and auto-merge off,
// the source branch kept; it returns the merge commit. GitLab's refusals become the
// forge's sentinels:
//   - 409 "SHA does not match HEAD of source branch": the head moved (ErrHeadMoved);
//   - a mergeability still being computed: ErrRetryLater;
//   - 405 (not mergeable: not approved, a draft, a failed pipeline, closed), 406
//     (conflicts) and 422: ErrNotMergeable, with GitLab's message.
func (f *Forge) Merge(ctx context.Context, number int, sha, title, message string) (string, error) {
	if sha == "" {
		return "", errNoHead
	}
	m, err := f.mergeRequest(ctx, number)
	if err != nil {
		return "", err
	}
	if m.SHA != sha {
		return "", fmt.Errorf("gitlab: merge !%d at %s (head now %s): %w", number, sha, m.SHA, forge.ErrHeadMoved)
	}
	// The merge method as it is now, not as the first pass read it.
	project, err := f.readProject(ctx)
	if err != nil {
		return "", err
	}
	if project.MergeMethod == gl.FastForwardMerge {
		return "", fmt.Errorf("gitlab: merge !%d: %w: project %s %w", number, forge.ErrNotMergeable, f.project, errFastForward)
	}
	if stillChecking[m.DetailedMergeStatus] {
		return "", fmt.Errorf("gitlab: merge !%d: %w (mergeability %s)", number, forge.ErrRetryLater, m.DetailedMergeStatus)
	}
	// GitLab's word, not what the forge kept: a request for changes made since the
	// pass read the reviews stops the merge, and the next pass reads them again.
	objections, err := f.objections(ctx, number, sha)
	if err != nil {
		return "", err
	}
	if len(objections) > 0 {
		f.known.forget(number)
		return "", fmt.Errorf("gitlab: merge !%d: %w: changes requested by %s", number, forge.ErrNotMergeable, objections[0].Login)
	}
	merged, _, err := f.api.MergeRequests.AcceptMergeRequest(f.project, int64(number), &gl.AcceptMergeRequestOptions{
		SHA: gl.Ptr(sha), MergeCommitMessage: gl.Ptr(title + "\n\n" + message), Squash: gl.Ptr(false), AutoMerge: gl.Ptr(false),
		ShouldRemoveSourceBranch: gl.Ptr(false)}, gl.WithContext(ctx))
	if err != nil {
		f.known.forget(number)
		return "", mergeRefusal(number, sha, err)
	}
	if merged.State != "merged" || merged.MergeCommitSHA == "" {
		// The merge method changed between the read and the merge: GitLab merged
		// without the remediator's merge commit. Said loudly; audit verify reports it.
		return "", fmt.Errorf("gitlab: merge !%d answered ok but made no merge commit (state %s): %w", number, merged.State, errFastForward)
	}
	return merged.MergeCommitSHA, nil
}

// mergeRefusal maps GitLab's refusal of a merge to the forge's sentinels.
func mergeRefusal(number int, sha string, err error) error {
	msg := strings.ToLower(err.Error())
	switch s := status(err); {
	case s == http.StatusConflict && strings.Contains(msg, "sha does not match"):
		return fmt.Errorf("gitlab: merge !%d at %s: %w", number, sha, forge.ErrHeadMoved)
	case s == http.StatusMethodNotAllowed, s == http.StatusNotAcceptable, s == http.StatusUnprocessableEntity, s == http.StatusConflict:
		return fmt.Errorf("gitlab: merge !%d: %w: %w", number, forge.ErrNotMergeable, err)
	}
	return fmt.Errorf("gitlab: merge !%d: %w", number, err)
}
