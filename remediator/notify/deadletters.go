package notify

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
)

// CatchUpDeadLetters tells the dead letters this replica's queue holds that it did
// not queue a notification for: the worker moved the anomaly to dead/ and the
// process died before it told. A dead letter is one replica's own (its queue), so no
// claim is needed: its outbox's memory of the key keeps it from being told twice.
// Only those given up on since receivers were first configured on this state
// directory (its owner file's time) and inside CatchUpWindow are told: older ones
// are history. It returns how many it queued.
func (d *Dispatcher) CatchUpDeadLetters(dead []queue.Dead) (int, error) {
	if !d.Receives() {
		return 0, nil
	}
	fi, err := os.Stat(filepath.Join(d.o.Dir, ownerFile))
	if err != nil {
		return 0, fmt.Errorf("catch up dead letters: %w", err)
	}
	since, now, n := fi.ModTime(), d.o.Now(), 0
	for _, dl := range dead {
		if dl.At.Before(since) || now.Sub(dl.At) > CatchUpWindow {
			continue
		}
		e := DeadLetter(dl.Item, dl.Error, dl.At)
		if d.known(e.Kind, e.ID) {
			continue
		}
		d.retell(e)
		n++
	}
	return n, nil
}
