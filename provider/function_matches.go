package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

var _ function.Function = &matchesFunction{}

// NewMatchesFunction is provider::remediation::matches.
func NewMatchesFunction() function.Function { return &matchesFunction{} }

type matchesFunction struct{}

func (f *matchesFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "matches"
}

func (f *matchesFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Whether Alertmanager matchers match a label set",
		MarkdownDescription: "Returns true when every matcher matches the labels, with Alertmanager's own parser and semantics " +
			"(a missing label reads as the empty string).",
		Parameters: []function.Parameter{
			function.ListParameter{Name: "matchers", ElementType: types.StringType, MarkdownDescription: "Matchers such as `alertname=\"HighLatency\"` or `service=~\"api-.*\"`."},
			function.MapParameter{Name: "labels", ElementType: types.StringType, MarkdownDescription: "The label set."},
		},
		Return: function.BoolReturn{},
	}
}

func (f *matchesFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var matchers []string
	var labels map[string]string
	resp.Error = function.ConcatFuncErrors(resp.Error, req.Arguments.Get(ctx, &matchers, &labels))
	if resp.Error != nil {
		return
	}
	ms, err := runbooks.ParseMatchers(matchers)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, fmt.Sprintf("Invalid matcher: %v", err))
		return
	}
	ok := true
	for _, m := range ms {
		if !m.Matches(labels[m.Name]) {
			ok = false
			break
		}
	}
	resp.Error = function.ConcatFuncErrors(resp.Error, resp.Result.Set(ctx, ok))
}
