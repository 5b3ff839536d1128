package gitpush

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// A push to a repository on this machine runs git receive-pack, which after reporting
// the ref updates still runs the post-receive hook and `git gc --auto` (a process of
// its own) before it exits. go-git's file transport waits for that exit; a push's
// result does not depend on it (git push reports success whatever the hook or gc
// do, and gc detaches when it has real work). So localSession returns on the report
// and waits for the process in the background: one process of the five a small push
// starts is off the path of every writer waiting for it.

// localSession is a receive-pack session with a repository on this machine.
type localSession struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr *stderrStart
	adv    *packp.AdvRefs
	// packRun: a request was sent; Close then has nothing to say to the server.
	packRun bool
	once    sync.Once
}

// openLocal starts git receive-pack on the repository at path.
func openLocal(ctx context.Context, path string) (*localSession, error) {
	// The caller's context bounds this side's waits (each kills the server when it
	// ends), not the server's work after its report (see reap).
	// "--": a path is never read as an option (go-git's endpoints make every local
	// path absolute, so this is a second fence, not the first).
	cmd := exec.CommandContext(context.WithoutCancel(ctx), "git", "receive-pack", "--", path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start git receive-pack: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start git receive-pack: %w", err)
	}
	s := &localSession{cmd: cmd, stdin: stdin, stdout: stdout, stderr: &stderrStart{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start git receive-pack: %w", err)
	}
	return s, nil
}

// AdvertisedReferences reads the server's refs and capabilities.
func (s *localSession) AdvertisedReferences() (*packp.AdvRefs, error) {
	return s.AdvertisedReferencesContext(context.Background())
}

// AdvertisedReferencesContext reads the server's refs and capabilities; an empty
// repository advertises none, which is no error for a push.
func (s *localSession) AdvertisedReferencesContext(ctx context.Context) (*packp.AdvRefs, error) {
	if s.adv != nil {
		return s.adv, nil
	}
	defer context.AfterFunc(ctx, s.kill)()
	ar := packp.NewAdvRefs()
	err := ar.Decode(s.stdout)
	switch {
	case err == nil, errors.Is(err, packp.ErrEmptyAdvRefs):
	case errors.Is(err, packp.ErrEmptyInput):
		// No answer at all: the server said why on stderr (no such repository).
		s.packRun = true
		_ = s.wait()
		msg := s.stderr.String()
		if strings.Contains(msg, "does not appear to be a git repository") || strings.Contains(msg, "not a git repository") {
			return nil, fmt.Errorf("%w: %s", transport.ErrRepositoryNotFound, msg)
		}
		return nil, fmt.Errorf("git receive-pack: no answer: %s", msg)
	default:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var line *pktline.ErrorLine
		if errors.As(err, &line) {
			return nil, fmt.Errorf("git receive-pack: %s", line.Text)
		}
		return nil, fmt.Errorf("read advertised refs: %w", err)
	}
	transport.FilterUnsupportedCapabilities(ar.Capabilities)
	s.adv = ar
	return ar, nil
}

// ReceivePack sends the request and returns the server's report of it, without
// waiting for what receive-pack does after reporting (see above).
func (s *localSession) ReceivePack(ctx context.Context, req *packp.ReferenceUpdateRequest) (*packp.ReportStatus, error) {
	if _, err := s.AdvertisedReferencesContext(ctx); err != nil {
		return nil, err
	}
	defer context.AfterFunc(ctx, s.kill)()
	s.packRun = true
	if err := req.Encode(s.stdin); err != nil {
		return nil, s.failed(ctx, fmt.Errorf("send push request: %w", err))
	}
	if err := s.stdin.Close(); err != nil {
		return nil, s.failed(ctx, fmt.Errorf("send push request: %w", err))
	}
	if !req.Capabilities.Supports(capability.ReportStatus) {
		// Without a report, only the exit status says how it went.
		return nil, s.failed(ctx, s.wait())
	}
	report := packp.NewReportStatus()
	if err := report.Decode(s.stdout); err != nil {
		return nil, s.failed(ctx, fmt.Errorf("read push report: %w", err))
	}
	if err := report.Error(); err != nil {
		// Refused: what a hook said about it is on stderr, whole once the server
		// exits. It is the reason the user needs ("pre-receive hook declined" is not).
		_ = s.wait()
		if msg := s.stderr.String(); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return report, err
	}
	s.reap()
	return report, nil
}

// failed kills the server and says why a request failed: the context, or err with
// what the server wrote on stderr.
func (s *localSession) failed(ctx context.Context, err error) error {
	s.kill()
	_ = s.wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		return nil
	}
	if msg := s.stderr.String(); msg != "" {
		return fmt.Errorf("%w: %s", err, msg)
	}
	return err
}

// Close ends a session: one that sent no request says so (a flush), and the server
// exits on its own; either way its exit is waited for in the background.
func (s *localSession) Close() error {
	if !s.packRun {
		s.packRun = true
		_, _ = s.stdin.Write(pktline.FlushPkt)
		_ = s.stdin.Close()
	}
	s.reap()
	return nil
}

// reap waits for the server in the background, reading what it still writes so that
// it never blocks on a full pipe.
func (s *localSession) reap() {
	s.once.Do(func() {
		go func() {
			_, _ = io.Copy(io.Discard, s.stdout)
			_ = s.cmd.Wait()
		}()
	})
}

// wait waits for the server to exit, once whatever it writes has been read.
func (s *localSession) wait() error {
	var err error
	s.once.Do(func() {
		_, _ = io.Copy(io.Discard, s.stdout)
		err = s.cmd.Wait()
	})
	return err
}

func (s *localSession) kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
}

// stderrStart keeps the start of what a server writes on stderr, for error messages.
type stderrStart struct {
	mu  sync.Mutex
	buf []byte
}

const stderrMax = 4 << 10

func (t *stderrStart) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := stderrMax - len(t.buf); room > 0 {
		t.buf = append(t.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (t *stderrStart) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
