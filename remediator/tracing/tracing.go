// Package tracing gives the remediator its OpenTelemetry traces: one trace per
// anomaly, from the intake through the proposal to the merge and the outcome, carried
// across the queue, processes and passes as a W3C traceparent (in the queued anomaly
// and in the artifact). Spans are exported over OTLP/HTTP when the standard OTEL_*
// variables ask for it (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT), and are
// no-ops otherwise. Nothing here is global: the provider is passed along.
package tracing

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Name is the instrumentation scope of the remediator's spans.
const Name = "github.com/gitops-remediation/terraform-provider-remediation/remediator"

// Attribute keys on the remediator's spans.
const (
	RemediationID = attribute.Key("remediation.id")
	Runbook       = attribute.Key("remediation.runbook")
	Policy        = attribute.Key("remediation.policy")
	Action        = attribute.Key("remediation.action")
)

// Enabled says whether the environment asks for traces to be exported.
func Enabled() bool {
	if os.Getenv("OTEL_TRACES_EXPORTER") == "none" || os.Getenv("OTEL_SDK_DISABLED") == "true" {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup returns the tracer provider the environment asks for, and how to flush and
// stop it. The service is OTEL_SERVICE_NAME, or "remediator".
func Setup(ctx context.Context, version string) (trace.TracerProvider, func(context.Context) error, error) {
	if !Enabled() {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	name := os.Getenv("OTEL_SERVICE_NAME")
	if name == "" {
		name = "remediator"
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(name), semconv.ServiceVersion(version)))
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// Tracer is the remediator's tracer of a provider; nil gives a no-op one.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		return noop.NewTracerProvider().Tracer(Name)
	}
	return tp.Tracer(Name)
}

// Or is t, or a no-op tracer when t is nil: stages whose Tracer field is unset trace
// nothing.
func Or(t trace.Tracer) trace.Tracer {
	if t == nil {
		return Tracer(nil)
	}
	return t
}

var propagator = propagation.TraceContext{}

// Inject is the W3C traceparent of the span in ctx, or "" when there is none.
func Inject(ctx context.Context) string {
	carrier := propagation.MapCarrier{}
	propagator.Inject(ctx, carrier)
	return carrier.Get("traceparent")
}

// Extract continues the trace a traceparent names: spans started from the returned
// context are its children. A malformed or empty one (it comes from files anyone may
// edit) continues nothing.
func Extract(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return propagator.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// TraceID is the trace id of the span in ctx, or "".
func TraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}

// contextKey keys the provider in a context.
type contextKey struct{}

// WithProvider puts a provider in a context, for commands that start with one.
func WithProvider(ctx context.Context, tp trace.TracerProvider) context.Context {
	return context.WithValue(ctx, contextKey{}, tp)
}

// Provider is the provider a context carries, or a no-op one.
func Provider(ctx context.Context) trace.TracerProvider {
	if tp, ok := ctx.Value(contextKey{}).(trace.TracerProvider); ok && tp != nil {
		return tp
	}
	return noop.NewTracerProvider()
}
