package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// mergeOption is the body of POST /repos/{owner}/{repo}/pulls/{n}/merge.
type mergeOption struct {
	Do           string `json:"Do"`
	Title        string `json:"MergeTitleField"`
	Message      string `json:"MergeMessageField"`
	HeadCommitID string `json:"head_commit_id"`
}

// Merge merges the pull request at exactly the reviewed head sha, with a merge
// commit whose message the caller writes (its trailers), and returns the merge
// commit. Gitea's refusals become the forge's sentinels:
//   - 409 "head out of date": the branch moved (ErrHeadMoved);
//   - 405 "Please try again later": Gitea has not yet computed the mergeability of
//     a head just pushed, and 409 "merge push out of date": the base moved during
//     the merge (ErrRetryLater: the next pass tries again);
//   - any other 405 or 409 (no permission, conflicts, branch protection, a work in
//     progress): ErrNotMergeable, with Gitea's message.
func (f *Forge) Merge(ctx context.Context, number int, sha, title, message string) (string, error) {
	if sha == "" {
		return "", errNoHead
	}
	path := fmt.Sprintf("/repos/%s/%s/pulls/%d/merge", url.PathEscape(f.owner), url.PathEscape(f.repo), number)
	err := f.do(ctx, http.MethodPost, path, nil, mergeOption{Do: "merge", Title: title, Message: message, HeadCommitID: sha}, nil)
	var ae *apiError
	if errors.As(err, &ae) {
		return "", mergeRefusal(number, sha, ae)
	}
	if err != nil {
		return "", fmt.Errorf("gitea: merge #%d: %w", number, err)
	}
	pr, _, err := f.client(ctx).GetPullRequest(f.owner, f.repo, int64(number))
	if err != nil {
		return "", fmt.Errorf("gitea: read merged pull request #%d: %w", number, err)
	}
	if !pr.HasMerged || pr.MergedCommitID == nil || *pr.MergedCommitID == "" {
		return "", fmt.Errorf("gitea: merge #%d answered ok but the pull request is not merged", number)
	}
	return *pr.MergedCommitID, nil
}

// mergeRefusal maps Gitea's refusal of a merge to the forge's sentinels.
func mergeRefusal(number int, sha string, ae *apiError) error {
	msg := strings.ToLower(ae.Message)
	switch {
	case ae.Status == http.StatusConflict && strings.Contains(msg, "head out of date"):
		return fmt.Errorf("gitea: merge #%d at %s: %w", number, sha, forge.ErrHeadMoved)
	case ae.Status == http.StatusMethodNotAllowed && strings.Contains(msg, "try again later"),
		ae.Status == http.StatusConflict && strings.Contains(msg, "merge push out of date"):
		return fmt.Errorf("gitea: merge #%d: %w (%s)", number, forge.ErrRetryLater, ae.Message)
	case ae.Status == http.StatusMethodNotAllowed, ae.Status == http.StatusConflict:
		return fmt.Errorf("gitea: merge #%d: %w: %s", number, forge.ErrNotMergeable, ae.Message)
	}
	return fmt.Errorf("gitea: merge #%d: %w", number, ae)
}
