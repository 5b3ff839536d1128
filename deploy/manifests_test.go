// Package deploy_test checks the deployment files against the real types that read
// them: the Kubernetes API types (decoded strictly, unknown fields are errors), the
// remediator's own configuration loader, Alertmanager's configuration loader, and
// Prometheus's promtool.
package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
)

// documents splits a multi-document YAML file.
func documents(t *testing.T, file string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		if len(bytes.TrimSpace(doc)) > 0 {
			out = append(out, doc)
		}
	}
	return out
}

func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	files, _ := filepath.Glob("kubernetes/*.yaml")
	if len(files) < 5 {
		t.Fatalf("manifests: %v", files)
	}
	kinds := map[string]int{}
	var sts *appsv1.StatefulSet
	var configMap *corev1.ConfigMap
	for _, f := range files {
		for _, doc := range documents(t, f) {
			var meta struct{ Kind string }
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var obj any
			switch meta.Kind {
			case "StatefulSet":
				sts = &appsv1.StatefulSet{}
				obj = sts
			case "Service":
				obj = &corev1.Service{}
			case "ConfigMap":
				configMap = &corev1.ConfigMap{}
				obj = configMap
			case "Secret":
				obj = &corev1.Secret{}
			case "PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
			default:
				t.Fatalf("%s: unexpected kind %q", f, meta.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s (%s): %v", f, meta.Kind, err)
			}
			kinds[meta.Kind]++
		}
	}
	if kinds["StatefulSet"] != 1 || kinds["Service"] != 2 || kinds["PodDisruptionBudget"] != 1 || kinds["ConfigMap"] != 1 {
		t.Fatalf("kinds %v", kinds)
	}
	// What the deployment promises: two replicas, probes on /healthz and /readyz,
	// secrets from the environment, non-root, a volume of its own per replica.
	c := sts.Spec.Template.Spec.Containers[0]
	switch {
	case sts.Spec.Replicas == nil || *sts.Spec.Replicas != 2:
		t.Fatal("not two replicas")
	case c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz":
		t.Fatal("probes are not /healthz and /readyz")
	case len(sts.Spec.VolumeClaimTemplates) != 1:
		t.Fatal("no state volume per replica")
	case sts.Spec.Template.Spec.SecurityContext.RunAsNonRoot == nil || !*sts.Spec.Template.Spec.SecurityContext.RunAsNonRoot:
		t.Fatal("may run as root")
	}
	for _, e := range c.Env {
		if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Fatalf("env %s is not from a secret", e.Name)
		}
	}
	// The configuration inside is one the remediator loads (strictly).
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "remediator.yaml")
	if err := os.WriteFile(cfgFile, []byte(configMap.Data["remediator.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatalf("the ConfigMap's configuration: %v", err)
	}
	for _, name := range []string{cfg.Forge.TokenEnv, cfg.Forge.WebhookSecretEnv, cfg.Intake.BearerTokenEnv} {
		found := false
		for _, e := range c.Env {
			found = found || e.Name == name
		}
		if !found {
			t.Errorf("the configuration names %s, which the StatefulSet does not set", name)
		}
	}
	if !strings.HasPrefix(cfg.Signing.KeyFile, "/etc/remediator/signing/") || cfg.StateDir != "/var/lib/remediator" {
		t.Errorf("signing key %s, state %s: not where the StatefulSet mounts them", cfg.Signing.KeyFile, cfg.StateDir)
	}
}

func TestMonitoringConfigsLoad(t *testing.T) {
	am, err := amconfig.LoadFile("monitoring/alertmanager-receiver.yaml")
	if err != nil {
		t.Fatalf("Alertmanager refuses the receiver: %v", err)
	}
	if n := len(am.Receivers[0].WebhookConfigs); n != 2 {
		t.Fatalf("%d webhooks: every replica must be notified", n)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool (Debian's prometheus package; .ci/run installs it): %v", err)
	}
	if out, err := exec.Command(promtool, "check", "config", "--syntax-only", "monitoring/prometheus-scrape.yaml").CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
}
