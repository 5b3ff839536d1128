package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
)

const chart = "helm/remediator"

func helm(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(testenv.Tool(t, "helm"), args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

func TestHelmLint(t *testing.T) {
	helm(t, "lint", "--strict", chart)
	helm(t, "lint", "--strict", chart, "--set", "serviceMonitor.enabled=true,prometheusRule.enabled=true,replicaCount=3")
}

// Every object the chart renders, with everything on, decodes strictly into its
// Kubernetes (or Prometheus Operator) type, and keeps the chart's promises.
func TestHelmTemplateDecodesStrictly(t *testing.T) {
	out := helm(t, "template", "r", chart, "--namespace", "ops", "--set", "serviceMonitor.enabled=true,prometheusRule.enabled=true")
	objs := decodeAll(t, "helm template", out)
	for _, kind := range []string{"StatefulSet", "ConfigMap", "Service", "ServiceAccount", "NetworkPolicy", "PodDisruptionBudget", "ServiceMonitor", "PrometheusRule"} {
		if len(objs[kind]) == 0 {
			t.Errorf("the chart renders no %s", kind)
		}
	}
	if n := len(objs["Secret"]); n != 0 {
		t.Errorf("the chart renders %d Secret(s): it must only reference existing ones", n)
	}
	sts := objs["StatefulSet"][0].(*appsv1.StatefulSet)
	pod := sts.Spec.Template.Spec
	c := pod.Containers[0]
	switch {
	case sts.Namespace != "ops":
		t.Errorf("namespace %q, want the release's", sts.Namespace)
	case *sts.Spec.Replicas != 2:
		t.Errorf("%d replicas by default, want 2", *sts.Spec.Replicas)
	case len(pod.TopologySpreadConstraints) == 0 || pod.TopologySpreadConstraints[0].TopologyKey != "kubernetes.io/hostname":
		t.Error("replicas are not spread over nodes")
	case pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken:
		t.Error("the pod mounts a service account token")
	case c.StartupProbe == nil || c.LivenessProbe == nil || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz":
		t.Error("probes missing: want startup, liveness and readiness (/readyz)")
	case c.Image != "registry.example.com/acme/remediator:v0.1.0":
		t.Errorf("image %s: want the vX.Y.Z tag of the chart's appVersion", c.Image)
	}
	if sa := objs["ServiceAccount"][0].(*corev1.ServiceAccount); sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Error("the service account mounts its token")
	}
	cm := objs["ConfigMap"][0].(*corev1.ConfigMap)
	cfg := loadConfig(t, cm.Data["remediator.yaml"])
	if cfg.Status.BearerTokenEnv == "" {
		t.Error("the status page has no bearer token by default")
	}
	checkEnvFromSecret(t, c, cfg)
	rule := objs["PrometheusRule"][0].(*monitoringv1.PrometheusRule)
	if len(rule.Spec.Groups) == 0 || len(rule.Spec.Groups[0].Rules) < 5 {
		t.Errorf("PrometheusRule groups %+v: want the rules of examples/monitoring", rule.Spec.Groups)
	}
	np := objs["NetworkPolicy"][0].(*networkingv1.NetworkPolicy)
	if len(np.Spec.Ingress) < 3 || len(np.Spec.Egress) < 3 {
		t.Errorf("NetworkPolicy: %d ingress, %d egress rules", len(np.Spec.Ingress), len(np.Spec.Egress))
	}
	if pdb := objs["PodDisruptionBudget"][0].(*policyv1.PodDisruptionBudget); pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Error("the PodDisruptionBudget does not keep one replica")
	}
}

// The chart ships the rules examples/monitoring tests with promtool, byte for byte.
func TestChartRulesAreTheTestedOnes(t *testing.T) {
	a, errA := os.ReadFile(filepath.Join(chart, "files", "alerts.yml"))
	b, errB := os.ReadFile("../examples/monitoring/alerts.yml")
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("deploy/helm/remediator/files/alerts.yml differs from examples/monitoring/alerts.yml (%v, %v): copy it", errA, errB)
	}
}

func decodeAll(t *testing.T, source string, out []byte) map[string][]any {
	t.Helper()
	objs := map[string][]any{}
	for _, doc := range bytes.Split(out, []byte("\n---\n")) {
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		obj := newObject(meta.Kind)
		if obj == nil {
			t.Fatalf("%s: unexpected kind %q", source, meta.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%s (%s): %v", source, meta.Kind, err)
		}
		objs[meta.Kind] = append(objs[meta.Kind], obj)
	}
	return objs
}

func newObject(kind string) any {
	switch kind {
	case "StatefulSet":
		return &appsv1.StatefulSet{}
	case "Service":
		return &corev1.Service{}
	case "Namespace":
		return &corev1.Namespace{}
	case "ServiceAccount":
		return &corev1.ServiceAccount{}
	case "ConfigMap":
		return &corev1.ConfigMap{}
	case "Secret":
		return &corev1.Secret{}
	case "PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	case "ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}
	case "PrometheusRule":
		return &monitoringv1.PrometheusRule{}
	}
	return nil
}

func stripComments(doc []byte) []byte {
	var out []string
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out = append(out, line)
		}
	}
	return []byte(strings.Join(out, "\n"))
}
