package fakegithub

import (
	"fmt"
	"strings"
	"time"
)

// The objects below carry every field GitHub's OpenAPI description marks required,
// with GitHub's URL shapes; spec_test checks them against that description.

func (s *Server) api(format string, args ...any) string {
	return s.URL + "/api/v3" + fmt.Sprintf(format, args...)
}

func (s *Server) user(login string) map[string]any {
	id := s.userID(login)
	typ := "User"
	if len(login) > 5 && login[len(login)-5:] == "[bot]" {
		typ = "Bot"
	}
	u := s.api("/users/%s", login)
	return map[string]any{
		"login": login, "id": id, "node_id": fmt.Sprintf("U_%d", id), "avatar_url": s.URL + "/avatars/" + login,
		"gravatar_id": "", "url": u, "html_url": s.URL + "/" + login, "followers_url": u + "/followers",
		"following_url": u + "/following{/other_user}", "gists_url": u + "/gists{/gist_id}",
		"starred_url": u + "/starred{/owner}{/repo}", "subscriptions_url": u + "/subscriptions",
		"organizations_url": u + "/orgs", "repos_url": u + "/repos", "events_url": u + "/events{/privacy}",
		"received_events_url": u + "/received_events", "type": typ, "site_admin": false,
	}
}

func (s *Server) userID(login string) int64 {
	if id, ok := s.userIDs[login]; ok {
		return id
	}
	s.nextID++
	s.userIDs[login] = s.nextID
	return s.nextID
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Server) repository(r *repo) map[string]any {
	full := r.owner + "/" + r.name
	u := s.api("/repos/%s", full)
	m := map[string]any{
		"id": r.id, "node_id": fmt.Sprintf("R_%d", r.id), "name": r.name, "full_name": full, "owner": s.user(r.owner),
		"private": true, "html_url": s.URL + "/" + full, "description": nil, "fork": r.forkOf != nil, "url": u,
		"archive_url": u + "/{archive_format}{/ref}", "assignees_url": u + "/assignees{/user}",
		"blobs_url": u + "/git/blobs{/sha}", "branches_url": u + "/branches{/branch}",
		"collaborators_url": u + "/collaborators{/collaborator}", "comments_url": u + "/comments{/number}",
		"commits_url": u + "/commits{/sha}", "compare_url": u + "/compare/{base}...{head}",
		"contents_url": u + "/contents/{+path}", "contributors_url": u + "/contributors",
		"deployments_url": u + "/deployments", "downloads_url": u + "/downloads", "events_url": u + "/events",
		"forks_url": u + "/forks", "git_commits_url": u + "/git/commits{/sha}", "git_refs_url": u + "/git/refs{/sha}",
		"git_tags_url": u + "/git/tags{/sha}", "git_url": "git:" + s.URL[len("http:"):] + "/" + full + ".git",
		"issue_comment_url": u + "/issues/comments{/number}", "issue_events_url": u + "/issues/events{/number}",
		"issues_url": u + "/issues{/number}", "keys_url": u + "/keys{/key_id}", "labels_url": u + "/labels{/name}",
		"languages_url": u + "/languages", "merges_url": u + "/merges", "milestones_url": u + "/milestones{/number}",
		"notifications_url": u + "/notifications{?since,all,participating}", "pulls_url": u + "/pulls{/number}",
		"releases_url": u + "/releases{/id}", "ssh_url": "git@127.0.0.1:" + full + ".git",
		"stargazers_url": u + "/stargazers", "statuses_url": u + "/statuses/{sha}", "subscribers_url": u + "/subscribers",
		"subscription_url": u + "/subscription", "tags_url": u + "/tags", "teams_url": u + "/teams",
		"trees_url": u + "/git/trees{/sha}", "clone_url": s.URL + "/" + full + ".git", "mirror_url": nil,
		"hooks_url": u + "/hooks", "svn_url": s.URL + "/" + full, "homepage": nil, "language": "HCL",
		"forks_count": 0, "forks": 0, "stargazers_count": 0, "watchers_count": 0, "watchers": 0, "size": 1,
		"default_branch": "main", "open_issues_count": s.openCount(r), "open_issues": s.openCount(r),
		"has_issues": true, "has_projects": false, "has_wiki": false, "has_pages": false, "has_downloads": true,
		"archived": false, "disabled": false, "license": nil, "visibility": "private", "has_discussions": false, "topics": []any{},
		"pushed_at": stamp(r.created), "created_at": stamp(r.created), "updated_at": stamp(r.created),
	}
	return m
}

