package github

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// proposalsRecord is the remediator's pull requests as kept in the state directory
// between processes (Options.RecordFile): a one-shot command (`propose` in CI, say)
// then reads only the pull requests updated since the last command, one request,
// instead of every pull request the repository ever had. It is keyed by the
// credentials and the repository; another key is not this remediator's record.
type proposalsRecord struct {
	Key    string           `json:"key"`
	Newest time.Time        `json:"newest"`
	Props  []forge.Proposal `json:"proposals"`
	// Updated is each pull request's updated_at as read, for the reviews kept.
	Updated map[int]time.Time `json:"updated"`
}

// recordKey names whose record it is: the credentials' digest (never the
// credentials) and the repository.
func (f *Forge) recordKey() string {
	sum := sha256.Sum256([]byte(f.selfKey + "\x00" + f.owner + "/" + f.repo))
	return hex.EncodeToString(sum[:])
}

// loadRecord fills an unsynced memory from the kept record, when there is one of
// these credentials and repository. Anything else (no file, another key, a record
// that does not parse) leaves the memory unsynced: every pull request is read.
// Called with m.mu held.
func (f *Forge) loadRecord(m *memory) {
	if f.recordFile == "" || m.synced {
		return
	}
	data, err := os.ReadFile(f.recordFile)
	if err != nil {
		return
	}
	var rec proposalsRecord
	if err := json.Unmarshal(data, &rec); err != nil || rec.Key != f.recordKey() || rec.Newest.IsZero() {
		f.logger.Debug("github: the kept pull requests are not this remediator's; reading them all", "file", f.recordFile, "err", err)
		return
	}
	for _, p := range rec.Props {
		m.props[p.Number] = p
		if u, ok := rec.Updated[p.Number]; ok {
			m.updated[p.Number] = u
		}
	}
	m.synced, m.newest = true, rec.Newest
}

// saveRecord keeps the memory's pull requests for the next process; a failure only
// costs that process a full read. Called with m.mu held.
func (f *Forge) saveRecord(m *memory) {
	if f.recordFile == "" || !m.synced {
		return
	}
	rec := proposalsRecord{Key: f.recordKey(), Newest: m.newest, Props: make([]forge.Proposal, 0, len(m.props)), Updated: map[int]time.Time{}}
	for n, p := range m.props {
		rec.Props = append(rec.Props, p)
		if u, ok := m.updated[n]; ok {
			rec.Updated[n] = u
		}
	}
	if err := writeAtomic(f.recordFile, rec); err != nil {
		f.logger.Debug("github: keep the pull requests read", "file", f.recordFile, "err", err)
	}
}

// writeAtomic replaces path with v as JSON through a temporary file of its own, so
// two processes saving at once never leave a file mixed from both.
func writeAtomic(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
