// Package deploy_test checks the deployment files against the real types that read
// them: the Kubernetes API types (decoded strictly, unknown fields are errors), the
// remediator's own configuration loader, Alertmanager's configuration loader, and
// Prometheus's promtool.
package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
	"github.com/gitops-remediation/terraform-provider-remediation/remediator/config"
)

// The plain manifests decode strictly, keep the deployment's promises, and never
// apply a Secret: `kubectl apply -f deploy/kubernetes` reads every .yaml, .yml and
// .json file there, and a Secret applied with placeholders would overwrite the real
// tokens.
func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	files := kubectlFiles(t, "kubernetes")
	if len(files) == 0 {
		t.Fatal("deploy/kubernetes has no manifest")
	}
	objs := map[string][]any{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for kind, o := range decodeAll(t, f, data) {
			objs[kind] = append(objs[kind], o...)
		}
	}
	if len(objs["Secret"]) != 0 {
		t.Fatalf("deploy/kubernetes applies %d Secret(s): kubectl apply would overwrite the real ones", len(objs["Secret"]))
	}
	if len(objs["Namespace"]) != 1 || len(objs["StatefulSet"]) != 1 || len(objs["Service"]) != 2 || len(objs["PodDisruptionBudget"]) != 1 ||
		len(objs["ConfigMap"]) != 1 || len(objs["NetworkPolicy"]) != 1 || len(objs["ServiceAccount"]) != 1 {
		t.Fatalf("kinds: %d Namespace, %d StatefulSet, %d Service, %d PDB, %d ConfigMap, %d NetworkPolicy, %d ServiceAccount",
			len(objs["Namespace"]), len(objs["StatefulSet"]), len(objs["Service"]), len(objs["PodDisruptionBudget"]),
			len(objs["ConfigMap"]), len(objs["NetworkPolicy"]), len(objs["ServiceAccount"]))
	}
	sts := objs["StatefulSet"][0].(*appsv1.StatefulSet)
	configMap := objs["ConfigMap"][0].(*corev1.ConfigMap)
	// What the deployment promises: two replicas, probes on /healthz and /readyz,
	// secrets from the environment, non-root, a volume of its own per replica.
	c := sts.Spec.Template.Spec.Containers[0]
	switch {
	case sts.Namespace != namespace:
		t.Fatalf("namespace %q, want %q (the monitoring configs' own)", sts.Namespace, namespace)
	case sts.Spec.Replicas == nil || *sts.Spec.Replicas != 2:
		t.Fatal("not two replicas")
	case c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz":
		t.Fatal("probes are not /healthz and /readyz")
	case len(sts.Spec.VolumeClaimTemplates) != 1:
		t.Fatal("no state volume per replica")
	case objs["Namespace"][0].(*corev1.Namespace).Name != namespace:
		t.Fatalf("the Namespace object is not %q", namespace)
	case sts.Spec.Template.Spec.SecurityContext.RunAsNonRoot == nil || !*sts.Spec.Template.Spec.SecurityContext.RunAsNonRoot:
		t.Fatal("may run as root")
	}
	cfg := loadConfig(t, configMap.Data["remediator.yaml"])
	checkEnvFromSecret(t, c, cfg)
	if !strings.HasPrefix(cfg.Signing.KeyFile, "/etc/remediator/signing/") || cfg.StateDir != "/var/lib/remediator" {
		t.Errorf("signing key %s, state %s: not where the StatefulSet mounts them", cfg.Signing.KeyFile, cfg.StateDir)
	}
}

// The plain manifests are the chart rendered with its defaults, byte for byte: run
// the script `make generate` runs and compare, so a chart change without `make
// generate` fails here (and CI's stale-files check) instead of drifting.
func TestKubernetesManifestsAreTheChartRendered(t *testing.T) {
	root := testenv.ModuleRoot(t)
	out := filepath.Join(t.TempDir(), "remediator.yaml")
	cmd := exec.Command(filepath.Join(root, "scripts", "manifests.sh"), testenv.Tool(t, "helm"), out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/manifests.sh: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("kubernetes", "remediator.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("deploy/kubernetes/remediator.yaml is not the chart rendered with its defaults: run make generate\n%s", firstDiff(got, want))
	}
	// The rendered file is the only manifest: a hand-written one beside it would drift.
	if files := kubectlFiles(t, "kubernetes"); len(files) != 1 {
		t.Fatalf("deploy/kubernetes holds %v: only the generated remediator.yaml belongs there", files)
	}
}

// kubectlFiles are the files `kubectl apply -f DIR` reads (it is not recursive).
func kubectlFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".yaml", ".yml", ".json":
			if !e.IsDir() {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	return files
}

// firstDiff names the first line where two renderings differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: checked in %q, rendered %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("checked in %d lines, rendered %d", len(g), len(w))
}

// namespace is the plain manifests' namespace (scripts/manifests.sh), which the monitoring
// configs address the replicas in.
const namespace = "remediation"

// loadConfig loads a configuration the way the remediator does (strictly).
func loadConfig(t *testing.T, content string) *config.Config {
	t.Helper()
	cfgFile := filepath.Join(t.TempDir(), "remediator.yaml")
	if err := os.WriteFile(cfgFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatalf("the ConfigMap's configuration: %v", err)
	}
	return cfg
}

// checkEnvFromSecret: every secret variable the configuration names is set, and
// only from a Secret.
func checkEnvFromSecret(t *testing.T, c corev1.Container, cfg *config.Config) {
	t.Helper()
	for _, e := range c.Env {
		if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("env %s is not from a secret", e.Name)
		}
	}
	for _, name := range []string{cfg.Forge.TokenEnv, cfg.Forge.WebhookSecretEnv, cfg.Intake.BearerTokenEnv, cfg.Status.BearerTokenEnv} {
		found := false
		for _, e := range c.Env {
			found = found || e.Name == name
		}
		if !found {
			t.Errorf("the configuration names %q, which the StatefulSet does not set", name)
		}
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
	for i, w := range am.Receivers[0].WebhookConfigs {
		want := fmt.Sprintf("http://remediator-%d.remediator.%s.svc:8080/v1/alertmanager", i, namespace)
		if string(w.URL) != want {
			t.Errorf("webhook %d: %s, want %s (the manifests' namespace)", i, string(w.URL), want)
		}
	}
	scrape, err := os.ReadFile("monitoring/prometheus-scrape.yaml")
	if err != nil || !strings.Contains(string(scrape), "remediator."+namespace+".svc") {
		t.Errorf("the scrape config does not address the manifests' namespace %s: %v", namespace, err)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool (Debian's prometheus package; .ci/run installs it): %v", err)
	}
	if out, err := exec.Command(promtool, "check", "config", "--syntax-only", "monitoring/prometheus-scrape.yaml").CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
}
