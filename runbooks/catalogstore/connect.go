package catalogstore

import (
	"context"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitpush"
)

// A push's session costs a process on the server before anything is sent (against a
// repository on this machine, git receive-pack starting and reading its refs; over
// the network, a connection and the ref advertisement). The committer opens it first
// and gathers writes meanwhile: while it waits for the rest of a round, that cost is
// beside the arriving writes instead of after them; and a lone writer's batch takes
// whatever arrived while the session opened, which it had to wait for anyway.

// pendingConn is a session being opened ahead of the push that will use it.
type pendingConn struct {
	done chan struct{}
	conn *gitpush.Conn // nil when connecting failed: the push connects again, and says why
}

func (s *Store) remote() gitpush.Remote {
	return gitpush.Remote{URL: s.url, Auth: s.auth}
}

// connectAhead starts opening the next push's session when there is a write to push
// or a round to gather (nil otherwise).
func (s *Store) connectAhead(ctx context.Context) *pendingConn {
	if s.direct.Load() != nil {
		return nil // no session to open: the update is a file write
	}
	s.mu.Lock()
	idle := len(s.pending) == 0
	s.mu.Unlock()
	if idle && !s.gathers() {
		return nil
	}
	p := &pendingConn{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		if c, err := s.remote().Connect(ctx); err == nil {
			p.conn = c
		}
	}()
	return p
}

// wait waits until the session is open (or failed to open).
func (p *pendingConn) wait() {
	if p != nil {
		<-p.done
	}
}

// take waits for the session and hands it over (nil if none).
func (p *pendingConn) take() *gitpush.Conn {
	if p == nil {
		return nil
	}
	<-p.done
	c := p.conn
	p.conn = nil
	return c
}

// close ends a session nobody took, without waiting for it to open.
func (p *pendingConn) close() {
	if p == nil {
		return
	}
	go func() {
		<-p.done
		p.conn.Close()
	}()
}
