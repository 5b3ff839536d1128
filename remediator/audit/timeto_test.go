package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/artifact"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

func TestTimeToRemediate(t *testing.T) {
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	art := &artifact.Artifact{ProposedAt: artifact.Timestamp(start.Add(90 * time.Second)), Anomaly: artifact.Anomaly{StartsAt: artifact.Timestamp(start)}}
	note := []byte("outcome: verified\nchecked_at: " + artifact.Timestamp(start.Add(2*time.Hour+20*time.Second)) + "\n")
	cases := []struct {
		name    string
		art     *artifact.Artifact
		outcome forge.Outcome
		want    string
	}{
		{"verified", art, "verified", "1m30s / 12m0s / 2h0m0s"},
		{"failed has no verify time", art, "failed", "1m30s / 12m0s / -"},
		{"no start", &artifact.Artifact{ProposedAt: art.ProposedAt}, "verified", "-"},
		{"proposed before the start", &artifact.Artifact{ProposedAt: artifact.Timestamp(start.Add(-time.Minute)), Anomaly: art.Anomaly}, "pending", "- / 12m0s / -"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := &Ledger{Entries: []Entry{{ID: "x", MergedAt: start.Add(12 * time.Minute), Outcome: tc.outcome}}}
			l.Entries[0].TimeTo = timeTo(tc.art, l.Entries[0].MergedAt, tc.outcome, note)
			var table, md, js bytes.Buffer
			if err := l.Table(&table); err != nil {
				t.Fatal(err)
			}
			if err := l.Markdown(&md); err != nil {
				t.Fatal(err)
			}
			if err := l.JSON(&js); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(table.String(), "TIME TO PROPOSE / MERGE / VERIFY") || !strings.Contains(table.String(), tc.want) {
				t.Fatalf("table:\n%s", table.String())
			}
			if !strings.Contains(md.String(), "| "+tc.want+" |") {
				t.Fatalf("markdown:\n%s", md.String())
			}
			var got []map[string]any
			if err := json.Unmarshal(js.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			ttr, _ := got[0]["time_to_remediate"].(map[string]any)
			if tc.want == "-" {
				if ttr != nil {
					t.Fatalf("json: %v", ttr)
				}
				return
			}
			if ttr["merge_seconds"] != 720.0 {
				t.Fatalf("json: %v", ttr)
			}
			if _, ok := ttr["verify_seconds"]; ok != (tc.outcome == "verified") {
				t.Fatalf("json: %v", ttr)
			}
		})
	}
}
