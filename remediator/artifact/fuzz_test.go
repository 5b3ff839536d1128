package artifact_test

import (
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
)

// Artifacts are read back from proposal branches, which people can push to.
func FuzzDecode(f *testing.F) {
	a := &artifact.Artifact{ID: "rb-0011223344", Runbook: "rb", Policy: "p", Risk: "low",
		Limits: artifact.Limits{AllowedAddresses: []string{"a.*"}}, Reverts: []artifact.Reverted{{Commit: "abc", Subject: "s"}}}
	data, err := a.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("kind: Remediation\n"))
	f.Add([]byte("apiVersion: remediation.gitops.dev/v1\nkind: Remediation\nid: x\nunknown: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := artifact.Decode(data)
		if err != nil {
			return
		}
		again, err := a.Encode()
		if err != nil {
			t.Fatal(err)
		}
		b, err := artifact.Decode(again)
		if err != nil || b.ID != a.ID || b.RequiredApprovals != a.RequiredApprovals {
			t.Fatalf("round trip: %v %+v", err, b)
		}
	})
}