func (s *Server) openCount(r *repo) int {
	n := 0
	for _, p := range r.pulls {
		if p.state == "open" {
			n++
		}
	}
	return n
}

// label is a label as the labels endpoints answer it: a label created by adding it
// to an issue has no description (null, as recorded in @octokit/fixtures).
func (s *Server) label(r *repo, name string) map[string]any {
	id := s.labelID(r, name)
	return map[string]any{
		"id": id, "node_id": fmt.Sprintf("LA_%d", id), "url": s.api("/repos/%s/%s/labels/%s", r.owner, r.name, name),
		"name": name, "description": nil, "color": "ededed", "default": false,
	}
}

// embeddedLabel is a label inside a pull request, where the description documents
// description as a string.
func (s *Server) embeddedLabel(r *repo, name string) map[string]any {
	l := s.label(r, name)
	l["description"] = ""
	return l
}

func (s *Server) labelID(r *repo, name string) int64 {
	if id, ok := r.labels[name]; ok {
		return id
	}
	s.nextID++
	r.labels[name] = s.nextID
	return s.nextID
}

func (s *Server) branchRef(r *repo, ref, sha string) map[string]any {
	return map[string]any{
		"label": r.owner + ":" + ref, "ref": ref, "sha": sha, "user": s.user(r.owner), "repo": s.repository(r),
	}
}

// pullSimple is the list and requested-reviewers shape; pull adds the full object's fields.
func (s *Server) pullSimple(r *repo, p *pull) map[string]any {
	full := r.owner + "/" + r.name
	u := s.api("/repos/%s/pulls/%d", full, p.number)
	html := fmt.Sprintf("%s/%s/pull/%d", s.URL, full, p.number)
	issue := s.api("/repos/%s/issues/%d", full, p.number)
	labels := []any{}
	for _, l := range p.labels {
		labels = append(labels, s.embeddedLabel(r, l))
	}
	reviewers := []any{}
	for _, rv := range p.reviewers {
		reviewers = append(reviewers, s.user(rv))
	}
	teams := []any{}
	for _, t := range p.teams {
		teams = append(teams, s.team(r, t))
	}
	m := map[string]any{
		"url": u, "id": p.id, "node_id": fmt.Sprintf("PR_%d", p.id), "html_url": html, "diff_url": html + ".diff",
		"patch_url": html + ".patch", "issue_url": issue, "commits_url": u + "/commits", "review_comments_url": u + "/comments",
		"review_comment_url": s.api("/repos/%s/pulls/comments{/number}", full), "comments_url": issue + "/comments",
		"statuses_url": s.api("/repos/%s/statuses/%s", full, p.headSHA), "number": p.number, "state": p.state,
		"locked": false, "title": p.title, "user": s.user(p.author), "body": p.body, "labels": labels, "milestone": nil,
		"active_lock_reason": nil, "created_at": stamp(p.created), "updated_at": stamp(p.updated),
		"closed_at": nullStamp(p.closed), "merged_at": nullStamp(p.merged), "merge_commit_sha": nil,
		"assignee": nil, "assignees": []any{}, "requested_reviewers": reviewers, "requested_teams": teams,
		"head": s.branchRef(s.headRepo(r, p), p.head, p.headSHA), "base": s.branchRef(r, p.base, p.baseSHA),
		"_links": map[string]any{
			"self": link(u), "html": link(html), "issue": link(issue), "comments": link(issue + "/comments"),
			"review_comments": link(u + "/comments"), "review_comment": link(s.api("/repos/%s/pulls/comments{/number}", full)),
			"commits": link(u + "/commits"), "statuses": link(s.api("/repos/%s/statuses/%s", full, p.headSHA)),
		},
		"author_association": "NONE", "auto_merge": nil, "draft": false,
	}
	if p.mergeSHA != "" {
		m["merge_commit_sha"] = p.mergeSHA
	}
	return m
}

