package records_test

import (
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/records"
)

// Closing records are Git data anyone with push access writes, and a record that
// counts suppresses a remediation for a cooldown: whatever a note holds, reading it
// never fails, and it counts only as the record the remediator sealed for that id.
func FuzzReadClosing(f *testing.F) {
	key := remediatorKey(f)
	const id = "scale-out-api-0123456789"
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	want := records.Closing{ID: id, Head: "0123456789abcdef0123456789abcdef01234567", How: records.ClosedByOperator, By: "remediator", At: at, Reason: "handled by hand"}
	sealed, err := records.SealClosing(key, want)
	if err != nil {
		f.Fatal(err)
	}
	body := want.Body()
	f.Add(sealed)
	f.Add([]byte(body))
	f.Add(append([]byte("closed: other\n"), sealed...))
	f.Add(append(append([]byte{}, sealed...), "\nhow: rejected\n"...))
	f.Add([]byte("closed: " + id + "\nhow: rejected\nby: alice@example.com\n-----BEGIN SSH SIGNATURE-----\n"))
	f.Fuzz(func(t *testing.T, note []byte) {
		c, ok, _ := records.ReadClosing(note, id, key.Public(), nil, at)
		if ok && c != want {
			t.Fatalf("a closing record the remediator did not seal was believed: %q -> %+v", note, c)
		}
		if ok && string(note[:len(body)]) != body {
			t.Fatalf("believed with another body: %q", note)
		}
	})
}

// Another id's record, or the same body sealed for another id, closes nothing.
func TestClosingIsForItsIDOnly(t *testing.T) {
	key := remediatorKey(t)
	c := records.Closing{ID: "a-0000000001", Head: "0123456789abcdef0123456789abcdef01234567", How: records.ClosedSuperseded, At: time.Now().UTC().Truncate(time.Second)}
	sealed, err := records.SealClosing(key, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, why := records.ReadClosing(sealed, "a-0000000001", key.Public(), nil, time.Now()); !ok {
		t.Fatalf("its own record: %s", why)
	}
	if _, ok, _ := records.ReadClosing(sealed, "a-0000000002", key.Public(), nil, time.Now()); ok {
		t.Fatal("a record counted for another id")
	}
}