func (s *Server) pull(r *repo, p *pull) map[string]any {
	m := s.pullSimple(r, p)
	m["merged"] = !p.merged.IsZero()
	m["mergeable"] = nil
	m["rebaseable"] = nil
	m["mergeable_state"] = "unknown"
	m["merged_by"] = nil
	if p.mergedBy != "" {
		m["merged_by"] = s.user(p.mergedBy)
	}
	m["comments"] = len(p.comments)
	m["review_comments"] = 0
	m["maintainer_can_modify"] = false
	m["commits"] = 1
	m["additions"] = 0
	m["deletions"] = 0
	m["changed_files"] = 0
	return m
}

func (s *Server) team(r *repo, slug string) map[string]any {
	id := s.userID("team:" + r.owner + "/" + slug)
	u := s.api("/organizations/%d/team/%d", s.userID(r.owner), id)
	return map[string]any{
		"id": id, "node_id": fmt.Sprintf("T_%d", id), "url": u, "members_url": u + "/members{/member}",
		"name": slug, "slug": slug, "description": nil, "permission": "pull", "privacy": "closed",
		"notification_setting": "notifications_enabled", "html_url": s.URL + "/orgs/" + r.owner + "/teams/" + slug,
		"repositories_url": u + "/repos", "parent": nil, "type": "organization",
	}
}

func (s *Server) comment(r *repo, c *comment) map[string]any {
	full := r.owner + "/" + r.name
	return map[string]any{
		"id": c.id, "node_id": fmt.Sprintf("IC_%d", c.id), "url": s.api("/repos/%s/issues/comments/%d", full, c.id),
		"html_url":  fmt.Sprintf("%s/%s/pull/%d#issuecomment-%d", s.URL, full, c.issue, c.id),
		"issue_url": s.api("/repos/%s/issues/%d", full, c.issue), "body": c.body, "user": s.user(c.author),
		"created_at": stamp(c.created), "updated_at": stamp(c.updated), "author_association": "NONE",
	}
}

func link(href string) map[string]any { return map[string]any{"href": href} }

func nullStamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return stamp(t)
}

func (s *Server) status(r *repo, st *status) map[string]any {
	var target any
	if st.target != "" {
		target = st.target
	}
	var desc any
	if st.desc != "" {
		desc = st.desc
	}
	return map[string]any{
		"url": s.api("/repos/%s/%s/statuses/%s", r.owner, r.name, st.sha), "avatar_url": s.URL + "/avatars/" + st.creator,
		"id": st.id, "node_id": fmt.Sprintf("SC_%d", st.id), "state": st.state, "description": desc, "target_url": target,
		"context": st.context, "created_at": stamp(st.created), "updated_at": stamp(st.created), "creator": s.user(st.creator),
	}
}

// hookReview is a review as webhook payloads carry it: the state in lower case.
func (s *Server) hookReview(r *repo, p *pull, rv *review) map[string]any {
	m := s.review(r, p, rv)
	m["state"] = strings.ToLower(rv.state)
	return m
}

func (s *Server) review(r *repo, p *pull, rv *review) map[string]any {
	full := r.owner + "/" + r.name
	html := fmt.Sprintf("%s/%s/pull/%d#pullrequestreview-%d", s.URL, full, p.number, rv.id)
	pr := s.api("/repos/%s/pulls/%d", full, p.number)
	return map[string]any{
		"id": rv.id, "node_id": fmt.Sprintf("PRR_%d", rv.id), "user": s.user(rv.login), "body": "", "state": rv.state,
		"html_url": html, "pull_request_url": pr, "commit_id": rv.commitID, "submitted_at": stamp(rv.submitted),
		"_links": map[string]any{"html": link(html), "pull_request": link(pr)}, "author_association": "COLLABORATOR",
	}
}
